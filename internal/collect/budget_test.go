package collect_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// paidPlan is the request budget of a paid plan, for the fake sources.
type paidPlan struct{}

func (paidPlan) RequestsPerMinute() int          { return 1500 }
func (paidPlan) MinDuration(n int) time.Duration { return asana.MinDuration(n, 1500) }
func (paidPlan) SetRequestsPerMinute(int)        {}

// The fake sources list no roster and read no audit log.
func (paidPlan) EachMembershipPage(context.Context, string, asana.Detail, func() error, func(asana.MembershipPage) error) (int, error) {
	return 0, errors.New("no roster")
}

func (paidPlan) AuditLogPage(context.Context, string, asana.AuditQuery) (asana.AuditPage, error) {
	return asana.AuditPage{}, errors.New("no audit log")
}

// sized reports one workspace of pages pages, counted at once.
type sized struct {
	paidPlan
	pages int
}

func (s *sized) Workspaces(context.Context) ([]asana.Workspace, error) {
	return []asana.Workspace{{GID: "1", Name: "Big"}}, nil
}

func (s *sized) CountSeats(context.Context, string, asana.CountOptions) (asana.SeatListing, error) {
	return asana.SeatListing{Seats: asana.SeatCounts{Licensed: 100 * s.pages}, Pages: s.pages}, nil
}

// gaugeValue gathers c and returns its one series of name.
func gaugeValue(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := exposition.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := families.Sample(name)
	if n := len(families[name].GetMetric()); !ok || n != 1 {
		t.Fatalf("%d series of %s, want one", n, name)
	}
	return v
}

// An organisation of 1M memberships needs 10,001 requests, 6m42s at 1500 a
// minute: more than a 5m refresh. The exporter must say so, in the log once
// and in a metric, and say when it fits again. In a bubble, so that the
// published deadline is the cycle's whole 5 minutes.
func TestFallingBehindIsReportedFromTheLastCount(t *testing.T) {
	synctest.Test(t, fallingBehindIsReportedFromTheLastCount)
}

func fallingBehindIsReportedFromTheLastCount(t *testing.T) {
	src := &sized{pages: 10_000}
	var log bytes.Buffer
	r := collect.New(src, collect.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	c := collector.NewCollector(r.Snapshot, "")
	cycle := func() *collect.Snapshot {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return r.Refresh(ctx, nil)
	}

	if got := gaugeValue(t, c, "asana_refresh_falling_behind"); got != 0 {
		t.Errorf("before any cycle: falling behind %v", got)
	}
	snap := cycle()
	if !snap.FallingBehind || snap.Requests != 10_001 {
		t.Fatalf("1M memberships in 5m: falling behind %t, requests %d", snap.FallingBehind, snap.Requests)
	}
	if got, want := gaugeValue(t, c, "asana_refresh_min_duration_seconds"), (10_001.0-10)/(1490.0/60); got < want-0.01 || got > want+0.01 {
		t.Errorf("min duration %v s, want %v s", got, want)
	}
	if got := gaugeValue(t, c, "asana_refresh_deadline_seconds"); got != 300 {
		t.Errorf("deadline %v s, want 300", got)
	}
	if got := gaugeValue(t, c, "asana_refresh_falling_behind"); got != 1 {
		t.Errorf("falling behind %v, want 1", got)
	}
	if n := strings.Count(log.String(), "too big to count within the deadline"); n != 1 {
		t.Errorf("%d warnings after one cycle, want 1:\n%s", n, log.String())
	}
	for _, want := range []string{"requests_per_refresh=10001", "requests_per_minute=1500", "min_duration=6m42s", "deadline=5m0s", "raise --asana.refresh-interval"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the warning does not say %q:\n%s", want, log.String())
		}
	}

	cycle()
	if n := strings.Count(log.String(), "too big to count"); n != 1 {
		t.Errorf("%d warnings after two cycles, want 1 (only when it changes)", n)
	}

	src.pages = 100 // 10k memberships: 101 requests, 3.7 s
	if snap := cycle(); snap.FallingBehind {
		t.Errorf("10k memberships in 5m reported as falling behind: %+v", snap)
	}
	if !strings.Contains(log.String(), "can be counted within the deadline again") {
		t.Errorf("no log line when it fits again:\n%s", log.String())
	}
}

