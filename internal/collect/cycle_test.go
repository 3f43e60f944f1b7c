package collect_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

var update = flag.Bool("update", false, "rewrite golden files")

// clock is a settable time source.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock() *clock {
	c := &clock{}
	c.set(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	return c
}
func (c *clock) now() time.Time          { return *c.t.Load() }
func (c *clock) set(t time.Time)         { c.t.Store(&t) }
func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

type env struct {
	srv        *asanatest.Server
	gids       []string
	reg        *prometheus.Registry
	collection *collect.Collection
	clock      *clock
}

// newEnv wires a simulated Asana (in memory, so that a test may run in a
// testing/synctest bubble), a real client, a Collection and the collector
// into a fresh registry. configYAML may use {0}, {1}… for the generated
// workspace gids.
func newEnv(t *testing.T, background bool, configYAML string, specs ...asanatest.WorkspaceSpec) *env {
	t.Helper()
	e := &env{srv: asanatest.NewMemoryServer(asanatest.Generate(3, specs...), asanatest.Config{}), clock: newClock(), reg: prometheus.NewPedanticRegistry()}
	t.Cleanup(e.srv.Close)
	e.gids = e.srv.WorkspaceGIDs()
	for i, g := range e.gids {
		configYAML = strings.ReplaceAll(configYAML, "{"+string(rune('0'+i))+"}", g)
	}
	cfg, err := config.Parse([]byte(configYAML))
	if err != nil {
		t.Fatal(err)
	}
	api := collector.NewAPIMetrics()
	e.reg.MustRegister(api)
	client := e.srv.NewClient(func(o *asana.Options) {
		o.Observer, o.RetryBaseDelay, o.RetryMaxDelay, o.MaxAttempts = api, time.Millisecond, time.Millisecond, 2
	})
	var interval time.Duration
	if background {
		interval = 5 * time.Minute
	}
	e.collection = collect.New(client, collect.Options{Config: func() *config.Config { return cfg }, Interval: interval,
		Now: e.clock.now, Logger: slog.New(slog.DiscardHandler)})
	e.reg.MustRegister(collector.NewCollector(e.collection.Snapshot, e.collection.Freshness()))
	return e
}

func (e *env) seats(t *testing.T, gid string) *asana.SeatCounts {
	t.Helper()
	for _, w := range e.collection.Snapshot().Workspaces {
		if w.GID == gid {
			return w.Seats
		}
	}
	t.Fatalf("workspace %s not in the snapshot", gid)
	return nil
}

func (e *env) state(t *testing.T, gid string) collect.WorkspaceState {
	t.Helper()
	for _, w := range e.collection.Snapshot().Workspaces {
		if w.GID == gid {
			return w
		}
	}
	t.Fatalf("workspace %s not in the snapshot", gid)
	return collect.WorkspaceState{}
}

var side = asanatest.WorkspaceSpec{Name: "Side \"project\"", Licensed: 3, Guests: 1}
var personal = asanatest.WorkspaceSpec{Name: "Personal", Licensed: 1}

// goldenNames are compared; durations of real HTTP requests are not.
var goldenNames = []string{
	"asana_workspace_members", "asana_workspace_members_outside_email_domains", "asana_workspace_admins", "asana_workspace_seats_purchased", "asana_workspace_info",
	"asana_workspace_contract_renewal_timestamp_seconds",
	"asana_up", "asana_collection_success", "asana_collection_duration_seconds", "asana_collection_last_success_timestamp_seconds",
	"asana_api_requests_total", "asana_api_rate_limited_total", "asana_api_retries_total", "asana_api_duplicate_records_dropped_total",
}

func TestGoldenMetrics(t *testing.T) {
	e := newEnv(t, true, `
workspaces:
  - gid: "{0}"
    seats_purchased: 30
    renewal_date: 2027-03-31
  - gid: "1299999999999999"
    seats_purchased: 5
exclude_workspaces: ["{2}"]
`, asanatest.Acme, side, personal)
	e.collection.Refresh(context.Background(), nil)

	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		writeGolden(t, e.reg, golden)
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.GatherAndCompare(e.reg, f, goldenNames...); err != nil {
		t.Error(err)
	}
}

