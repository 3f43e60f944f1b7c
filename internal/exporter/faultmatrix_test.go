package exporter_test

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// cycleDeadline bounds one collection in the fault matrix: the refresh
// interval in background mode, the scrape timeout in on-scrape mode.
const cycleDeadline = 4 * time.Second

// TestFaultMatrix runs every scenario of the simulator's catalogue in both
// modes: a clean cycle, Globex grows by 5 seats, a cycle with the fault,
// then the fault clears and one more cycle must recover. Every cycle must
// end within its deadline; a faulty cycle publishes Globex's new complete
// count (if the fault is absorbed), its previous complete count (in the
// background), or nothing: never a partial number. The faults hit Globex
// only (page 3 and later: Acme has 2 pages).
//
// It runs with a token and again as an OAuth app whose access tokens last a
// second, so that renewals happen during the faults. Each row runs in a
// bubble: the deadlines, backoffs and Retry-After waits are the real
// client's, on a fake clock, so a busy machine changes no outcome.
func TestFaultMatrix(t *testing.T) {
	for _, oauth := range []bool{false, true} {
		for _, background := range []bool{true, false} {
			for _, sc := range asanatest.Scenarios {
				t.Run(map[bool]string{false: "token", true: "oauth"}[oauth]+"/"+mode(background)+"/"+sc.Name, func(t *testing.T) {
					t.Parallel()
					synctest.Test(t, func(t *testing.T) {
						faultScenario(t, sc, setup{background: background, deadline: cycleDeadline, offset: 500 * time.Millisecond, oauth: oauth})
					})
				})
			}
		}
	}
}

// faultScenario is one row of the matrix: sc under setup s.
func faultScenario(t *testing.T, sc asanatest.Scenario, s setup) {
	background := s.background
	p := newInProcess(t, s, asanatest.Acme, asanatest.Globex)
	acme, globex := p.gids[0], p.gids[1]
	families, _ := p.cycle(t)
	checkSeats(t, families, globex, p.truth[1])
	before := p.truth[1]
	p.growGlobex(5)
	for _, f := range sc.Faults {
		p.srv.Inject(f)
	}

	faulty, took := p.cycle(t)
	if took > cycleDeadline { // on the bubble's clock: no machine is too slow for it
		t.Errorf("the faulty cycle took %v; the deadline is %v", took, cycleDeadline)
	}
	success, _ := faulty.Sample("asana_collection_success", "workspace_gid="+globex)
	switch {
	case sc.Absorbed:
		if success != 1 {
			t.Errorf("Globex failed; the fault should have been absorbed")
		}
		checkSeats(t, faulty, globex, p.truth[1])
	case success != 0:
		t.Errorf("Globex reports success during the fault")
	case background:
		checkSeats(t, faulty, globex, before) // the last complete count
	default:
		if _, published := faulty.Seats(globex); published {
			t.Errorf("on-scrape mode published numbers for a failed Globex")
		}
	}
	if ok, _ := faulty.Sample("asana_collection_success", "workspace_gid="+acme); ok == 1 {
		checkSeats(t, faulty, acme, p.truth[0])
	} else if !sc.Revokes { // a revoked token may fail Acme too
		t.Errorf("Acme failed; the fault was on Globex's pages")
	}
	if up, _ := faulty.Sample("asana_up"); up != 1 {
		t.Errorf("asana_up = %v during a fault after the workspace listing", up)
	}
	for name, least := range map[string]int{"asana_api_retries_total": sc.Retries, "asana_api_rate_limited_total": sc.RateLimited} {
		if got := faulty.Sum(name); got < float64(least) {
			t.Errorf("%s = %v, want at least %d", name, got, least)
		}
	}
	if sc.Status != 0 && faulty.Sum("asana_api_requests_total", "code="+strconv.Itoa(sc.Status)) < 1 {
		t.Errorf("no request answered %d", sc.Status)
	}

	if sc.Revokes { // a revoked token also fails the next workspace listing
		down, _ := p.cycle(t)
		if up, _ := down.Sample("asana_up"); up != 0 {
			t.Errorf("asana_up = %v with a revoked token", up)
		}
		p.srv.RestoreTokens()
	}
	p.srv.ClearFaults()
	recovered, _ := p.cycle(t)
	if up, _ := recovered.Sample("asana_up"); up != 1 {
		t.Errorf("asana_up = %v after the fault cleared", up)
	}
	checkSeats(t, recovered, acme, p.truth[0])
	_, collected := recovered.Sample("asana_collection_success", "workspace_gid="+globex)
	switch {
	case sc.Deletes && collected:
		t.Errorf("the deleted Globex is still collected")
	case sc.Deletes:
	case !collected:
		t.Errorf("Globex is no longer collected")
	default:
		if ok, _ := recovered.Sample("asana_collection_success", "workspace_gid="+globex); ok != 1 {
			t.Errorf("Globex did not recover in the first cycle after the fault")
		}
		checkSeats(t, recovered, globex, p.truth[1])
	}
}

func mode(background bool) string {
	if background {
		return "background"
	}
	return "on-scrape"
}

// TestEmptyAndHugeWorkspaces: an empty workspace counts as zeros, and a
// workspace of 100,000 memberships is counted exactly, in exactly the
// requests it needs, in both modes. The budget is lifted: that the client
// keeps to it is asana's TestLimiterKeepsBurstInsideTheRate, and waiting
// out 40 s of it here would prove nothing more.
func TestEmptyAndHugeWorkspaces(t *testing.T) {
	empty := asanatest.WorkspaceSpec{Name: "Empty"}
	huge := asanatest.WorkspaceSpec{Name: "Huge", Licensed: 60_000, Admins: 40, ViewOnly: 10_000, Guests: 25_000, Inactive: 5_000}
	const requests = 1 + 1 + 1000 // the workspace listing, the empty one, the huge one
	for _, background := range []bool{true, false} {
		t.Run(mode(background), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := newInProcess(t, setup{background: background, deadline: time.Minute,
					api:    asanatest.Config{RequestsPerWindow: 1 << 30},
					client: func(o *asana.Options) { o.RequestsPerMinute = 1 << 30 }}, empty, huge)
				families, _ := p.cycle(t)
				checkSeats(t, families, p.gids[0], asana.SeatCounts{})
				checkSeats(t, families, p.gids[1], p.truth[1])
				if got := families.Sum("asana_api_requests_total"); got != requests {
					t.Errorf("%v requests; want exactly %d", got, requests)
				}
				if got := len(p.srv.Requests()); got != requests {
					t.Errorf("the simulator saw %d requests; want exactly %d", got, requests)
				}
			})
		})
	}
}
