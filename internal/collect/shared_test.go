package collect_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// slowOrg is one workspace whose count takes took, or fails with its
// context's error if that ends first. It counts the listings it starts.
// The tests that use it run in testing/synctest bubbles: took, the scrapes'
// timeouts and the waits between them are on a fake clock, so they keep
// their order however busy the machine.
type slowOrg struct {
	paidPlan
	took     time.Duration
	listings atomic.Int32
	// deadlines are the deadline of the first listing's context when it
	// started and when it ended.
	deadlines [2]time.Time
}

func (s *slowOrg) Workspaces(context.Context) ([]asana.Workspace, error) {
	return []asana.Workspace{{GID: "1", Name: "Big"}}, nil
}

func (s *slowOrg) CountSeats(ctx context.Context, _ string, _ asana.CountOptions) (asana.SeatListing, error) {
	first := s.listings.Add(1) == 1
	if first {
		s.deadlines[0], _ = ctx.Deadline()
		defer func() { s.deadlines[1], _ = ctx.Deadline() }()
	}
	select {
	case <-time.After(s.took):
		return asana.SeatListing{Seats: asana.SeatCounts{Licensed: 27}, Pages: 1}, nil
	case <-ctx.Done():
		return asana.SeatListing{}, ctx.Err()
	}
}

func onScrape(src collect.Source) *collect.Collection {
	return collect.New(src, collect.Options{})
}

func scrapeWithin(r *collect.Collection, ctx context.Context, timeout time.Duration) *collect.Snapshot {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return r.BeforeScrape(ctx)
}

func counted(s *collect.Snapshot) bool {
	return len(s.Workspaces) == 1 && s.Workspaces[0].Success && s.Workspaces[0].Seats.Licensed == 27
}

// A Prometheus HA pair, or two jobs with different timeouts: a scrape with a
// long timeout that joins the collection a short one started must get a
// complete count, although the short one gave up. The cycle's context is a
// standard one: its deadline does not move when the long scrape joins.
func TestALongScrapeJoiningAShortOneGetsAFullCount(t *testing.T) {
	synctest.Test(t, aLongScrapeJoiningAShortOneGetsAFullCount)
}

func aLongScrapeJoiningAShortOneGetsAFullCount(t *testing.T) {
	src := &slowOrg{took: 600 * time.Millisecond}
	r := onScrape(src)
	start := time.Now()
	short := make(chan *collect.Snapshot)
	var shortTook time.Duration
	go func() {
		start := time.Now()
		s := scrapeWithin(r, context.Background(), 200*time.Millisecond)
		shortTook = time.Since(start)
		short <- s
	}()
	time.Sleep(50 * time.Millisecond)
	long := scrapeWithin(r, context.Background(), 5*time.Second)

	if !counted(long) {
		t.Errorf("the long scrape got %+v, want a complete count", long.Workspaces)
	}
	if s := <-short; counted(s) {
		t.Errorf("the short scrape got a count it could not have waited for: %+v", s.Workspaces)
	}
	if shortTook != 200*time.Millisecond {
		t.Errorf("the short scrape waited %v; its own deadline was 200ms", shortTook)
	}
	if n := src.listings.Load(); n != 1 {
		t.Errorf("%d listings, want the one both scrapes shared", n)
	}
	if d := long.Deadline; d != 5050*time.Millisecond {
		t.Errorf("the shared cycle's deadline is %v, want the longest scrape's: 5s from when it joined, 50ms in", d)
	}
	if d := src.deadlines; !d[0].Equal(start.Add(5*time.Minute)) || !d[1].Equal(d[0]) {
		t.Errorf("the listing's context had deadline %v at its start and %v at its end, want the fixed %v", d[0], d[1], start.Add(5*time.Minute))
	}
}

// The scraper that started the collection disconnects after another joined
// it; the one that joined still gets its count.
func TestTheFirstScraperDisconnecting(t *testing.T) {
	synctest.Test(t, theFirstScraperDisconnecting)
}

