package e2e

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// BenchmarkEndToEnd runs the built exporter, in its own process, against the
// simulated Asana answering every request after a fixed latency, and then
// Asana's official Node client over the same memberships. One iteration per
// case: run it with -benchtime=1x (make bench does). Environment:
//
//	ASANA_BENCH_CASES    comma-separated case names (default: all)
//	ASANA_BENCH_RTT      latency per request (default 50ms)
//	ASANA_BENCH_REPEATS  runs of each case (default 1; make bench runs 3):
//	                     each figure is reported as the median of the
//	                     runs, and the log gives every ratio's range
func BenchmarkEndToEnd(b *testing.B) {
	rtt := 50 * time.Millisecond
	if v := os.Getenv("ASANA_BENCH_RTT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("ASANA_BENCH_RTT: %v", err)
		}
		rtt = d
	}
	only := strings.Split(os.Getenv("ASANA_BENCH_CASES"), ",")
	repeats := 1
	if v := os.Getenv("ASANA_BENCH_REPEATS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("ASANA_BENCH_REPEATS=%q: want a count of 1 or more", v)
		}
		repeats = n
	}
	for _, c := range []benchCase{
		{name: "1k", workspaces: 1, members: 1_000},
		{name: "10k", workspaces: 1, members: 10_000},
		{name: "10k-no-email", workspaces: 1, members: 10_000, config: "email_domain_check: false\n"},
		{name: "10k-tls", workspaces: 1, members: 10_000, tls: true},
		{name: "100k", workspaces: 1, members: 100_000},
		{name: "10x10k", workspaces: 10, members: 10_000},
		{name: "1M", workspaces: 1, members: 1_000_000},
		{name: "roster-10k", workspaces: 1, members: 10_000, roster: true},
		{name: "roster-1M", workspaces: 1, members: 1_000_000, roster: true},
		{name: "audit-backfill-10k", workspaces: 1, members: 10_000, audit: true},
		{name: "reconcile-1M", members: 1_000_000, reconcile: true},
		{name: "orgs-10k+5k+5k+2k", organizations: []int{10_000, 5_000, 5_000, 2_000}},
	} {
		if only[0] != "" && !slices.Contains(only, c.name) {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				var runs []results
				for i := range repeats {
					res := results{}
					switch {
					case c.roster:
						runRoster(b, c, rtt, res)
					case c.audit:
						runAuditBackfill(b, c, rtt, res)
					case c.reconcile:
						runReconcile(b, c, res)
					case c.organizations != nil:
						runOrganizations(b, c, rtt, res)
					default:
						runEndToEnd(b, c, rtt, res)
					}
					b.Logf("run %d of %d: %s", i+1, repeats, res)
					runs = append(runs, res)
				}
				reportMedians(b, runs)
			}
		})
	}
}

type benchCase struct {
	name       string
	workspaces int
	members    int // per workspace
	// tls serves the simulator over HTTPS (HTTP/1.1), as Asana is served,
	// so that every connection a client opens costs it a TLS handshake.
	tls bool
	// config is the exporter's config file, if any.
	config string
	// roster runs `asana_exporter seats --output=FILE` instead of the
	// exporter's refresh.
	roster bool
	// audit measures the first start's read of 90 days of audit log
	// instead: members users logging in daily.
	audit bool
	// reconcile runs `asana_exporter seats --demo --reconcile=FILE` on an
	// Admin Console export of members rows instead.
	reconcile bool
	// organizations counts several organisations instead, one workspace of
	// each size given, each organisation with its own token.
	organizations []int
}

// floors are the least time a listing of c can take at rtt a request: its
// pages one after another, or the rate budget for every request, whichever
// is longer. It returns that, the pages of the longest listing and the
// requests a complete listing needs.
func floors(c benchCase, rtt time.Duration) (floor time.Duration, pages, minRequests int) {
	pages = (c.members + asana.PageLimit - 1) / asana.PageLimit
	minRequests = 1 + c.workspaces*pages // GET /workspaces, then the pages
	floor = max(time.Duration(1+pages)*rtt, asana.MinDuration(minRequests, 1500)+rtt)
	return floor, pages, minRequests
}

// lastMaxRSS reads the peak RSS internal/maxrss printed last on stderr.
func lastMaxRSS(stderr string) (int64, error) {
	i := strings.LastIndex(stderr, "maxrss ")
	var rss int64
	if i < 0 {
		return 0, fmt.Errorf("internal/maxrss printed no peak RSS: %q", stderr)
	}
	if _, err := fmt.Sscanf(stderr[i:], "maxrss %d", &rss); err != nil {
		return 0, fmt.Errorf("internal/maxrss printed %q: %v", stderr[i:], err)
	}
	return rss, nil
}

