package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// simulated is a simulated Asana with two workspaces and a token file.
type simulated struct {
	srv       *asanatest.Server
	gids      []string
	tokenFile string
	config    string
	// renewals are the renewal dates withAuditLog configured, YYYY-MM-DD.
	renewals [2]string
}

func newSimulated(t *testing.T, cfg asanatest.Config) *simulated {
	t.Helper()
	s := &simulated{srv: asanatest.NewServer(asanatest.Generate(11, asanatest.Acme, asanatest.Globex), cfg)}
	t.Cleanup(s.srv.Close)
	s.gids = s.srv.WorkspaceGIDs()
	dir := t.TempDir()
	s.tokenFile = filepath.Join(dir, "token")
	writeFile(t, s.tokenFile, asanatest.DefaultToken+"\n")
	s.config = filepath.Join(dir, "asana.yml")
	writeFile(t, s.config, fmt.Sprintf("workspaces:\n  - gid: %q\n    seats_purchased: 30\n  - gid: %q\n    seats_purchased: 400\n", s.gids[0], s.gids[1]))
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *simulated) args(extra ...string) []string {
	return append([]string{"--asana.url=" + s.srv.BaseURL, "--asana.token-file=" + s.tokenFile, "--config.file=" + s.config}, extra...)
}

// oauthArgs are args for an exporter that authenticates as an OAuth app of
// the simulator instead of with the token.
func (s *simulated) oauthArgs(t *testing.T, extra ...string) []string {
	s.srv.SetOAuthApp(&asanatest.OAuthApp{ClientID: oauthClientID, ClientSecret: oauthSecret})
	dir := filepath.Dir(s.config)
	secret, refresh := filepath.Join(dir, "client-secret"), filepath.Join(dir, "refresh-token")
	writeFile(t, secret, oauthSecret)
	writeFile(t, refresh, s.srv.IssueRefreshToken())
	return append([]string{"--asana.url=" + s.srv.BaseURL, "--asana.oauth.client-id=" + oauthClientID,
		"--asana.oauth.client-secret-file=" + secret, "--asana.oauth.refresh-token-file=" + refresh, "--config.file=" + s.config}, extra...)
}

// withAuditLog writes 90 days of audit log for the organisations usage
// names, turns audit_log on with a seat price and a renewal date (Acme's in
// renewalIn[0] days, Globex's in renewalIn[1]), and returns the args that
// read the log with token, a service account's of its own (an OAuth app may
// not read it).
func (s *simulated) withAuditLog(t *testing.T, token string, usage ...asanatest.UsageSpec) []string {
	s.srv.Mutate(func(o *asanatest.Org) {
		for i, u := range usage {
			o.GenerateUsage(o.Workspaces[i], time.Now(), u)
		}
	})
	today := time.Now().UTC()
	for i, days := range renewalIn {
		s.renewals[i] = today.AddDate(0, 0, days).Format("2006-01-02")
	}
	writeFile(t, s.config, fmt.Sprintf("workspaces:\n  - gid: %q\n    seats_purchased: 30\n    seat_price: 24.99\n    renewal_date: %s\n"+
		"  - gid: %q\n    seats_purchased: 400\n    seat_price: 13.49\n    renewal_date: %s\naudit_log:\n  enabled: true\n",
		s.gids[0], s.renewals[0], s.gids[1], s.renewals[1]))
	file := filepath.Join(filepath.Dir(s.config), "audit-token")
	writeFile(t, file, token+"\n")
	return []string{"--asana.audit-token-file=" + file}
}

// renewalIn are the days to Acme's and Globex's renewals in withAuditLog's
// config: Globex's within AsanaRenewalWithIdleSeats' 90 days, Acme's not.
var renewalIn = [2]int{200, 75}

func (s *simulated) addLicensed(n int) {
	s.srv.Mutate(func(o *asanatest.Org) {
		for range n {
			o.AddMember(o.Workspaces[0], asanatest.Membership{IsActive: true})
		}
	})
}

