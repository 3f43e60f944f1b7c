package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
)

// cycleDeadline bounds one collection in the fault matrix: the refresh
// interval in background mode, the scrape timeout in on-scrape mode.
const cycleDeadline = 6 * time.Second

// inProcess is the exporter as run wires it (newClient, newApp), against a
// simulated Asana, driven one collection at a time.
type inProcess struct {
	deadline time.Duration // of one collection
	srv      *asanatest.Server
	app      *app
	gids     []string
	truth    []asana.SeatCounts // what a complete count of each workspace finds
}

func newInProcess(t testing.TB, background bool, deadline time.Duration, specs ...asanatest.WorkspaceSpec) *inProcess {
	t.Helper()
	return wireInProcess(t, inProcessSetup{background: background, deadline: deadline, offset: 500 * time.Millisecond, newClient: newClient}, specs...)
}

// inProcessSetup is what differs between the in-process exporters.
type inProcessSetup struct {
	background bool
	deadline   time.Duration // of one collection
	offset     time.Duration // --asana.timeout-offset
	api        asanatest.Config
	// newClient makes the Asana client: main's newClient, or one tuned for
	// a test.
	newClient func(baseURL string, bearer *asana.Bearer, cfg *config.Config, m *collector.APIMetrics, logger *slog.Logger) (*asana.Client, error)
}

// wireInProcess starts a simulated organisation of specs and wires the
// exporter to it with newApp, as run does.
func wireInProcess(t testing.TB, s inProcessSetup, specs ...asanatest.WorkspaceSpec) *inProcess {
	t.Helper()
	p := &inProcess{deadline: s.deadline, srv: asanatest.NewServer(asanatest.Generate(11, specs...), s.api)}
	t.Cleanup(p.srv.Close)
	for _, spec := range specs {
		p.truth = append(p.truth, spec.Seats())
	}
	p.gids = workspaceGIDs(p.srv.API)
	bearer, err := asana.BearerToken(asanatest.DefaultToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Default()
	apiMetrics := collector.NewAPIMetrics()
	client, err := s.newClient(p.srv.BaseURL, bearer, cfg, apiMetrics, logger)
	if err != nil {
		t.Fatal(err)
	}
	f := &flags{telemetryPath: "/metrics", timeoutOffset: s.offset}
	if s.background {
		f.refreshInterval = s.deadline
	}
	if p.app, err = newApp(client, apiMetrics, bearer, cfg, f, logger); err != nil {
		t.Fatal(err)
	}
	return p
}

// cycle runs one collection the way the mode does, and returns what a scrape
// then sees and how long the collection took. Background mode does what
// Refresher.Run does at each tick: a Refresh bounded by the interval.
// On-scrape mode is a scrape announcing the deadline as its timeout.
func (p *inProcess) cycle(t *testing.T) (map[string]*dto.MetricFamily, time.Duration) {
	t.Helper()
	start := time.Now()
	if p.app.background {
		ctx, cancel := context.WithTimeout(context.Background(), p.deadline)
		p.app.refresher.Refresh(ctx)
		cancel()
	}
	families := p.scrape(t)
	return families, time.Since(start)
}

func (p *inProcess) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(p.deadline.Seconds(), 'f', -1, 64))
	rec := httptest.NewRecorder()
	p.app.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// growGlobex adds licensed members to Globex, so that a count that is
// stale, partial or doubled cannot pass for the truth.
func (p *inProcess) growGlobex(n int) {
	p.srv.Mutate(func(o *asanatest.Org) {
		for range n {
			o.AddMember(o.Workspaces[1], asanatest.Membership{IsActive: true})
		}
	})
	p.truth[1].Licensed += n
}

// counter sums a counter family's series whose labels include want.
func counter(families map[string]*dto.MetricFamily, name string, want ...string) float64 {
	var sum float64
next:
	for _, m := range families[name].GetMetric() {
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if !hasLabel(m, k, v) {
				continue next
			}
		}
		sum += m.GetCounter().GetValue()
	}
	return sum
}

// atLeast is a counter that must grow by at least min in the faulty cycle.
type atLeast struct {
	name   string
	labels []string
	min    float64
}

func retries(n float64) atLeast { return atLeast{"asana_api_retries_total", nil, n} }
func limited(n float64) atLeast { return atLeast{"asana_api_rate_limited_total", nil, n} }
func status(code string) atLeast {
	return atLeast{"asana_api_requests_total", []string{"code=" + code}, 1}
}