// runRoster runs the seats command against a simulator answering after rtt,
// writing the roster to a file, and reports its wall time against the
// floor, its requests against the minimum and its peak RSS.
func runRoster(b *testing.B, c benchCase, rtt time.Duration, res results) {
	api := asanatest.NewAPI(asanatest.Generate(1, orgSpec("Roster", c.members)), asanatest.Config{OffsetTTL: time.Hour})
	api.Inject(asanatest.Fault{Latency: rtt})
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := b.TempDir()
	tokenFile, output := filepath.Join(dir, "token"), filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(tokenFile, []byte(asanatest.DefaultToken), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(helperBinary(b, "maxrss"), exporterBinary(b), "seats", "--asana.url="+srv.URL+"/api/1.0", "--asana.token-file="+tokenFile, "--output="+output)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("seats: %v\n%s", err, errOut.String())
	}
	wall := time.Since(start)
	rss, err := lastMaxRSS(errOut.String())
	if err != nil {
		b.Fatal(err)
	}
	// The helper's own CPU is a few milliseconds of a run of seconds.
	rusage, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	f, err := os.Open(output)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows := -1 // the header
	for sc := bufio.NewScanner(f); sc.Scan(); {
		rows++
	}
	if rows != c.members {
		b.Fatalf("the roster has %d rows, want %d", rows, c.members)
	}
	floor, pages, minRequests := floors(c, rtt)
	served := servedFloor{listings: map[string]time.Duration{}}
	requests := 0
	for _, r := range api.Requests() {
		requests++
		served.add(r)
	}
	floorServed := max(served.longest(), asana.MinDuration(minRequests, 1500)+rtt)
	res["wall-s"] = wall.Seconds()
	res["wall/floor"] = wall.Seconds() / floor.Seconds()
	res["wall/served-floor"] = wall.Seconds() / floorServed.Seconds()
	res["bytes/request"] = float64(served.bytes) / float64(requests)
	res["requests"] = float64(requests)
	res["redundant-requests"] = float64(requests - minRequests)
	res["peak-rss-MiB"] = float64(rss) / (1 << 20)
	res["cpu-ns/member"] = float64((rusage.Utime.Nano() + rusage.Stime.Nano()) / int64(c.members))
	b.Logf("roster of %d memberships: %v (floor %v: %d pages × %v, or %d requests at 1500/min; served floor %v), %d requests (minimum %d), peak RSS %.1f MiB",
		c.members, wall.Round(time.Millisecond), floor.Round(time.Millisecond), pages, rtt, minRequests, floorServed.Round(time.Millisecond),
		requests, minRequests, float64(rss)/(1<<20))
}

// maxReconcileRSS is issue 25's bound on the peak RSS of a reconcile of a
// 10^6-row console export, for the whole process.
const maxReconcileRSS = 200 << 20

// runReconcile compares the demo organisation with its Acme's Admin Console
// export followed by generated people up to c.members rows, all of them
// only in the console, and fails if the process's peak RSS exceeds
// maxReconcileRSS. No latency: the demo is served in the process.
func runReconcile(b *testing.B, c benchCase, res results) {
	path := filepath.Join(b.TempDir(), "console.csv")
	if out, err := exec.Command(exporterBinary(b), "seats", "--demo", "--demo.console-export="+path).CombinedOutput(); err != nil {
		b.Fatalf("--demo.console-export: %v\n%s", err, out)
	}
	acme, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	acmeRows := bytes.Count(acme, []byte("\n")) - 1 // the header
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	generated := c.members - acmeRows
	for i := range generated {
		fmt.Fprintf(w, "Generated Person %07d,generated.person.%07d@acme.example,%s,2025-01-01,2025-06-30\n", i, i, []string{"Member", "Guest", "View only", "Admin"}[i%4])
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		b.Fatal(err)
	}

	cmd := exec.Command(helperBinary(b, "maxrss"), exporterBinary(b), "seats", "--demo", "--quiet", "--format=csv", "--reconcile="+path)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	findings := map[string]int{}
	r := csv.NewReader(stdout)
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(rec) < 2 {
			b.Fatalf("the findings are not CSV: %v", err)
		}
		findings[rec[1]]++
	}
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 1 { // they differ
		b.Fatalf("seats --reconcile: %v, want exit status 1\n%s", err, errOut.String())
	}
	wall := time.Since(start)
	rss, err := lastMaxRSS(errOut.String())
	if err != nil {
		b.Fatal(err)
	}
	// Acme's export lists one person the API does not (a former
	// contractor); every other row of it is in the API.
	if findings["only_in_console"] != generated+1 || findings["match"]+findings["disagree"] != acmeRows-1 {
		b.Fatalf("findings %v: want %d only in the console and %d in both", findings, generated+1, acmeRows-1)
	}
	rusage, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res["wall-s"] = wall.Seconds()
	res["peak-rss-MiB"] = float64(rss) / (1 << 20)
	res["cpu-ns/row"] = float64((rusage.Utime.Nano() + rusage.Stime.Nano()) / int64(c.members))
	b.Logf("reconcile of a %d-row console export: %v, peak RSS %.1f MiB (bound %d MiB)", c.members, wall.Round(time.Millisecond),
		float64(rss)/(1<<20), maxReconcileRSS>>20)
	if rss > maxReconcileRSS {
		b.Fatalf("peak RSS %.1f MiB, above issue 25's %d MiB", float64(rss)/(1<<20), maxReconcileRSS>>20)
	}
}