// writeGolden renders the golden metrics in the text format.
func writeGolden(t *testing.T, g prometheus.Gatherer, path string) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if slices.Contains(goldenNames, mf.GetName()) {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHalfCountedWorkspaceIsNeverPublished is the fault case of the issue:
// a listing that fails on its third page must not publish the two pages it
// read, in either mode.
func TestHalfCountedWorkspaceIsNeverPublished(t *testing.T) {
	big := asanatest.WorkspaceSpec{Name: "Big", Licensed: 400, Guests: 80}
	failPage3 := asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 3, Status: 500}

	t.Run("on scrape: no numbers", func(t *testing.T) {
		e := newEnv(t, false, "", big, side)
		e.srv.Inject(failPage3) // side has one page, so only Big fails
		e.collection.Refresh(context.Background(), nil)
		if s := e.state(t, e.gids[0]); s.Seats != nil || s.Success {
			t.Errorf("failed workspace published %+v (success %v)", s.Seats, s.Success)
		}
		if s := e.state(t, e.gids[1]); s.Seats == nil || *s.Seats != side.Seats() || !s.Success {
			t.Errorf("healthy workspace: %+v", s)
		}
		if err := testutil.GatherAndCompare(e.reg, strings.NewReader(`
# HELP asana_collection_success 1 if the last collection of the workspace's memberships completed, else 0. A failed collection publishes no new seat numbers.
# TYPE asana_collection_success gauge
asana_collection_success{workspace_gid="`+e.gids[0]+`"} 0
asana_collection_success{workspace_gid="`+e.gids[1]+`"} 1
`), "asana_collection_success"); err != nil {
			t.Error(err)
		}
		if n := testutil.CollectAndCount(e.reg, "asana_workspace_members"); n != 4 {
			t.Errorf("%d asana_workspace_members series, want only the healthy workspace's 4", n)
		}
	})

	t.Run("background: last complete numbers, then withdrawn", func(t *testing.T) {
		e := newEnv(t, true, "max_staleness: 30m", big, side)
		ctx := context.Background()
		e.collection.Refresh(ctx, nil)
		first := *e.seats(t, e.gids[0])
		firstSuccess := e.state(t, e.gids[0]).LastSuccess

		// 50 people join; then the listing breaks halfway.
		e.srv.Mutate(func(o *asanatest.Org) {
			for range 50 {
				o.AddMember(o.Workspaces[0], asanatest.Membership{IsActive: true})
			}
		})
		e.srv.Inject(failPage3)
		e.clock.advance(5 * time.Minute)
		e.collection.Refresh(ctx, nil)
		s := e.state(t, e.gids[0])
		if s.Success || s.Seats == nil || *s.Seats != first || !s.LastSuccess.Equal(firstSuccess) {
			t.Errorf("after a failed cycle: %+v; want the first complete numbers %+v from %v", s, first, firstSuccess)
		}

		e.clock.advance(26 * time.Minute) // 31m after the last success
		e.collection.Refresh(ctx, nil)
		if s := e.state(t, e.gids[0]); s.Seats != nil {
			t.Errorf("numbers older than max_staleness still published: %+v", s.Seats)
		}
		if s := e.state(t, e.gids[1]); s.Seats == nil || !s.Success {
			t.Errorf("healthy workspace affected: %+v", s)
		}

		e.srv.ClearFaults()
		e.collection.Refresh(ctx, nil)
		want := big.Seats()
		want.Licensed += 50
		if s := e.seats(t, e.gids[0]); s == nil || *s != want {
			t.Errorf("after recovery: %+v, want %+v", s, want)
		}
	})
}

func TestUpReflectsAuthentication(t *testing.T) {
	e := newEnv(t, true, "", side)
	ctx := context.Background()
	e.collection.Refresh(ctx, nil)
	if up := gaugeValue(t, collector.NewCollector(e.collection.Snapshot, ""), "asana_up"); !e.collection.Ready() || up != 1 {
		t.Fatal("not up after a good cycle")
	}
	e.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaces, Status: 401})
	e.collection.Refresh(ctx, nil)
	snap := e.collection.Snapshot()
	if snap.Up {
		t.Error("up after a 401")
	}
	if len(snap.Workspaces) != 1 || snap.Workspaces[0].Success || snap.Workspaces[0].Seats == nil {
		t.Errorf("workspace after a 401 within max staleness: %+v", snap.Workspaces)
	}
	if !e.collection.Ready() {
		t.Error("readiness is lost once reached")
	}
}

// N scrapes at once, each with its own timeout, make one cycle's requests.
// In a bubble, where all of them surely join before the cycle's 50 ms
// requests end.
func TestConcurrentScrapesShareOneCycle(t *testing.T) {
	synctest.Test(t, concurrentScrapesShareOneCycle)
}

func concurrentScrapesShareOneCycle(t *testing.T) {
	e := newEnv(t, false, "", asanatest.Acme, side)
	e.srv.Inject(asanatest.Fault{Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	snaps := make([]*collect.Snapshot, 10)
	start := make(chan struct{})
	for i := range snaps {
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(10+i)*time.Second)
			defer cancel()
			snaps[i] = e.collection.BeforeScrape(ctx)
		})
	}
	close(start)
	wg.Wait()
	// One cycle: /workspaces, 2 pages of Acme (183 memberships), 1 of side.
	if n := len(e.srv.Requests()); n != 4 {
		t.Errorf("10 concurrent scrapes made %d requests, want one cycle's 4", n)
	}
	for _, s := range snaps {
		if s != snaps[0] {
			t.Fatal("concurrent refreshes returned different snapshots")
		}
	}
}

