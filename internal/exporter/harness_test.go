package exporter_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// setup is what differs between the in-process exporters.
type setup struct {
	background bool
	deadline   time.Duration // of one collection
	offset     time.Duration // --asana.timeout-offset
	api        asanatest.Config
	client     func(*asana.Options)
	config     string // the config file's YAML; none when ""
	// oauth authenticates as an OAuth app whose access tokens last a
	// second, instead of with a token.
	oauth bool
	// usage writes each workspace's 90 days of audit log (organisations
	// only); the config must turn audit_log on for the exporter to read it.
	usage []asanatest.UsageSpec
	// storage is --storage.path.
	storage string
	// auditToken, when set, is given with --asana.audit-token-file.
	auditToken string
	// front, when set, stands between the exporter and the simulator: it
	// is given the simulator's handler and returns the API root to use,
	// served on a socket of its own.
	front func(api http.Handler) string
	// log, when set, gets the exporter's log lines, debug ones included,
	// and the commands' progress lines.
	log io.Writer
	// loopback serves the simulator on a loopback port instead of in
	// memory, for a test that runs on the real clock and wants real
	// sockets (TCP resets, file descriptors).
	loopback bool
}

// inProcess is the exporter as main wires it (exporter.New), against a
// simulated Asana in memory, driven one collection at a time. A test whose
// outcome depends on time (a deadline, a backoff, a token's lifetime) runs
// it in a testing/synctest bubble, on a fake clock that moves only when
// every goroutine waits, so that the machine's speed cannot change it.
type inProcess struct {
	deadline  time.Duration
	srv       *asanatest.Server
	exp       *exporter.Exporter
	gids      []string
	truth     []asana.SeatCounts // what a complete count of each workspace finds
	dir       string             // holds the token file and the config file
	tokenFile string
}

func newInProcess(t testing.TB, s setup, specs ...asanatest.WorkspaceSpec) *inProcess {
	t.Helper()
	// A bubble's clock starts in 2000, before the simulated members joined
	// (2019 on): move it on to 2024. Outside a bubble, 2024 is past.
	time.Sleep(time.Until(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)))
	org := asanatest.Generate(11, specs...)
	for i, u := range s.usage {
		if specs[i].IsOrganization {
			org.GenerateUsage(org.Workspaces[i], time.Now(), u)
		}
	}
	newServer := asanatest.NewMemoryServer
	if s.loopback {
		newServer = asanatest.NewServer
	}
	p := &inProcess{deadline: s.deadline, srv: newServer(org, s.api), dir: t.TempDir()}
	t.Cleanup(p.srv.Close)
	for _, spec := range specs {
		p.truth = append(p.truth, spec.Seats())
	}
	p.gids = p.srv.WorkspaceGIDs()
	opts := exporter.Options{AsanaURL: p.srv.BaseURL, Transport: p.srv.Transport, TimeoutOffset: s.offset, Client: s.client, StoragePath: s.storage}
	if s.front != nil { // the front is reached over its own socket, not the simulator's transport
		opts.AsanaURL, opts.Transport = s.front(p.srv.API), nil
	}
	if s.log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts.ProgressOutput = s.log
	}
	if s.auditToken != "" {
		opts.AuditTokenFile = p.write(t, "audit-token", s.auditToken)
	}
	if s.oauth {
		p.srv.SetOAuthApp(&asanatest.OAuthApp{ClientID: appID, ClientSecret: appSecret, AccessTTL: time.Second})
		opts.OAuth = exporter.OAuthOptions{ClientID: appID, ClientSecretFile: p.write(t, "client-secret", appSecret),
			RefreshTokenFile: p.write(t, "refresh-token", p.srv.IssueRefreshToken())}
	} else {
		p.tokenFile = p.write(t, "token", asanatest.DefaultToken)
		opts.TokenFile = p.tokenFile
	}
	if s.config != "" {
		opts.ConfigFile = p.write(t, "asana.yml", s.config)
	}
	if s.background {
		opts.RefreshInterval = s.deadline
	}
	var err error
	if p.exp, err = exporter.New(opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.exp.Close)
	return p
}

// write writes a file of the exporter's, with the mode a token file wants.
func (p *inProcess) write(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cycle runs one collection the way the mode does, and returns what a scrape
// then sees and how long the collection took. In the background that is
// what Collection.Run does at each tick, a Refresh bounded by the interval;
// on scrape, a scrape announcing the deadline as its timeout.
func (p *inProcess) cycle(t testing.TB) (exposition.Families, time.Duration) {
	t.Helper()
	start := time.Now()
	if c := p.exp.Collection(); c.Background() {
		ctx, cancel := context.WithTimeout(context.Background(), p.deadline)
		c.Refresh(ctx, nil)
		cancel()
	}
	families := p.scrape(t)
	return families, time.Since(start)
}

func (p *inProcess) scrape(t testing.TB) exposition.Families {
	t.Helper()
	rec := p.serve(t, "/metrics", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {strconv.FormatFloat(p.deadline.Seconds(), 'f', -1, 64)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	families, err := exposition.Parse(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

func (p *inProcess) serve(t testing.TB, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	p.exp.Handler().ServeHTTP(rec, req)
	return rec
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

// checkSeats fails t unless the scrape publishes want for gid.
func checkSeats(t testing.TB, families exposition.Families, gid string, want asana.SeatCounts) {
	t.Helper()
	if got, ok := families.Seats(gid); !ok || got != want {
		t.Errorf("workspace %s: seats %+v (published %t), want %+v", gid, got, ok, want)
	}
}