func checkSeats(t *testing.T, families exposition.Families, gid string, want asana.SeatCounts, purchased float64) {
	t.Helper()
	if got, ok := families.Seats(gid); !ok || got != want {
		t.Errorf("workspace %s: seats %+v (published %t), want %+v", gid, got, ok, want)
	}
	if v, _ := families.Sample("asana_workspace_seats_purchased", "workspace_gid="+gid); v != purchased {
		t.Errorf("seats purchased of %s = %v, want %v", gid, v, purchased)
	}
}

// promtoolCheckMetrics lints an exposition with the real promtool.
func promtoolCheckMetrics(t *testing.T, exposition string) {
	t.Helper()
	cmd := exec.Command(needTool(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// startCounting runs the exporter against a fresh simulated Asana with the
// given refresh interval, scrapes it once it is ready, and checks the
// numbers of both workspaces and the exposition's lint.
func startCounting(t *testing.T, refreshInterval string) (*simulated, *exporterProcess, string, exposition.Families) {
	t.Helper()
	s := newSimulated(t, asanatest.Config{})
	e := startExporter(t, nil, s.args("--asana.refresh-interval="+refreshInterval)...)
	e.waitFor(t, "/-/ready")
	raw, families := e.scrape(t, "10")
	checkSeats(t, families, s.gids[0], asanatest.Acme.Seats(), 30)
	checkSeats(t, families, s.gids[1], asanatest.Globex.Seats(), 400)
	promtoolCheckMetrics(t, raw)
	return s, e, raw, families
}

func TestEndToEndBackgroundMode(t *testing.T) {
	s, e, raw, families := startCounting(t, "1s")
	if v, _ := families.Sample("asana_up"); v != 1 {
		t.Errorf("asana_up = %v", v)
	}
	if v, ok := families.Sample("asana_workspace_info", "workspace_gid="+s.gids[0], "workspace_name=Acme Corp", "is_organization=true"); !ok || v != 1 {
		t.Errorf("asana_workspace_info for Acme missing")
	}
	if _, ok := families.Sample("asana_exporter_build_info"); !ok {
		t.Errorf("asana_exporter_build_info missing")
	}
	if !strings.Contains(raw, "Cached: refreshed every 1s in the background.") {
		t.Errorf("HELP does not say the numbers are cached")
	}

	// People join; the next refresh shows it.
	s.addLicensed(5)
	want := asanatest.Acme.Seats()
	want.Licensed += 5
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, families = e.scrape(t, "")
		if v, _ := families.Sample("asana_workspace_members", "workspace_gid="+s.gids[0], "state=licensed"); v == float64(want.Licensed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("licensed never reached %d", want.Licensed)
		}
		time.Sleep(200 * time.Millisecond)
	}
	checkSeats(t, families, s.gids[0], want, 30)

	// SIGTERM: a clean exit.
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		if err := e.err; err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("no exit within 5s of SIGTERM")
	}
}

func TestEndToEndOnScrapeMode(t *testing.T) {
	s, e, raw, _ := startCounting(t, "0")
	if !strings.Contains(raw, "Collected at scrape time.") {
		t.Errorf("HELP does not say the numbers are collected at scrape time")
	}

	// Every scrape counts anew.
	s.addLicensed(3)
	_, families := e.scrape(t, "10")
	want := asanatest.Acme.Seats()
	want.Licensed += 3
	checkSeats(t, families, s.gids[0], want, 30)

	// Concurrent scrapes share one collection: /workspaces, 2 pages of
	// Acme (189), 6 of Globex (600).
	s.srv.Inject(asanatest.Fault{Latency: 100 * time.Millisecond})
	s.srv.ResetRequests()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { e.scrape(t, "10") })
	}
	wg.Wait()
	if n := len(s.srv.Requests()); n != 9 {
		t.Errorf("5 concurrent scrapes made %d API requests, want one collection's 9", n)
	}
	s.srv.ClearFaults()

	// A listing that cannot finish within the scrape timeout publishes no
	// seat numbers for that workspace; the other one is unaffected.
	s.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 3, Latency: 5 * time.Second})
	start := time.Now()
	_, families = e.scrape(t, "2")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("scrape with a 2s timeout took %v", took)
	}
	if _, ok := families.Sample("asana_workspace_members", "workspace_gid="+s.gids[1]); ok {
		t.Errorf("half-counted Globex was published")
	}
	if v, _ := families.Sample("asana_collection_success", "workspace_gid="+s.gids[1]); v != 0 {
		t.Errorf("collection_success for the timed-out workspace = %v", v)
	}
	checkSeats(t, families, s.gids[0], want, 30)
}

