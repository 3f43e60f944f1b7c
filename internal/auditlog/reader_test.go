package auditlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
	"github.com/asana-exporter/asana_exporter/internal/idle"
)

var (
	org = asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, EmailDomain: "acme.example",
		Licensed: 60, Admins: 2, Pending: 3, ViewOnly: 8, Guests: 10, Inactive: 12}
	usage = asanatest.UsageSpec{Idle30: 3, Idle60: 2, Idle90: 4, IdleViewOnly: 2, Paused: 3, Deprovisioned: 5}
	days  = []int{30, 60, 90}
)

// fixture is an organisation with 90 days of audit log, served, and a
// Reader of it.
type fixture struct {
	srv    *asanatest.Server
	gid    string
	client *asana.Client
	logs   *bytes.Buffer // the Reader logs from the test's goroutine only
	dir    string
	// mu guards what a hostile proxy's hook shares with the test.
	mu sync.Mutex
}

// fastRetries keeps a test's retries and budget out of its way.
func fastRetries(o *asana.Options) {
	o.RetryBaseDelay, o.RetryMaxDelay, o.RequestsPerMinute = time.Millisecond, 10*time.Millisecond, 1<<20
}

func newFixture(t *testing.T, cfg asanatest.Config) *fixture {
	t.Helper()
	// The budget is not what these tests test.
	cfg.RequestsPerWindow = 1 << 20
	o := asanatest.Generate(7, org)
	o.GenerateUsage(o.Workspaces[0], time.Now(), usage)
	srv := asanatest.NewServer(o, cfg)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, gid: srv.WorkspaceGIDs()[0], logs: &bytes.Buffer{}, dir: t.TempDir()}
	f.client = srv.NewClient(fastRetries)
	return f
}

// reader starts a Reader of the fixture's organisation; storage keeps its
// state in the fixture's directory.
func (f *fixture) reader(storage bool, src auditlog.Source) *auditlog.Reader {
	opts := auditlog.ReaderOptions{Source: src,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}
	if storage {
		opts.StoragePath = f.dir
	}
	return auditlog.NewReader(opts)
}

func (f *fixture) poll(t *testing.T, r *auditlog.Reader) {
	t.Helper()
	if err := r.Poll(context.Background(), []string{f.gid}, nil); err != nil {
		t.Fatalf("poll: %v", err)
	}
}

// judge counts the workspace with r's Ledger, as the refresher does.
func (f *fixture) judge(t *testing.T, r *auditlog.Reader) auditlog.Usage {
	t.Helper()
	counter := r.Ledger(f.gid).UsageCounter(time.Now(), days)
	if counter == nil {
		t.Fatal("no usage counter after a complete poll")
	}
	if _, err := f.client.CountSeats(context.Background(), f.gid, asana.CountOptions{Tally: counter}); err != nil {
		t.Fatal(err)
	}
	return counter.Usage()
}

func checkUsage(t *testing.T, got auditlog.Usage, spec asanatest.UsageSpec) {
	t.Helper()
	if got.Paused != spec.Paused {
		t.Errorf("paused = %d, want %d", got.Paused, spec.Paused)
	}
	if len(got.Idle) != len(days) {
		t.Fatalf("idle thresholds %+v, want one per %v", got.Idle, days)
	}
	for i, d := range days {
		want := auditlog.Idle{Days: d, Licensed: spec.Idle(d), ViewOnly: spec.IdleViewOnly}
		if got.Idle[i] != want {
			t.Errorf("idle %d days = %+v, want %+v", d, got.Idle[i], want)
		}
	}
}

func auditRequests(srv *asanatest.Server) []asanatest.Request {
	return slices.DeleteFunc(srv.Requests(), func(r asanatest.Request) bool { return r.Route != asana.EndpointAuditLogEvents })
}

// TestBackfillJudgesIdleAndPausedSeats: a first start reads 90 days of the
// seat streams and judges every seat as the organisation's usage says,
// pending invitations (young memberships) and paused licences included.
func TestBackfillJudgesIdleAndPausedSeats(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	r := f.reader(false, f.client)
	f.poll(t, r)
	checkUsage(t, f.judge(t, r), usage)
	st := r.Ledger(f.gid).Status()
	if !st.BackfillDone {
		t.Error("backfill not done after a complete poll")
	}
	for typ, n := range st.Events {
		if n != 0 {
			t.Errorf("%d %s events counted from the backfill; the counters start after it", n, typ)
		}
	}
	for _, req := range auditRequests(f.srv) {
		if req.Query.Get("limit") != "100" || req.Query.Get("event_type") == "" {
			t.Fatalf("request %s?%s: want limit=100 and one event_type", req.Path, req.Query.Encode())
		}
		if req.Page == 1 && req.Query.Get("start_at") == "" {
			t.Fatalf("a stream's first request has no start_at: %s", req.Query.Encode())
		}
	}
}