// orgSpec splits n memberships the way a real organisation might.
func orgSpec(name string, n int) asanatest.WorkspaceSpec {
	licensed := n * 60 / 100
	return asanatest.WorkspaceSpec{Name: name, IsOrganization: true, Licensed: licensed, Admins: max(1, n/200),
		ViewOnly: n * 5 / 100, Guests: n * 25 / 100, Inactive: n - licensed - n*5/100 - n*25/100}
}

// cycleProbe wraps the simulated API and notes when the exporter's first
// refresh begins: its second GET /workspaces (the first is the startup
// check). It samples the exporter's CPU time at that instant. It also counts
// the TCP connections the simulator accepts.
type cycleProbe struct {
	next      http.Handler
	pid       atomic.Int64
	lists     atomic.Int32
	start     atomic.Pointer[time.Time]
	startCPU  atomic.Int64
	startSeen chan struct{}
	conns     atomic.Int64 // TCP connections the simulator has accepted
}

// countConn is the simulator's http.Server.ConnState hook.
func (p *cycleProbe) countConn(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		p.conns.Add(1)
	}
}

func (p *cycleProbe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/workspaces") && p.lists.Add(1) == 2 {
		now := time.Now()
		p.startCPU.Store(int64(cpuTime(int(p.pid.Load()))))
		p.start.Store(&now)
		close(p.startSeen)
	}
	p.next.ServeHTTP(w, r)
}

// cpuTime is the on-CPU time of every thread of process pid, from
// /proc/<pid>/task/*/schedstat (nanoseconds, unlike /proc/<pid>/stat's
// 10 ms ticks).
func cpuTime(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total int64
	for _, f := range tasks {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that just exited
		}
		fields := strings.Fields(string(raw))
		if len(fields) > 0 {
			ns, _ := strconv.ParseInt(fields[0], 10, 64)
			total += ns
		}
	}
	return time.Duration(total)
}