func theFirstScraperDisconnecting(t *testing.T) {
	src := &slowOrg{took: 400 * time.Millisecond}
	r := onScrape(src)
	first, disconnect := context.WithCancel(context.Background())
	go r.BeforeScrape(first)
	time.Sleep(50 * time.Millisecond)
	joined := make(chan *collect.Snapshot)
	go func() { joined <- scrapeWithin(r, context.Background(), 5*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	disconnect()
	if s := <-joined; !counted(s) {
		t.Errorf("after the first scraper left: %+v, want a complete count", s.Workspaces)
	}
	if n := src.listings.Load(); n != 1 {
		t.Errorf("%d listings, want 1", n)
	}
}

// When every scraper has gone, the shared collection stops: nobody waits
// for its result, and it would spend the token's budget.
func TestACollectionNobodyWaitsForStops(t *testing.T) {
	synctest.Test(t, aCollectionNobodyWaitsForStops)
}

func aCollectionNobodyWaitsForStops(t *testing.T) {
	src := &slowOrg{took: time.Hour}
	r := onScrape(src)
	// The scraper disconnects 20 ms in, before its 100 ms timeout (less
	// the handover) would have stopped the cycle.
	ctx, disconnect := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, disconnect)
	start := time.Now()
	if s := scrapeWithin(r, ctx, 100*time.Millisecond); counted(s) {
		t.Fatal("counted an hour-long listing")
	}
	synctest.Wait() // the collection, if it stops, has stopped
	if took := time.Since(start); r.Snapshot().Deadline == 0 || took != 20*time.Millisecond {
		t.Fatalf("the abandoned collection did not stop when its scraper left, 20ms in: %v in, published %t", took, r.Snapshot().Deadline != 0)
	}
	if w := r.Snapshot().Workspaces; len(w) != 1 || w[0].Success || w[0].Seats != nil {
		t.Errorf("an abandoned collection published %+v", w)
	}
}

// The cycle's deadline is its own callers': a scrape after one with a long
// timeout gets a cycle bounded by its own, which it stops a handover before
// its deadline, in time to be told which workspaces were counted.
func TestACycleHasOnlyItsOwnCallersDeadline(t *testing.T) {
	synctest.Test(t, aCycleHasOnlyItsOwnCallersDeadline)
}

func aCycleHasOnlyItsOwnCallersDeadline(t *testing.T) {
	src := &slowOrg{}
	r := onScrape(src)
	if s := scrapeWithin(r, context.Background(), time.Minute); !counted(s) {
		t.Fatalf("first scrape: %+v", s.Workspaces)
	}
	src.took = time.Hour
	start := time.Now()
	s := scrapeWithin(r, context.Background(), 300*time.Millisecond)
	if took := time.Since(start); took != 250*time.Millisecond {
		t.Errorf("the second scrape took %v, want its 300ms timeout less the 50ms handover", took)
	}
	if s.Deadline != 300*time.Millisecond {
		t.Errorf("the second cycle's deadline is %v, want its own scrape's 300ms", s.Deadline)
	}
	if s != r.Snapshot() {
		t.Error("the second scrape did not get its cycle's published result")
	}
}

// A lone scraper whose timeout is too short for the organisation at the
// token's budget: a small workspace of 50 members and a big one of 25
// pages, at 60 requests a minute (6 at once, then one every 1.1 s). The
// client plans for the scraper's deadline, though the cycle's context has
// one of 5 minutes: once the next request cannot leave before it, the big
// workspace is out of budget, the cycle ends at once and the scraper gets
// the small workspace's count and the verdict that the organisation falls
// behind, as in the background.
func TestALoneShortScrapeGetsWhatWasCountedInTime(t *testing.T) {
	synctest.Test(t, aLoneShortScrapeGetsWhatWasCountedInTime)
}

func aLoneShortScrapeGetsWhatWasCountedInTime(t *testing.T) {
	small, big := asanatest.WorkspaceSpec{Name: "Small", Licensed: 50}, asanatest.WorkspaceSpec{Name: "Big", Licensed: 2_500}
	srv := asanatest.NewMemoryServer(asanatest.Generate(5, small, big), asanatest.Config{})
	t.Cleanup(srv.Close)
	client := srv.NewClient(func(o *asana.Options) { o.RequestsPerMinute = 60 })
	r := collect.New(client, collect.Options{})

	start := time.Now()
	s := scrapeWithin(r, context.Background(), 3*time.Second)
	// The 8th request leaves at 2.22 s; the 9th could not before 3.33 s.
	if took, want := time.Since(start), asana.MinDuration(8, 60); took != want {
		t.Errorf("the scrape took %v, want %v: the cycle ends when the budget allows no request before the deadline", took, want)
	}
	if !s.FallingBehind {
		t.Error("the snapshot does not say the organisation falls behind")
	}
	if s != r.Snapshot() {
		t.Error("the scrape did not get its cycle's published result")
	}
	for _, w := range s.Workspaces {
		if counted := w.Success && w.Seats != nil; counted != (w.Name == "Small") {
			t.Errorf("workspace %s: counted %t, err %v; want only the small one counted", w.Name, counted, w.Err)
		}
		if w.Name == "Big" && (!w.OutOfBudget || !errors.Is(w.Err, asana.ErrBudgetExhausted)) {
			t.Errorf("the big workspace: out of budget %t, err %v; want the budget's verdict", w.OutOfBudget, w.Err)
		}
	}
	if len(s.Workspaces) != 2 || s.Deadline != 3*time.Second {
		t.Errorf("%d workspaces, deadline %v; want 2 and the scrape's 3s", len(s.Workspaces), s.Deadline)
	}
	// 6 requests at once, then at 1.1 s and 2.2 s; the next is due at 3.3 s.
	if n := len(srv.Requests()); n != 8 {
		t.Errorf("%d requests, want the 8 the budget allows before the scrape's deadline", n)
	}
}