// TestNewEventsAreCountedOnce: after the backfill each new seat event is
// counted once, however often the log is polled, and a login makes an
// idle seat busy again.
func TestNewEventsAreCountedOnce(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	r := f.reader(false, f.client)
	f.poll(t, r)
	var idleUser *asanatest.User
	f.srv.Mutate(func(o *asanatest.Org) {
		w := o.Workspaces[0]
		now := time.Now()
		for _, m := range w.Memberships {
			if m.IsActive && !m.IsGuest && !m.IsViewOnly && !m.IsAdmin && !m.Pending && len(eventsOf(w, asana.EventLoginSucceeded, m.User.GID)) == 0 {
				idleUser = &m.User
				break
			}
		}
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: now, Type: asana.EventLoginSucceeded, User: idleUser})
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: now, Type: asana.EventAdminRoleChanged, User: idleUser, OldValue: "member", NewValue: "super_admin"})
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: now, Type: asana.EventInvited, User: idleUser})
	})
	f.srv.ResetRequests()
	f.poll(t, r)
	f.poll(t, r)
	st := r.Ledger(f.gid).Status()
	for typ, want := range map[string]uint64{asana.EventLoginSucceeded: 1, asana.EventAdminRoleChanged: 1, asana.EventInvited: 1, asana.EventDeprovisioned: 0} {
		if st.Events[typ] != want {
			t.Errorf("%s counted %d times, want %d", typ, st.Events[typ], want)
		}
	}
	if st.RoleChanges["super_admin"] != 1 {
		t.Errorf("role changes %v, want super_admin 1", st.RoleChanges)
	}
	// Two caught-up polls: one request per stream each, and a second for
	// the streams that had news.
	if got, want := len(auditRequests(f.srv)), 2*len(asana.SeatEventTypes)+3; got != want {
		t.Errorf("%d requests for two polls, want %d", got, want)
	}
	less := usage
	less.Idle90-- // the user with no login in 90 days just logged in
	checkUsage(t, f.judge(t, r), less)
}

func eventsOf(w *asanatest.Workspace, typ, userGID string) []asanatest.AuditEvent {
	return slices.DeleteFunc(w.AuditEvents(typ), func(e asanatest.AuditEvent) bool { return e.User.GID != userGID })
}

// TestExpiredOffsetCountsNothingTwice: 250 logins in the same millisecond
// straddle three pages; the offset expires between them, and the stream
// restarts from that instant (start_at is inclusive), dropping the events it
// had by gid.
func TestExpiredOffsetCountsNothingTwice(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	r := f.reader(false, f.client)
	f.poll(t, r)
	f.srv.Mutate(func(o *asanatest.Org) {
		w := o.Workspaces[0]
		now := time.Now().Truncate(time.Millisecond)
		for i := range 250 {
			m := w.Memberships[i%len(w.Memberships)]
			o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: now, Type: asana.EventLoginSucceeded, User: &m.User})
		}
	})
	f.srv.Inject(asanatest.Fault{Route: asana.EndpointAuditLogEvents, ExpireOffset: true, Times: 1, Page: 0})
	f.srv.ResetRequests()
	f.poll(t, r)
	if got := r.Ledger(f.gid).Status().Events[asana.EventLoginSucceeded]; got != 250 {
		t.Errorf("%d logins counted, want 250", got)
	}
	restarted := false
	for _, req := range auditRequests(f.srv) {
		restarted = restarted || req.Status == 400
	}
	if !restarted {
		t.Error("the offset never expired; the test tests nothing")
	}
}