// peakRSS is VmHWM of process pid, in bytes.
func peakRSS(pid int) int64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func runEndToEnd(b *testing.B, c benchCase, rtt time.Duration, res results) {
	workspaces, members := c.workspaces, c.members
	specs := make([]asanatest.WorkspaceSpec, workspaces)
	var want asana.SeatCounts
	for i := range specs {
		specs[i] = orgSpec(fmt.Sprintf("Workspace %d", i), members)
		s := specs[i].Seats()
		want.Licensed, want.ViewOnly, want.Guest, want.Inactive, want.Admins =
			want.Licensed+s.Licensed, want.ViewOnly+s.ViewOnly, want.Guest+s.Guest, want.Inactive+s.Inactive, want.Admins+s.Admins
	}
	floor, pages, minRequests := floors(c, rtt)
	api := asanatest.NewAPI(asanatest.Generate(1, specs...), asanatest.Config{OffsetTTL: time.Hour})
	api.Inject(asanatest.Fault{Latency: rtt})
	probe := &cycleProbe{next: api, startSeen: make(chan struct{})}
	srv := httptest.NewUnstartedServer(probe)
	srv.Config.ConnState = probe.countConn
	dir := b.TempDir()
	clientEnv := os.Environ()
	if c.tls {
		srv.StartTLS()
		// Both clients trust the simulator's certificate through the
		// variables their TLS stacks read.
		caFile := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
			b.Fatal(err)
		}
		clientEnv = append(clientEnv, "SSL_CERT_FILE="+caFile, "NODE_EXTRA_CA_CERTS="+caFile)
	} else {
		srv.Start()
	}
	defer srv.Close()
	baseURL := srv.URL + "/api/1.0"

	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(asanatest.DefaultToken), 0o600); err != nil {
		b.Fatal(err)
	}
	addr := freeAddress(b)
	args := []string{"--web.listen-address=" + addr, "--asana.url=" + baseURL, "--asana.token-file=" + tokenFile,
		"--asana.refresh-interval=1h", "--log.level=debug", "--log.format=json"}
	if c.config != "" {
		configFile := filepath.Join(dir, "asana.yml")
		if err := os.WriteFile(configFile, []byte(c.config), 0o600); err != nil {
			b.Fatal(err)
		}
		args = append(args, "--config.file="+configFile)
	}
	cmd := exec.Command(exporterBinary(b), args...)
	cmd.Env = clientEnv
	// The refresh ends when the log says every workspace was counted.
	counted := startLogging(b, cmd, `"msg":"Counted workspace memberships"`, workspaces)
	defer counted.stop()
	probe.pid.Store(int64(cmd.Process.Pid))
	timeout := time.Duration(minRequests)*rtt*2 + 2*time.Minute
	select {
	case <-counted.seen:
	case <-time.After(timeout):
		b.Fatalf("the refresh did not finish in %v:\n%s", timeout, counted.tail())
	}
	// Every connection so far is the exporter's, the startup check's
	// included: the CPU floor and the Node client run after it.
	end, endCPU, conns := time.Now(), cpuTime(cmd.Process.Pid), probe.conns.Load()
	<-probe.startSeen
	start := *probe.start.Load()
	wall := end.Sub(start)
	cpu := endCPU - time.Duration(probe.startCPU.Load())
	rss := peakRSS(cmd.Process.Pid)

	requests, served := 0, servedFloor{listings: map[string]time.Duration{}}
	for _, r := range api.Requests() {
		if !r.Time.Before(start) {
			requests++
			served.add(r)
		}
	}
	// The nominal floor (floors) takes a round trip to be the injected
	// latency; the served floor takes the time the simulator really took
	// to answer each request, rendering included, which no client can beat
	// either.
	floorServed := max(served.longest(), asana.MinDuration(minRequests, 1500)+rtt)

	e := &exporterProcess{addr: addr} // run above, to read its log as it comes
	e.waitFor(b, "/-/ready")
	_, families := e.scrape(b, "")
	got := asana.SeatCounts{
		Licensed: int(families.Sum("asana_workspace_members", "state=licensed")),
		ViewOnly: int(families.Sum("asana_workspace_members", "state=view_only")),
		Guest:    int(families.Sum("asana_workspace_members", "state=guest")),
		Inactive: int(families.Sum("asana_workspace_members", "state=inactive")),
		Admins:   int(families.Sum("asana_workspace_admins")),
	}
	if got != want {
		b.Fatalf("the exporter published %+v, want %+v", got, want)
	}

	p50, p99 := scrapeLatency(b, e.url("/metrics"), 50, 100*time.Millisecond, 5*time.Second)
	body, _ := e.scrape(b, "")
	floorP50, floorP99 := scrapeFloor(b, body, 50, 100*time.Millisecond, 5*time.Second)
	res["scrape-p50/floor"], res["scrape-p99/floor"] = p50/floorP50, p99/floorP99
	res["floor-scrape-p99-ms"] = floorP99

	total := workspaces * members
	res["wall-s"] = wall.Seconds()
	res["wall/floor"] = wall.Seconds() / floor.Seconds()
	res["wall/served-floor"] = wall.Seconds() / floorServed.Seconds()
	res["requests"] = float64(requests)
	res["redundant-requests"] = float64(requests - minRequests)
	res["bytes/request"] = float64(served.bytes) / float64(requests)
	res["cpu-ns/member"] = float64(cpu.Nanoseconds()) / float64(total)
	res["peak-rss-MiB"] = float64(rss) / (1 << 20)
	res["connections"] = float64(conns)
	res["scrape-p50-ms"] = p50
	res["scrape-p99-ms"] = p99
	b.Logf("%d memberships in %d workspace(s): refresh %v (floor %v: %d pages × %v, or %d requests at 1500/min; served floor %v), %d requests (minimum %d), %d connection(s) since startup, CPU %v, peak RSS %.1f MiB",
		total, workspaces, wall.Round(time.Millisecond), floor.Round(time.Millisecond), pages, rtt, minRequests, floorServed.Round(time.Millisecond),
		requests, minRequests, conns, cpu.Round(time.Microsecond), float64(rss)/(1<<20))

	if workspaces == 1 {
		if !c.tls { // cpufloor speaks plain HTTP
			floorRun := runCPUFloor(b, srv.Listener.Addr().String(), api, pages)
			res["floor-cpu-ns/member"] = float64(floorRun.cpu.Nanoseconds()) / float64(total)
			res["cpu/floor-cpu"] = float64(cpu) / float64(floorRun.cpu)
			b.Logf("CPU floor (internal/cpufloor): listing %v, CPU %v", floorRun.wall.Round(time.Millisecond), floorRun.cpu.Round(time.Microsecond))
		}

		nodeConnsBefore := probe.conns.Load()
		node := runNodeBench(b, baseURL, clientEnv, api, want)
		nodeConns := probe.conns.Load() - nodeConnsBefore
		res["node-wall/exporter-wall"] = node.wall.Seconds() / wall.Seconds()
		res["node-cpu/exporter-cpu"] = float64(node.cpu) / float64(cpu)
		res["node-peak-rss-MiB"] = float64(node.rss) / (1 << 20)
		res["node-connections"] = float64(nodeConns)
		b.Logf("official Node client: listing %v on %d connection(s), CPU %v, peak RSS %.1f MiB",
			node.wall.Round(time.Millisecond), nodeConns, node.cpu.Round(time.Microsecond), float64(node.rss)/(1<<20))
	}
}

