package exporter_test

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
	"github.com/asana-exporter/asana_exporter/internal/testutil/latency"
)

// soakCycles is how many collections each mode of TestSoak runs: a short
// soak under the race detector in `make test`; `make soak` runs thousands
// (ASANA_SOAK_CYCLES) without it.
func soakCycles(t *testing.T) int {
	if v := os.Getenv("ASANA_SOAK_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ASANA_SOAK_CYCLES=%q is not a positive number", v)
		}
		return n
	}
	return 150
}

// newSoakTarget is the exporter wired as main wires it, except that
// retries wait milliseconds instead of seconds and the rate budget is
// lifted, so that thousands of faulty cycles fit in a test; what is measured
// is resource hygiene and truthfulness, not timing. Unlike the other tests
// it runs on the real clock, over loopback, so that deadlines also fire in
// the middle of work and connections are real sockets; none of its
// assertions depends on when a deadline fires.
func newSoakTarget(t *testing.T, background bool) *inProcess {
	t.Helper()
	return newInProcess(t, setup{
		loopback: true, background: background, deadline: 300 * time.Millisecond, offset: 50 * time.Millisecond,
		api: asanatest.Config{RequestsPerWindow: 1 << 30},
		client: func(o *asana.Options) {
			o.RequestsPerMinute, o.RetryBaseDelay, o.RetryMaxDelay = 1<<30, time.Millisecond, 5*time.Millisecond
		},
	}, asanatest.Acme, asanatest.Globex)
}

// randomFault is one of the catalogue's faults (or a failing workspace
// listing), on a random page, for one to six requests (the client tries five
// times). Slow faults are rare and last a second: each costs a deadline.
func randomFault(rng *rand.Rand) asanatest.Fault {
	if rng.IntN(len(asanatest.Scenarios)+1) == 0 {
		return asanatest.Fault{Route: asana.EndpointWorkspaces, Status: 503, Times: 1 + rng.IntN(6)}
	}
	sc := asanatest.Scenarios[rng.IntN(len(asanatest.Scenarios))]
	for sc.Slow && rng.IntN(10) != 0 || sc.Revokes || sc.Deletes { // the soak's organisation stays whole
		sc = asanatest.Scenarios[rng.IntN(len(asanatest.Scenarios))]
	}
	f := sc.Faults[rng.IntN(len(sc.Faults))]
	f.Page, f.Times = 1+rng.IntN(6), 1+rng.IntN(6)
	f.Latency, f.SlowBody = min(f.Latency, time.Second), min(f.SlowBody, time.Second)
	return f
}

// resources is what a leak would grow.
type resources struct {
	goroutines int
	heap       uint64
	fds        int
}

func measure(t *testing.T) resources {
	t.Helper()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	runtime.GC()
	r := resources{goroutines: runtime.NumGoroutine()}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heap = ms.HeapAlloc
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	r.fds = len(fds)
	return r
}

// settle waits, for up to a minute, until at most n goroutines run: those
// of closed connections and finished requests exit in their own time, later
// on a busy machine, and a leak never does.
func settle(n int) {
	for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSoak runs thousands of collections with random faults in each mode.
// After every one, each workspace publishes its true count or nothing; at
// the end, goroutines, heap and open files are back to the baseline taken
// after a warm-up, within a tolerance.
func TestSoak(t *testing.T) {
	cycles := soakCycles(t)
	for _, mode := range []string{"background", "on-scrape"} {
		t.Run(mode, func(t *testing.T) {
			p := newSoakTarget(t, mode == "background")
			rng := rand.New(rand.NewPCG(1, uint64(len(mode))))
			var failed, faulted int
			run := func(n int) {
				for range n {
					p.srv.ClearFaults()
					p.srv.ResetRequests() // the simulator's log is not the exporter's heap
					if rng.IntN(2) == 0 {
						faulted++
						p.srv.Inject(randomFault(rng))
					}
					families, _ := p.cycle(t)
					for i, gid := range p.gids {
						if ok, _ := families.Sample("asana_collection_success", "workspace_gid="+gid); ok != 1 {
							failed++
						}
						if _, published := families.Seats(gid); published {
							checkSeats(t, families, gid, p.truth[i])
						}
					}
					if t.Failed() {
						t.Fatalf("a false number after %d faulty cycles", faulted)
					}
				}
			}
			run(100) // warm-up: pools, caches and the race detector's shadow memory
			base := measure(t)
			start := time.Now()
			run(cycles)
			took := time.Since(start)
			settle(base.goroutines + 5)
			end := measure(t)
			t.Logf("%d cycles in %v (%d with a fault, %d workspace failures); goroutines %d -> %d, heap %.1f -> %.1f MiB, fds %d -> %d",
				cycles, took.Round(time.Millisecond), faulted, failed, base.goroutines, end.goroutines,
				float64(base.heap)/(1<<20), float64(end.heap)/(1<<20), base.fds, end.fds)
			if end.goroutines > base.goroutines+5 {
				t.Errorf("goroutines grew from %d to %d", base.goroutines, end.goroutines)
			}
			if end.heap > base.heap+4<<20 {
				t.Errorf("heap grew from %d to %d bytes", base.heap, end.heap)
			}
			if end.fds > base.fds+5 {
				t.Errorf("open files grew from %d to %d", base.fds, end.fds)
			}
			if failed == 0 {
				t.Error("no workspace ever failed: the faults did not bite")
			}
		})
	}
}

// TestScrapeStormOnScrape: 200 concurrent scrapes in on-scrape mode share
// one collection: one workspace listing and one listing per workspace. In a
// bubble, where the slowed workspace listing surely outlasts the arrival of
// every scrape.
func TestScrapeStormOnScrape(t *testing.T) { synctest.Test(t, scrapeStormOnScrape) }

func scrapeStormOnScrape(t *testing.T) {
	p := newInProcess(t, setup{deadline: 10 * time.Second}, asanatest.Acme, asanatest.Globex)
	p.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaces, Latency: 500 * time.Millisecond})
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			rec := p.serve(t, "/metrics", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"10"}})
			families, err := exposition.Parse(rec.Body)
			if rec.Code != http.StatusOK || err != nil {
				t.Errorf("scrape: %d %v", rec.Code, err)
				return
			}
			for i, gid := range p.gids {
				checkSeats(t, families, gid, p.truth[i])
			}
		})
	}
	wg.Wait()
	byRoute := map[string]int{}
	for _, r := range p.srv.Requests() {
		byRoute[r.Route]++
	}
	if byRoute[asana.EndpointWorkspaces] != 1 || byRoute[asana.EndpointWorkspaceMemberships] != 2+6 {
		t.Errorf("200 concurrent scrapes sent %v; want one collection: 1 workspace listing, 8 membership pages", byRoute)
	}
}

// BenchmarkScrapeStorm measures /metrics latency in background mode while
// 200 scrapers hit it at once over loopback HTTP: p50 and p99 per scrape.
func BenchmarkScrapeStorm(b *testing.B) {
	p := newInProcess(b, setup{background: true, deadline: time.Minute}, asanatest.Acme, asanatest.Globex)
	p.cycle(b)
	srv := httptest.NewServer(p.exp.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}
	var lat latency.Recorder
	b.SetParallelism(200 / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			resp, err := client.Get(srv.URL + "/metrics")
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			mine = append(mine, time.Since(start))
		}
		lat.Add(mine)
	})
	b.StopTimer()
	q := lat.Quantiles(0.50, 0.99)
	b.ReportMetric(q[0], "p50-ms")
	b.ReportMetric(q[1], "p99-ms")
}