// faultCase is one row of the fault matrix. The faults hit Globex only
// (page 3 and later: Acme has 2 pages), unless the row says otherwise.
type faultCase struct {
	name   string
	faults []asanatest.Fault
	// absorbed: the client's retries or a restarted listing hide the fault,
	// and the faulty cycle still publishes Globex's complete count.
	absorbed bool
	counters []atLeast
	// clear ends the fault; ClearFaults by default.
	clear func(*inProcess)
	// down: the next cycle cannot even list workspaces (asana_up 0).
	down bool
}

var memberships = asana.EndpointWorkspaceMemberships

var faultMatrix = []faultCase{
	{name: "429 burst with Retry-After", absorbed: true,
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 2, Status: 429, RetryAfter: "1"}},
		counters: []atLeast{limited(2), retries(2)}},
	{name: "429 burst without Retry-After", absorbed: true,
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 2, Status: 429}},
		counters: []atLeast{limited(2), retries(2)}},
	{name: "429 on every attempt",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Status: 429, RetryAfter: "0"}},
		counters: []atLeast{limited(2), retries(1)}},
	{name: "429 with a Retry-After of a day",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Status: 429, RetryAfter: "86400"}},
		counters: []atLeast{limited(1)}},
	{name: "5xx burst", absorbed: true,
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 1, Status: 500}, {Route: memberships, Page: 3, Times: 1, Status: 503}},
		counters: []atLeast{retries(2)}},
	{name: "5xx that never ends",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Status: 503}},
		counters: []atLeast{retries(2)}},
	{name: "answer slower than the deadline",
		faults: []asanatest.Fault{{Route: memberships, Page: 3, Latency: time.Hour}}},
	{name: "body slower than the deadline",
		faults: []asanatest.Fault{{Route: memberships, Page: 3, SlowBody: time.Hour}}},
	{name: "connection reset mid-body once", absorbed: true,
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 1, Reset: true}},
		counters: []atLeast{retries(1)}},
	{name: "connection reset mid-body always",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Reset: true}},
		counters: []atLeast{retries(2)}},
	{name: "connection dropped",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Drop: true}},
		counters: []atLeast{retries(2)}},
	{name: "truncated body",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Truncate: true}},
		counters: []atLeast{retries(2)}},
	{name: "malformed JSON once", absorbed: true,
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 1, Malformed: true}},
		counters: []atLeast{retries(1)}},
	{name: "fields of the wrong type",
		faults: []asanatest.Fault{{Route: memberships, Page: 3, WrongTypes: true}}},
	{name: "offset expires mid-listing", absorbed: true,
		faults: []asanatest.Fault{{Route: memberships, Page: 4, Times: 1, ExpireOffset: true}}},
	{name: "token revoked mid-cycle", down: true,
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 1, Revoke: true}},
		counters: []atLeast{status("401")},
		clear:    func(p *inProcess) { p.srv.GrantToken(asanatest.DefaultToken, asanatest.FullAccess) }},
	{name: "workspace deleted mid-cycle",
		faults:   []asanatest.Fault{{Route: memberships, Page: 3, Times: 1, Delete: true}},
		counters: []atLeast{status("404")}},
}