// runOrganizations counts several organisations, each a workspace of its
// own size with a token of its own (a service account, which sees its own
// organisation alone), in one refresh of the built exporter against the
// simulator at rtt a request. The organisations refresh at once, each on
// its token's budget, so the refresh takes as long as the largest one: it
// reports wall time against the largest organisation's floor, and against
// the sum of their floors, which counting them one after another would
// take.
func runOrganizations(b *testing.B, c benchCase, rtt time.Duration, res results) {
	specs := make([]asanatest.WorkspaceSpec, len(c.organizations))
	for i, n := range c.organizations {
		specs[i] = orgSpec(fmt.Sprintf("Organization %d", i), n)
	}
	org := asanatest.Generate(1, specs...)
	cfg := asanatest.Config{OffsetTTL: time.Hour, Tokens: map[string]asanatest.TokenKind{}, Scopes: map[string][]string{}}
	dir := b.TempDir()
	var config strings.Builder
	config.WriteString("organizations:\n")
	for i, w := range org.Workspaces {
		token := fmt.Sprintf("2/%d:organization-%d", 1000+i, i)
		cfg.Tokens[token], cfg.Scopes[token] = asanatest.ServiceAccount, []string{w.GID}
		file := filepath.Join(dir, fmt.Sprintf("token-%d", i))
		if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&config, "  - name: org-%d\n    token_file: %s\n", i, file)
	}
	configFile := filepath.Join(dir, "asana.yml")
	if err := os.WriteFile(configFile, []byte(config.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	api := asanatest.NewAPI(org, cfg)
	api.Inject(asanatest.Fault{Latency: rtt})
	// The refresh starts with the first GET /workspaces after each
	// organisation's startup check.
	var lists atomic.Int32
	var start atomic.Pointer[time.Time]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/workspaces") && int(lists.Add(1)) == len(specs)+1 {
			now := time.Now()
			start.Store(&now)
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()

	addr := freeAddress(b)
	counted := startLogging(b, exec.Command(exporterBinary(b), "--web.listen-address="+addr, "--asana.url="+srv.URL+"/api/1.0",
		"--config.file="+configFile, "--asana.refresh-interval=1h", "--log.level=debug", "--log.format=json"),
		`"msg":"Counted workspace memberships"`, len(specs))
	defer counted.stop()
	var largest, sum time.Duration
	minRequests := 0
	for _, n := range c.organizations {
		floor, _, requests := floors(benchCase{workspaces: 1, members: n}, rtt)
		largest, sum, minRequests = max(largest, floor), sum+floor, minRequests+requests
	}
	timeout := sum*2 + 2*time.Minute
	select {
	case <-counted.seen:
	case <-time.After(timeout):
		b.Fatalf("the refresh did not finish in %v:\n%s", timeout, counted.tail())
	}
	wall := time.Since(*start.Load())

	e := &exporterProcess{addr: addr}
	e.waitFor(b, "/-/ready")
	_, families := e.scrape(b, "")
	for i, w := range org.Workspaces {
		if got, ok := families.Seats(w.GID); !ok || got != specs[i].Seats() {
			b.Fatalf("organisation %d: the exporter published %+v, want %+v", i, got, specs[i].Seats())
		}
	}
	requests := 0
	for _, r := range api.Requests() {
		if !r.Time.Before(*start.Load()) {
			requests++
		}
	}
	res["wall-s"] = wall.Seconds()
	res["wall/largest-org-floor"] = wall.Seconds() / largest.Seconds()
	res["wall/sum-of-org-floors"] = wall.Seconds() / sum.Seconds()
	res["requests"] = float64(requests)
	res["redundant-requests"] = float64(requests - minRequests)
	b.Logf("%d organisations of %v memberships, each with its own token: refresh %v (largest organisation's floor %v, the floors' sum %v), %d requests (minimum %d)",
		len(specs), c.organizations, wall.Round(time.Millisecond), largest.Round(time.Millisecond), sum.Round(time.Millisecond), requests, minRequests)
}

// scrapeFloor serves body as static bytes from internal/staticmetrics, a Go
// HTTP server with the exporter's GOMAXPROCS (1), under the same load as
// the exporter's scrapes, and returns its p50 and p99 in ms: what any Go
// server could do here, which the exporter's latencies are divided by.
func scrapeFloor(b *testing.B, body string, scrapers int, interval, d time.Duration) (p50, p99 float64) {
	file := filepath.Join(b.TempDir(), "metrics.txt")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		b.Fatal(err)
	}
	addr := freeAddress(b)
	cmd := exec.Command(helperBinary(b, "staticmetrics"), file, addr)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("staticmetrics: %q, %v", line, err)
	}
	return scrapeLatency(b, "http://"+addr+"/metrics", scrapers, interval, d)
}