func TestMetricsLintAndPrivacy(t *testing.T) {
	e := newEnv(t, true, "workspaces:\n  - gid: \"{0}\"\n    seats_purchased: 30\n    seat_price: 24.99\n    renewal_date: 2027-03-31\n", asanatest.Acme)
	e.collection.Refresh(context.Background(), nil)
	problems, err := testutil.GatherAndLint(e.reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %+v", err, problems)
	}
	var secrets []string
	e.srv.Mutate(func(o *asanatest.Org) {
		for _, m := range o.Workspaces[0].Memberships {
			secrets = append(secrets, m.User.Email, m.User.Name, m.User.GID)
		}
	})
	mfs, _ := e.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "@") || slices.Contains(secrets, l.GetValue()) {
					t.Errorf("%s carries a user's identity in %s=%q", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
		fromConfig := strings.Contains(mf.GetHelp(), "in the exporter's config file")
		if strings.HasPrefix(mf.GetName(), "asana_workspace_") && !fromConfig &&
			!strings.Contains(mf.GetHelp(), "Cached: refreshed every 5m0s") {
			t.Errorf("%s HELP does not say it is cached: %q", mf.GetName(), mf.GetHelp())
		}
	}
}

// panicky counts one workspace and panics on the other.
type panicky struct{ paidPlan }

func (panicky) Workspaces(context.Context) ([]asana.Workspace, error) {
	return []asana.Workspace{{GID: "1", Name: "fine"}, {GID: "2", Name: "buggy"}}, nil
}

func (panicky) CountSeats(_ context.Context, gid string, _ asana.CountOptions) (asana.SeatListing, error) {
	if gid == "2" {
		panic("bug")
	}
	return asana.SeatListing{Seats: asana.SeatCounts{Licensed: 7}}, nil
}

func TestAPanicCostsOneWorkspaceOneCycle(t *testing.T) {
	r := collect.New(panicky{}, collect.Options{})
	snap := r.Refresh(context.Background(), nil)
	if !snap.Up || len(snap.Workspaces) != 2 {
		t.Fatalf("snapshot %+v", snap)
	}
	fine, buggy := snap.Workspaces[0], snap.Workspaces[1]
	if !fine.Success || fine.Seats.Licensed != 7 {
		t.Errorf("healthy workspace: %+v", fine)
	}
	if buggy.Success || buggy.Seats != nil || buggy.Name != "buggy" {
		t.Errorf("panicking workspace: %+v", buggy)
	}
}

// TestWorkspacesAreCollectedConcurrentlyWithABound, in a bubble, where the
// second listing surely starts before the first one's 200 ms answer.
func TestWorkspacesAreCollectedConcurrentlyWithABound(t *testing.T) {
	synctest.Test(t, workspacesAreCollectedConcurrentlyWithABound)
}

func workspacesAreCollectedConcurrentlyWithABound(t *testing.T) {
	specs := make([]asanatest.WorkspaceSpec, 6)
	for i := range specs {
		specs[i] = asanatest.WorkspaceSpec{Licensed: 5}
	}
	e := newEnv(t, false, "workspace_concurrency: 2", specs...)
	e.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Latency: 200 * time.Millisecond})
	snap := e.collection.Refresh(context.Background(), nil)
	if len(snap.Workspaces) != 6 {
		t.Fatalf("%d workspaces", len(snap.Workspaces))
	}
	// Concurrent (2 at once, not 1) and bounded (not 6).
	if got := e.srv.Stats(asanatest.DefaultToken).MaxInFlight; got != 2 {
		t.Errorf("%d workspace listings in flight at once, want the bound of 2", got)
	}
}

// TestEmailDomainCheckIsAConfigChoice: with email_domain_check: false the
// listing leaves user.email out and no outside-domains series is exported;
// a plain workspace (no email domains) never has one.
func TestEmailDomainCheckIsAConfigChoice(t *testing.T) {
	for _, check := range []bool{true, false} {
		e := newEnv(t, true, "email_domain_check: "+strconv.FormatBool(check), asanatest.Acme, side)
		e.collection.Refresh(context.Background(), nil)
		want := 0
		if check {
			want = 3 // licensed, view_only and guest of Acme; none for the plain workspace
		}
		if n := testutil.CollectAndCount(e.reg, "asana_workspace_members_outside_email_domains"); n != want {
			t.Errorf("email_domain_check %v: %d outside-domains series, want %d", check, n, want)
		}
		asked := false
		for _, r := range e.srv.Requests() {
			asked = asked || strings.Contains(r.Query.Get("opt_fields"), "user.email")
		}
		if asked != check {
			t.Errorf("email_domain_check %v: user.email asked for: %v", check, asked)
		}
		if got := *e.seats(t, e.gids[0]); check && got != asanatest.Acme.SeatsWithDomains() {
			t.Errorf("Acme with the check: %+v, want %+v", got, asanatest.Acme.SeatsWithDomains())
		}
	}
}