// Two organisations that share a token share its budget: a cycle of one is
// judged with the other's requests added, though it reports its own, and
// its snapshots name it. 6,000 requests fit 5 minutes at 1500 a minute;
// 6,000 and another organisation's 2,000 do not.
func TestASharedTokenIsJudgedWithTheOtherOrganizations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		others := 0
		var log bytes.Buffer
		r := collect.New(&sized{pages: 5_999}, collect.Options{Organization: "acme", Shared: func() int { return others },
			Logger: slog.New(slog.NewTextHandler(&log, nil))})
		if r.Snapshot().Organization != "acme" {
			t.Errorf("the first snapshot names %q", r.Snapshot().Organization)
		}
		cycle := func() *collect.Snapshot {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			return r.Refresh(ctx, nil)
		}
		if snap := cycle(); snap.FallingBehind || snap.Requests != 6_000 || snap.Organization != "acme" {
			t.Fatalf("alone: falling behind %t, requests %d, organisation %q; want false, 6000, acme", snap.FallingBehind, snap.Requests, snap.Organization)
		}
		others = 2_000
		snap := cycle()
		if !snap.FallingBehind || snap.Requests != 6_000 || snap.MinDuration != asana.MinDuration(8_000, 1500) {
			t.Errorf("sharing: falling behind %t, requests %d, min duration %v; want true, 6000, %v",
				snap.FallingBehind, snap.Requests, snap.MinDuration, asana.MinDuration(8_000, 1500))
		}
		if !strings.Contains(log.String(), "requests_per_refresh_of_organizations_sharing_the_token=2000") {
			t.Errorf("the warning does not count the others' requests:\n%s", log.String())
		}
	})
}

// The first count of a big organisation has no size to go on: the listing
// runs until the rate budget has no room before the deadline. That must be
// reported as falling behind at once, not waited out or taken for a fault.
// In a bubble, where the budget's pace and the deadline share a clock that
// a busy machine cannot slow.
func TestAListingThatRunsOutOfBudgetIsFallingBehind(t *testing.T) {
	synctest.Test(t, aListingThatRunsOutOfBudgetIsFallingBehind)
}