// scrapeLatency runs internal/scrapeload, in a process of its own as a
// Prometheus server would be: scrapers each scraping url every interval for
// d. It returns the p50 and p99 latency in ms.
func scrapeLatency(b *testing.B, url string, scrapers int, interval, d time.Duration) (p50, p99 float64) {
	cmd := exec.Command(helperBinary(b, "scrapeload"), url, strconv.Itoa(scrapers), interval.String(), d.String())
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("scrapeload: %v\n%s", err, errOut.String())
	}
	var res struct {
		Scrapes int     `json:"scrapes"`
		P50     float64 `json:"p50_ms"`
		P99     float64 `json:"p99_ms"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Scrapes == 0 {
		b.Fatalf("scrapeload printed %q (%v)", out, err)
	}
	return res.P50, res.P99
}

// servedFloor adds up the simulator's serving times: the workspace listing,
// then each workspace's pages, which come one after another.
type servedFloor struct {
	workspaces time.Duration
	listings   map[string]time.Duration // by path
	bytes      int                      // response bodies, all requests
}

func (f *servedFloor) add(r asanatest.Request) {
	f.bytes += r.Bytes
	if r.Route == asana.EndpointWorkspaceMemberships {
		f.listings[r.Path] += r.Served
	} else {
		f.workspaces += r.Served
	}
}

// longest is the time the slowest listing kept its client waiting.
func (f *servedFloor) longest() time.Duration {
	var slowest time.Duration
	for _, d := range f.listings {
		slowest = max(slowest, d)
	}
	return f.workspaces + slowest
}

// runCPUFloor lists the first workspace with internal/cpufloor, the least
// CPU a Go program can spend on the same requests, and checks that it read
// every page.
func runCPUFloor(b *testing.B, addr string, api *asanatest.API, pages int) listingResult {
	gid := api.WorkspaceGIDs()[0]
	out, err := exec.Command(helperBinary(b, "cpufloor"), addr, "/api/1.0/workspaces/"+gid+"/workspace_memberships", asanatest.DefaultToken).Output()
	if err != nil {
		b.Fatalf("cpufloor: %v", err)
	}
	var res struct {
		Pages  int   `json:"pages"`
		WallNS int64 `json:"wall_ns"`
		CPUNS  int64 `json:"cpu_ns"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Pages != pages {
		b.Fatalf("cpufloor printed %q (%v), want %d pages", out, err, pages)
	}
	return listingResult{wall: time.Duration(res.WallNS), cpu: time.Duration(res.CPUNS)}
}

// helperBinaries are the commands under internal/, each built once.
var (
	helperMu       sync.Mutex
	helperBinaries = map[string]string{}
)

// helperBinary returns internal/<name> built, building it the first time.
func helperBinary(b *testing.B, name string) string {
	helperMu.Lock()
	defer helperMu.Unlock()
	if bin, ok := helperBinaries[name]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "asana_exporter-bench")
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/"+name).CombinedOutput(); err != nil {
		b.Fatalf("go build ./internal/%s: %v\n%s", name, err, out)
	}
	helperBinaries[name] = bin
	return bin
}