// TestFaultMatrix runs every fault in both refresh modes: a clean cycle,
// Globex grows by 5 seats, a cycle with the fault, then the fault clears
// and one more cycle must recover. Every cycle must end within its
// deadline; a faulty cycle publishes Globex's new complete count (if the
// fault is absorbed), its previous complete count (background mode), or
// nothing: never a partial number.
func TestFaultMatrix(t *testing.T) {
	for _, mode := range []string{"background", "on-scrape"} {
		for _, fc := range faultMatrix {
			t.Run(mode+"/"+fc.name, func(t *testing.T) {
				t.Parallel()
				p := newInProcess(t, mode == "background", cycleDeadline, acmeSpec, globexSpec)
				acme, globex := p.gids[0], p.gids[1]
				families, _ := p.cycle(t)
				checkSeats(t, families, globex, p.truth[1], 0)
				before := p.truth[1]
				p.growGlobex(5)
				for _, f := range fc.faults {
					p.srv.Inject(f)
				}

				faulty, took := p.cycle(t)
				if took > cycleDeadline+time.Second {
					t.Errorf("the faulty cycle took %v; the deadline is %v", took.Round(time.Millisecond), cycleDeadline)
				}
				t.Logf("faulty cycle: %v", took.Round(time.Millisecond))
				success, _ := sample(faulty, "asana_collection_success", "workspace_gid="+globex)
				switch {
				case fc.absorbed:
					if success != 1 {
						t.Errorf("Globex failed; the fault should have been absorbed")
					}
					checkSeats(t, faulty, globex, p.truth[1], 0)
				case success != 0:
					t.Errorf("Globex reports success during the fault")
				case mode == "background":
					checkSeats(t, faulty, globex, before, 0) // the last complete count
				default:
					if v, ok := sample(faulty, "asana_workspace_members", "workspace_gid="+globex); ok {
						t.Errorf("on-scrape mode published a number for a failed Globex: %v", v)
					}
				}
				if ok, _ := sample(faulty, "asana_collection_success", "workspace_gid="+acme); ok == 1 {
					checkSeats(t, faulty, acme, p.truth[0], 0)
				} else if fc.name != "token revoked mid-cycle" {
					t.Errorf("Acme failed; the fault was on Globex's pages")
				}
				if up, _ := sample(faulty, "asana_up"); up != 1 {
					t.Errorf("asana_up = %v during a fault after the workspace listing", up)
				}
				for _, c := range fc.counters {
					if got := counter(faulty, c.name, c.labels...); got < c.min {
						t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, got, c.min)
					}
				}

				if fc.down { // a revoked token also fails the next workspace listing
					down, _ := p.cycle(t)
					if up, _ := sample(down, "asana_up"); up != 0 {
						t.Errorf("asana_up = %v with a revoked token", up)
					}
				}
				if fc.clear != nil {
					fc.clear(p)
				} else {
					p.srv.ClearFaults()
				}
				recovered, _ := p.cycle(t)
				if up, _ := sample(recovered, "asana_up"); up != 1 {
					t.Errorf("asana_up = %v after the fault cleared", up)
				}
				checkSeats(t, recovered, acme, p.truth[0], 0)
				if fc.name == "workspace deleted mid-cycle" {
					if _, ok := sample(recovered, "asana_collection_success", "workspace_gid="+globex); ok {
						t.Errorf("the deleted Globex is still collected")
					}
					return
				}
				if ok, _ := sample(recovered, "asana_collection_success", "workspace_gid="+globex); ok != 1 {
					t.Errorf("Globex did not recover in the first cycle after the fault")
				}
				checkSeats(t, recovered, globex, p.truth[1], 0)
			})
		}
	}
}

// TestEmptyAndHugeWorkspaces: an empty workspace counts as zeros, and a
// workspace of 100,000 memberships is counted exactly in both modes. Its
// 1,000 pages cannot come faster than the rate budget allows (1,500 requests
// a minute, 10 at once): about 40 s, which the test checks too.
func TestEmptyAndHugeWorkspaces(t *testing.T) {
	empty := asanatest.WorkspaceSpec{Name: "Empty"}
	huge := asanatest.WorkspaceSpec{Name: "Huge", Licensed: 60_000, Admins: 40, ViewOnly: 10_000, Guests: 25_000, Inactive: 5_000}
	const requests = 1 + 1 + 1000 // the workspace listing, the empty one, the huge one
	// A budget of 1500 a minute with a burst of 10 admits the first 10 at
	// once and the rest at (1500-10)/60 a second.
	floor := (requests - 10) * time.Minute / 1490
	for _, mode := range []string{"background", "on-scrape"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			p := newInProcess(t, mode == "background", 2*floor, empty, huge)
			families, took := p.cycle(t)
			checkSeats(t, families, p.gids[0], asana.SeatCounts{}, 0)
			checkSeats(t, families, p.gids[1], p.truth[1], 0)
			if got := counter(families, "asana_api_requests_total"); got != requests {
				t.Errorf("%v requests; want exactly %d", got, requests)
			}
			if took < floor*98/100 || took > floor*3/2 {
				t.Errorf("counting took %v; the rate budget allows no less than %v", took, floor)
			}
			t.Logf("%s: 100,000 memberships counted in %v (rate-budget floor %v)", mode, took.Round(time.Millisecond), floor.Round(time.Millisecond))
		})
	}
}