func aListingThatRunsOutOfBudgetIsFallingBehind(t *testing.T) {
	big := asanatest.WorkspaceSpec{Name: "Big", Licensed: 2_500} // 25 pages
	srv := asanatest.NewMemoryServer(asanatest.Generate(5, big), asanatest.Config{})
	t.Cleanup(srv.Close)
	client := srv.NewClient(func(o *asana.Options) { o.RequestsPerMinute = 60 }) // burst 6, then 0.9/s
	cfg, err := config.Parse([]byte("requests_per_minute: 60\n"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	r := collect.New(client, collect.Options{Config: func() *config.Config { return cfg }, Logger: slog.New(slog.NewTextHandler(&log, nil))})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	snap := r.Refresh(ctx, nil)
	took := time.Since(start)
	if len(snap.Workspaces) != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	w := snap.Workspaces[0]
	if w.Success || w.Seats != nil || !w.OutOfBudget {
		t.Errorf("a listing cut short by the budget: success %t, seats %v, out of budget %t", w.Success, w.Seats, w.OutOfBudget)
	}
	if !snap.FallingBehind {
		t.Error("not reported as falling behind")
	}
	// 6 requests at once, then one every 1.1 s: the 8th starts at 2.2 s, and
	// the 9th would start after the 3 s deadline, so the budget refuses it
	// then, without waiting for the deadline.
	if took > 2900*time.Millisecond {
		t.Errorf("the cycle took %v; the budget should refuse the request it cannot fit before the deadline", took)
	}
	if !strings.Contains(log.String(), "listing_stopped_by_budget=true") || !strings.Contains(log.String(), string(asana.ErrBudgetExhausted)) {
		t.Errorf("the log does not say the budget stopped the listing:\n%s", log.String())
	}
	if n := srv.Stats(asanatest.DefaultToken).RateLimited; n != 0 {
		t.Errorf("%d requests answered 429: the client must stay inside its budget", n)
	}
}

// unreachable fails the workspace listing with err, or lists one workspace
// when err is nil.
type unreachable struct {
	sized
	err error
}

func (u *unreachable) Workspaces(ctx context.Context) ([]asana.Workspace, error) {
	if u.err != nil {
		return nil, u.err
	}
	return u.sized.Workspaces(ctx)
}

// TestAFailureIsLoggedOnce: the same failure to list workspaces, cycle
// after cycle, is one error line (a revoked token would otherwise repeat it
// at every scrape); a different failure is another; recovery says so.
func TestAFailureIsLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	src := &unreachable{sized: sized{pages: 1}}
	r := collect.New(src, collect.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	revoked := &asana.Error{Kind: asana.ErrUnauthorized, StatusCode: 401, Endpoint: asana.EndpointWorkspaces}
	for _, err := range []error{revoked, revoked, revoked, &asana.Error{Kind: asana.ErrServer, StatusCode: 503}, nil, revoked} {
		src.err = err
		r.Refresh(context.Background(), nil)
	}
	text := logs.String()
	if n := strings.Count(text, "Cannot list Asana workspaces"); n != 3 {
		t.Errorf("%d error lines for 3 distinct failures:\n%s", n, text)
	}
	if n := strings.Count(text, "Asana can be reached again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, text)
	}
}

// failingMany lists n workspaces and fails to count every one.
type failingMany struct {
	paidPlan
	n int
}

func (f *failingMany) Workspaces(context.Context) ([]asana.Workspace, error) {
	ws := make([]asana.Workspace, f.n)
	for i := range ws {
		ws[i] = asana.Workspace{GID: strconv.Itoa(1000 + i), Name: "W"}
	}
	return ws, nil
}

func (f *failingMany) CountSeats(_ context.Context, gid string, _ asana.CountOptions) (asana.SeatListing, error) {
	return asana.SeatListing{}, &asana.Error{Kind: asana.ErrServer, StatusCode: 500, Endpoint: asana.EndpointWorkspaceMemberships}
}

// TestFailedWorkspacesAreOneLinePerCycle: 5,000 workspaces that fail alike
// are one error line with their count, not 5,000 lines.
func TestFailedWorkspacesAreOneLinePerCycle(t *testing.T) {
	var logs bytes.Buffer
	r := collect.New(&failingMany{n: 5000}, collect.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	snap := r.Refresh(context.Background(), nil)
	if len(snap.Workspaces) != 5000 || snap.Workspaces[4999].Success {
		t.Fatalf("%d workspaces in the snapshot", len(snap.Workspaces))
	}
	text := logs.String()
	if n := strings.Count(text, "Cannot count workspace memberships"); n != 1 {
		t.Fatalf("%d error lines for one cycle, want 1", n)
	}
	for _, want := range []string{"failed_workspaces=5000", "workspaces=5000", "distinct_errors=1", "first_workspace_gid=1000", "500 Internal Server Error"} {
		if !strings.Contains(text, want) {
			t.Errorf("the line lacks %q:\n%s", want, text)
		}
	}
}

// A reload hands the new requests_per_minute to every client: the audit
// log's own token kept its old budget before the collection owned both.
func TestReloadGivesEveryClientTheBudget(t *testing.T) {
	srv := asanatest.NewMemoryServer(asanatest.Generate(1, asanatest.Acme), asanatest.Config{})
	t.Cleanup(srv.Close)
	counts, audit := srv.NewClient(nil), srv.NewClient(nil)
	c := collect.New(counts, collect.Options{AuditSource: audit})
	next, err := config.Parse([]byte("requests_per_minute: 150\n"))
	if err != nil {
		t.Fatal(err)
	}
	commit, err := c.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	if counts.RequestsPerMinute() == 150 || audit.RequestsPerMinute() == 150 {
		t.Fatal("a budget changed before the reload committed")
	}
	commit()
	if got, want := [2]int{counts.RequestsPerMinute(), audit.RequestsPerMinute()}, [2]int{150, 150}; got != want {
		t.Errorf("after the reload: counts' and audit log's budgets %v, want %v", got, want)
	}
}
