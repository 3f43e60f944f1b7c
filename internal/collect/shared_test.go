package collect_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
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
}

func (s *slowOrg) Workspaces(context.Context) ([]asana.Workspace, error) {
	return []asana.Workspace{{GID: "1", Name: "Big"}}, nil
}

func (s *slowOrg) CountSeats(ctx context.Context, _ string, _ asana.CountOptions) (asana.SeatListing, error) {
	s.listings.Add(1)
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
// complete count, although the short one gave up.
func TestALongScrapeJoiningAShortOneGetsAFullCount(t *testing.T) {
	synctest.Test(t, aLongScrapeJoiningAShortOneGetsAFullCount)
}

func aLongScrapeJoiningAShortOneGetsAFullCount(t *testing.T) {
	src := &slowOrg{took: 600 * time.Millisecond}
	r := onScrape(src)
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
	if d := long.Deadline; d != 5*time.Second {
		t.Errorf("the shared cycle's deadline is %v, want the longest scrape's: 5s from when it joined, 50ms in, less the 50ms handover", d)
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
	// The scraper disconnects 20 ms in, before the cycle's deadline (its
	// 100 ms timeout less the handover).
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
// timeout gets a cycle bounded by its own, which ends in time to tell it
// which workspaces were counted.
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
	if s.Deadline <= 0 || s.Deadline > 300*time.Millisecond {
		t.Errorf("the second cycle's deadline is %v, want its own scrape's 300ms less the handover", s.Deadline)
	}
	if s != r.Snapshot() {
		t.Error("the second scrape did not get its cycle's published result")
	}
}