// listingResult is what a listing outside the exporter cost: the official
// Node client's, or internal/cpufloor's (which reports no RSS).
type listingResult struct {
	wall, cpu time.Duration
	rss       int64
}

// runNodeBench paginates the first workspace with Asana's official Node
// client (asana@3.2.0) through the same simulator and latency.
func runNodeBench(b *testing.B, baseURL string, env []string, api *asanatest.API, want asana.SeatCounts) listingResult {
	gid := api.WorkspaceGIDs()[0]
	cmd := exec.Command(helperBinary(b, "maxrss"), "node", "paginate.js")
	cmd.Dir = filepath.Join("testdata", "nodeclient")
	cmd.Env = append(env, "ASANA_BASE_URL="+baseURL, "ASANA_TOKEN="+asanatest.DefaultToken,
		"ASANA_WORKSPACE_GID="+gid, "ASANA_OUTPUT=counts")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		b.Fatalf("node paginate.js (make test-deps installs Node and the client): %v\n%s", err, errOut.String())
	}
	var res struct {
		Pages int `json:"pages"`
		Seats struct {
			Licensed int `json:"licensed"`
			ViewOnly int `json:"view_only"`
			Guest    int `json:"guest"`
			Inactive int `json:"inactive"`
			Admins   int `json:"admins"`
		} `json:"seats"`
		ListingMS    float64 `json:"listing_ms"`
		ListingCPUUS float64 `json:"listing_cpu_us"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		b.Fatalf("paginate.js printed %q: %v", out.String(), err)
	}
	if got := (asana.SeatCounts{Licensed: res.Seats.Licensed, ViewOnly: res.Seats.ViewOnly, Guest: res.Seats.Guest, Inactive: res.Seats.Inactive, Admins: res.Seats.Admins}); got != want {
		b.Fatalf("the Node client counted %+v, want %+v", got, want)
	}
	rss, err := lastMaxRSS(errOut.String())
	if err != nil {
		b.Fatal(err)
	}
	return listingResult{
		wall: time.Duration(res.ListingMS * float64(time.Millisecond)),
		cpu:  time.Duration(res.ListingCPUUS * float64(time.Microsecond)),
		rss:  rss,
	}
}

// runAuditBackfill starts the exporter on an organisation whose members
// each logged in every day for 90 days (10,000 users: 890,000 logins), with
// the audit log on, a service-account token of its own for it and
// --storage.path, and reports how long the first read of the log took
// against the floor, its requests against the minimum, the exporter's peak
// RSS and the state file's size.
func runAuditBackfill(b *testing.B, c benchCase, rtt time.Duration, res results) {
	const idle = 100
	org := asanatest.Generate(1, asanatest.WorkspaceSpec{Name: "Audit", IsOrganization: true, Licensed: c.members + idle, Admins: 10})
	org.GenerateUsage(org.Workspaces[0], time.Now(), asanatest.UsageSpec{Idle90: idle})
	api := asanatest.NewAPI(org, asanatest.Config{OffsetTTL: time.Hour,
		Tokens: map[string]asanatest.TokenKind{"main": asanatest.FullAccess, "audit": asanatest.ServiceAccount}})
	api.Inject(asanatest.Fault{Latency: rtt})
	srv := httptest.NewServer(api)
	defer srv.Close()
	// Each stream is read to an empty page: its pages of 100, then one.
	minRequests, loginPages := 0, 0
	for _, t := range asana.SeatEventTypes {
		n := (len(org.Workspaces[0].AuditEvents(t)) + asana.PageLimit - 1) / asana.PageLimit
		minRequests += n + 1
		if t == asana.EventLoginSucceeded {
			loginPages = n + 1
		}
	}
	// The streams are read one after another, and each stream's pages too
	// (each needs the offset the one before gave).
	floor := max(time.Duration(minRequests)*rtt, asana.MinDuration(minRequests, 1500)+rtt)

	dir := b.TempDir()
	files := map[string]string{"token": "main", "audit-token": "audit", "asana.yml": "audit_log:\n  enabled: true\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	storage := filepath.Join(dir, "state")
	if err := os.Mkdir(storage, 0o700); err != nil {
		b.Fatal(err)
	}
	addr := freeAddress(b)
	read := startLogging(b, exec.Command(exporterBinary(b), "--web.listen-address="+addr, "--asana.url="+srv.URL+"/api/1.0",
		"--asana.token-file="+filepath.Join(dir, "token"), "--asana.audit-token-file="+filepath.Join(dir, "audit-token"),
		"--config.file="+filepath.Join(dir, "asana.yml"), "--storage.path="+storage, "--log.format=json"),
		`"msg":"Read the audit log back to the start of its history"`, 1)
	defer read.stop()
	timeout := 2*floor + 2*time.Minute
	select {
	case <-read.seen:
	case <-time.After(timeout):
		b.Fatalf("the audit log was not read in %v:\n%s", timeout, read.tail())
	}
	end := time.Now()
	rss := peakRSS(read.cmd.Process.Pid)
	var start time.Time
	var served time.Duration // what the simulator took: the streams' requests come one after another
	requests := 0
	for _, r := range api.Requests() {
		if r.Route == asana.EndpointAuditLogEvents {
			if requests++; start.IsZero() {
				start = r.Time
			}
			served += r.Served
		}
	}
	wall := end.Sub(start)
	floorServed := max(served, asana.MinDuration(minRequests, 1500)+rtt)
	e := &exporterProcess{addr: addr}
	e.waitFor(b, "/-/ready")
	var stateSize int64
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, families := e.scrape(b, "")
		st, err := os.Stat(filepath.Join(storage, "audit-log-state.json"))
		if done, _ := families.Sample("asana_audit_log_backfill_complete"); done == 1 && err == nil {
			stateSize = st.Size()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("no complete backfill in the metrics, or no state file")
		}
	}
	res["wall-s"] = wall.Seconds()
	res["wall/floor"] = wall.Seconds() / floor.Seconds()
	res["wall/served-floor"] = wall.Seconds() / floorServed.Seconds()
	res["requests"] = float64(requests)
	res["redundant-requests"] = float64(requests - minRequests)
	res["peak-rss-MiB"] = float64(rss) / (1 << 20)
	res["state-file-MiB"] = float64(stateSize) / (1 << 20)
	b.Logf("audit log of %d daily users (%d login pages): read in %v (floor %v: %d requests × %v, or at 1500/min; served floor %v), %d requests (minimum %d), peak RSS %.1f MiB, state file %.2f MiB",
		c.members, loginPages, wall.Round(time.Millisecond), floor.Round(time.Millisecond), minRequests, rtt, floorServed.Round(time.Millisecond), requests, minRequests,
		float64(rss)/(1<<20), float64(stateSize)/(1<<20))
}

// results are one run's figures, by the unit b.ReportMetric shows.
type results map[string]float64

func (r results) String() string {
	keys := slices.Sorted(maps.Keys(r))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, r[k])
	}
	return strings.Join(parts, " ")
}

// reportMedians reports each figure's median over the runs, and logs the
// range of every ratio (a unit with a "/"), since on a shared machine one
// run's absolute time says little.
func reportMedians(b *testing.B, runs []results) {
	for _, unit := range slices.Sorted(maps.Keys(runs[0])) {
		var vs []float64
		for _, r := range runs {
			vs = append(vs, r[unit])
		}
		slices.Sort(vs)
		median := vs[len(vs)/2]
		if len(vs)%2 == 0 {
			median = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
		}
		b.ReportMetric(median, unit)
		if strings.Contains(unit, "/") && len(vs) > 1 {
			b.Logf("%s: median %.4g, range %.4g-%.4g over %d runs", unit, median, vs[0], vs[len(vs)-1], len(vs))
		}
	}
}

// logging is an exporter started by startLogging.
type logging struct {
	cmd  *exec.Cmd
	seen chan struct{} // closed once the awaited message is logged often enough
	mu   sync.Mutex
	rest bytes.Buffer // the other lines, up to 64 KiB, for a failure's message
}

func (l *logging) stop() {
	l.cmd.Process.Signal(syscall.SIGTERM)
	l.cmd.Wait()
}

func (l *logging) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rest.String()
}

// startLogging starts cmd, an exporter logging JSON, and closes seen once
// it has logged msg n times. Stop it when done: a measurement must not
// share the machine with the exporter of the one before.
func startLogging(b *testing.B, cmd *exec.Cmd, msg string, n int) *logging {
	b.Helper()
	l := &logging{cmd: cmd, seen: make(chan struct{})}
	stderr, err := l.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			switch {
			case strings.Contains(sc.Text(), msg):
				if n--; n == 0 {
					close(l.seen)
				}
			default:
				l.mu.Lock()
				if l.rest.Len() < 64<<10 {
					l.rest.Write(append(sc.Bytes(), '\n'))
				}
				l.mu.Unlock()
			}
		}
	}()
	return l
}