// TestWebConfigBasicAuth proves --web.config.file reaches exporter-toolkit:
// with basic_auth_users set, /metrics needs the password.
func TestLandingPageAndHealth(t *testing.T) {
	s := newSimulated(t, asanatest.Config{})
	e := startExporter(t, nil, s.args()...)
	for path, want := range map[string]string{"/": "/metrics", "/-/healthy": "Healthy"} {
		resp, err := http.Get(e.url(path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
}

func TestStartupFailsWithAClearMessage(t *testing.T) {
	const granular = "granular-token"
	s := newSimulated(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{asanatest.DefaultToken: asanatest.FullAccess, granular: asanatest.GranularScopes}})
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"no token", []string{"ASANA_TOKEN="}, []string{"--asana.url=" + s.srv.BaseURL},
			[]string{"no Asana token", "--asana.token-file", "ASANA_TOKEN"}},
		{"empty token file", nil, []string{"--asana.url=" + s.srv.BaseURL, "--asana.token-file=" + file("empty", "\n")},
			[]string{"token file", "is empty"}},
		{"missing token file", nil, []string{"--asana.token-file=" + filepath.Join(dir, "nope")},
			[]string{"reading the Asana token", "no such file"}},
		{"revoked token", nil, []string{"--asana.url=" + s.srv.BaseURL, "--asana.token-file=" + file("bad", "revoked-token")},
			[]string{"401 Unauthorized", "invalid, expired or revoked"}},
		{"granular OAuth token", nil, []string{"--asana.url=" + s.srv.BaseURL, "--asana.token-file=" + file("granular", granular)},
			[]string{"Full permissions are required", "no granular OAuth scope covers workspace memberships"}},
		{"URL without /api/1.0", nil, []string{"--asana.url=" + s.srv.URL, "--asana.token-file=" + s.tokenFile},
			[]string{"No matching route for request", "--asana.url"}},
		{"unknown config key", nil, []string{"--asana.token-file=" + s.tokenFile, "--config.file=" + file("typo.yml", "workspaces:\n  - gid: \"1\"\n    seat_purchased: 3\n")},
			[]string{"typo.yml", `unknown key "seat_purchased"`}},
		{"token as a flag", nil, []string{"--asana.token=secret"},
			[]string{"unknown flag --asana.token; did you mean --asana.token-file?"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, exporterBinary(t), append([]string{"--web.listen-address=" + freeAddress(t)}, tc.args...)...)
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			for _, secret := range []string{asanatest.DefaultToken, granular, "revoked-token"} {
				if strings.Contains(string(out), secret) {
					t.Errorf("output leaks a token:\n%s", out)
				}
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	s := newSimulated(t, asanatest.Config{})
	out, err := exec.Command(exporterBinary(t), s.args("--config.check")...).CombinedOutput()
	if err != nil {
		t.Fatalf("--config.check: %v\n%s", err, out)
	}
	for _, want := range []string{"is valid", "sees 2 workspace(s)", s.gids[0], "Acme Corp", "organization", "400",
		"readable: 182 (27 licensed) in 2 page(s)", "readable: 600 (412 licensed) in 6 page(s)", "refresh: 9 requests, which take under a second of the 5m0s interval"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--config.check output lacks %q:\n%s", want, out)
		}
	}
	if n := len(s.srv.Requests()); n != 9 {
		t.Errorf("--config.check made %d API requests, want 9 (workspaces + every page, as a refresh)", n)
	}

	// At 60 requests a minute (6 at once, then one every 1.1 s) the 9
	// requests of a refresh need 3.3 s: more than a 2 s interval.
	writeFile(t, s.config, "requests_per_minute: 60\n")
	out, err = exec.Command(exporterBinary(t), s.args("--config.check", "--asana.refresh-interval=2s")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "WARNING: the organisation is too big to count every 2s at 60 requests/minute") {
		t.Errorf("--config.check of an organisation too big for its interval: %v\n%s", err, out)
	}
	s.srv.ResetRequests()
	out, err = exec.Command(exporterBinary(t), s.args("--config.check", "--asana.refresh-interval=0s")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "readable") || strings.Contains(string(out), "WARNING") {
		t.Errorf("--config.check on scrape: %v\n%s", err, out)
	}
	if n := len(s.srv.Requests()); n != 9 {
		t.Errorf("--config.check on scrape made %d API requests, want a refresh's 9", n)
	}

	writeFile(t, s.config, "workspaces:\n  - gid: \"1299999999999999\"\n")
	out, err = exec.Command(exporterBinary(t), s.args("--config.check")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot see this workspace") {
		t.Errorf("--config.check with an invisible workspace: %v\n%s", err, out)
	}

	// The audit log: off by default; readable by a service account's
	// token (the simulator's default); a personal access token may not
	// read it, which is a warning, since the seats are counted all the same.
	for _, c := range []struct {
		config, token string
		want          []string
	}{
		{"", asanatest.DefaultToken, []string{"audit log: off"}},
		{"audit_log:\n  enabled: true\n", asanatest.DefaultToken, []string{"audit log: readable for " + s.gids[0], "audit log: readable for " + s.gids[1]}},
		{"audit_log:\n  enabled: true\n", "personal", []string{"WARNING: audit log: not readable for " + s.gids[0], "Enterprise+"}},
	} {
		s.srv.GrantToken("personal", asanatest.FullAccess)
		writeFile(t, s.config, c.config)
		writeFile(t, s.tokenFile, c.token)
		out, err = exec.Command(exporterBinary(t), s.args("--config.check")...).CombinedOutput()
		for _, want := range c.want {
			if err != nil || !strings.Contains(string(out), want) {
				t.Errorf("--config.check with %q and token %s: %v, want %q in:\n%s", c.config, c.token, err, want, out)
			}
		}
	}
}

// TestOnScrapeHAPair is the bug report, as a new user met it: two
// Prometheus servers scrape one exporter on scrape, one with a 2 s timeout
// and one with 60 s that joins 0.3 s later, and a workspace of 22,000
// memberships takes longer than 2 s to count at the token's budget (221
// requests: 10 at once, then 24.8 a second). The short scrape cannot get a
// count; the long one must, and both must cost one set of requests.
func TestOnScrapeHAPair(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(5, asanatest.WorkspaceSpec{Name: "Big", Licensed: 20_000, Guests: 2_000}), asanatest.Config{})
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, asanatest.DefaultToken)
	e := startExporter(t, nil, "--asana.url="+srv.BaseURL, "--asana.token-file="+tokenFile, "--asana.refresh-interval=0")
	srv.ResetRequests() // the startup check's
	gid := srv.WorkspaceGIDs()[0]

	short := make(chan exposition.Families)
	go func() { _, f := e.scrape(t, "2"); short <- f }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	_, long := e.scrape(t, "60")
	t.Logf("the long scrape took %v", time.Since(start).Round(time.Millisecond))

	if v, _ := long.Sample("asana_collection_success", "workspace_gid="+gid); v != 1 {
		t.Errorf("the 60 s scrape: asana_collection_success %v, want 1", v)
	}
	if got, _ := long.Seats(gid); got.Licensed != 20_000 || got.Guest != 2_000 {
		t.Errorf("the 60 s scrape counted %+v", got)
	}
	if v, _ := (<-short).Sample("asana_collection_success", "workspace_gid="+gid); v != 0 {
		t.Errorf("the 2 s scrape: asana_collection_success %v; it cannot have counted 22,000 memberships", v)
	}
	if n := len(srv.Requests()); n != 1+220 {
		t.Errorf("%d requests, want one count's %d", n, 1+220)
	}
}