// TestStateSurvivesARestart: with --storage.path a restart resumes from
// the state file, even once Asana's offsets have expired, instead of
// reading 90 days again, and judges the same.
func TestStateSurvivesARestart(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	first := f.reader(true, f.client)
	f.poll(t, first)
	backfill := len(auditRequests(f.srv))
	st, err := os.Stat(filepath.Join(f.dir, auditlog.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600: it holds user gids", st.Mode().Perm())
	}
	f.srv.Advance(time.Hour) // every offset has expired
	f.srv.ResetRequests()
	second := f.reader(true, f.client)
	f.poll(t, second)
	// Per stream: the expired offset, the restart from its last event
	// (which brings that event back, dropped), and the empty page.
	if got := len(auditRequests(f.srv)); got > 3*len(asana.SeatEventTypes) {
		t.Errorf("the restart made %d requests (the backfill made %d); it should resume", got, backfill)
	}
	for _, req := range auditRequests(f.srv) {
		if req.Query.Get("event_type") != asana.EventLoginSucceeded || req.Query.Has("offset") {
			continue // an offset goes with its chain's start_at, the backfill's
		}
		if at, _ := time.Parse(time.RFC3339, req.Query.Get("start_at")); time.Since(at) > 2*idle.Day {
			t.Errorf("the login stream restarted at %s, not at its last event", req.Query.Get("start_at"))
		}
	}
	if !strings.Contains(f.logs.String(), "Resuming the audit log") {
		t.Error("no log line says the state file was used")
	}
	checkUsage(t, f.judge(t, second), usage)
}

// TestBadStateFileIsRebuilt: a state file that cannot be trusted is logged
// and replaced by a backfill: no crash, no wrong number.
func TestBadStateFileIsRebuilt(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	f.poll(t, f.reader(true, f.client))
	good, err := os.ReadFile(filepath.Join(f.dir, auditlog.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"truncated":       good[:len(good)/2],
		"empty":           nil,
		"not JSON":        []byte("\x00\x01garbage"),
		"another version": bytes.Replace(good, []byte(`"version":1`), []byte(`"version":2`), 1),
		"unknown stream":  bytes.Replace(good, []byte(`"user_invited"`), []byte(`"user_vanished"`), 1),
		"unknown field":   bytes.Replace(good, []byte(`"version":1`), []byte(`"version":1,"extra":true`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(f.dir, auditlog.StateFile), content, 0o600); err != nil {
				t.Fatal(err)
			}
			f.logs.Reset()
			r := f.reader(true, f.client)
			if !strings.Contains(f.logs.String(), "Cannot use the audit log state file") {
				t.Errorf("nothing logged about the bad file: %s", f.logs.String())
			}
			if r.Ledger(f.gid) != nil {
				t.Error("a Ledger came from a bad file")
			}
			f.poll(t, r)
			checkUsage(t, f.judge(t, r), usage)
		})
	}
}

// TestTokenThatMayNotReadTheLog: a token that is not a service account's
// gets one clear log line, however often it polls, and no Ledger to judge
// by; 402 and 404 are taken the same way, since Asana's answer is unknown.
func TestTokenThatMayNotReadTheLog(t *testing.T) {
	for name, fault := range map[string]*asanatest.Fault{
		"personal access token": nil,
		"402":                   {Route: asana.EndpointAuditLogEvents, Status: 402},
		"404":                   {Route: asana.EndpointAuditLogEvents, Status: 404, Message: "Not Found"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{asanatest.DefaultToken: asanatest.FullAccess}})
			if fault != nil {
				f.srv.GrantToken(asanatest.DefaultToken, asanatest.ServiceAccount)
				f.srv.Inject(*fault)
			}
			r := f.reader(false, f.client)
			for range 3 {
				if err := r.Poll(context.Background(), []string{f.gid}, nil); err == nil {
					t.Fatal("a poll the log refused returned no error")
				}
			}
			h := r.Health()
			if !h.Denied || h.Err == nil || !h.LastSuccess.IsZero() {
				t.Errorf("health %+v, want denied", h)
			}
			if n := strings.Count(f.logs.String(), "may not read the Asana audit log"); n != 1 {
				t.Errorf("the refusal was logged %d times, want once:\n%s", n, f.logs.String())
			}
			if !strings.Contains(f.logs.String(), "Enterprise+") {
				t.Error("the log line does not say what token is needed")
			}
			if counter := r.Ledger(f.gid).UsageCounter(time.Now(), days); counter != nil {
				t.Error("a Ledger that read nothing judges seats")
			}
		})
	}
}

// TestHistoryReachDecidesThresholds: a threshold is judged only once the
// login history reaches back that far.
func TestHistoryReachDecidesThresholds(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	r := f.reader(false, f.client)
	f.poll(t, r)
	l := r.Ledger(f.gid)
	start := l.Status().HistoryStart
	for _, c := range []struct {
		after time.Duration
		want  []int
	}{
		{29 * idle.Day, nil},
		{30 * idle.Day, []int{30}},
		{89 * idle.Day, []int{30, 60}},
		{90 * idle.Day, []int{30, 60, 90}},
	} {
		var got []int
		for _, idle := range l.UsageCounter(start.Add(c.after), days).Usage().Idle {
			got = append(got, idle.Days)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("history %v deep: thresholds %v, want %v", c.after, got, c.want)
		}
	}
}
