package exporter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/idle"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

const auditOn = "audit_log:\n  enabled: true\n"

var (
	acmeUsage = asanatest.UsageSpec{Idle30: 2, Idle60: 1, Idle90: 2, IdleViewOnly: 1, Paused: 2, Deprovisioned: 4}
	// Umbrella is the second organisation: 200 memberships in 2 pages,
	// 130 daily users whose 90 days of logins are 117 pages.
	umbrella      = asanatest.WorkspaceSpec{Name: "Umbrella", IsOrganization: true, Licensed: 130, Admins: 3, ViewOnly: 20, Guests: 25, Inactive: 25}
	umbrellaUsage = asanatest.UsageSpec{Idle30: 6, Idle60: 4, Idle90: 3, IdleViewOnly: 2, Paused: 4, Deprovisioned: 10}
)

// auditSetup is an exporter reading the audit logs of Acme and Umbrella,
// with the request budget lifted and short backoffs: the budget and the
// backoff are not what these tests test.
func auditSetup(background bool) setup {
	return setup{background: background, deadline: cycleDeadline, offset: 500 * time.Millisecond,
		config: auditOn, usage: []asanatest.UsageSpec{acmeUsage, umbrellaUsage},
		api: asanatest.Config{RequestsPerWindow: 1 << 20},
		client: func(o *asana.Options) {
			o.RequestsPerMinute, o.RetryBaseDelay, o.RetryMaxDelay = 1<<20, 20*time.Millisecond, 100*time.Millisecond
		}}
}

// poll runs one audit log poll, bounded as the collection bounds it.
func (p *inProcess) poll() error {
	ctx, cancel := context.WithTimeout(context.Background(), 4*cycleDeadline)
	defer cancel()
	return p.exp.ReadAuditLogs(ctx)
}

// pollUnhurried polls with no deadline but go test's own. A poll cut short
// by its deadline is not an error (the next one resumes), so a test whose
// outcome is the poll's error would pass or fail by how busy the machine
// is if the poll had a deadline of its own.
func (p *inProcess) pollUnhurried(t *testing.T) error {
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	return p.exp.ReadAuditLogs(ctx)
}

// dailyUsers are users of Umbrella who logged in within the last two days:
// a login of theirs changes no idle or paused number.
func dailyUsers(o *asanatest.Org) []*asanatest.User {
	w := o.Workspaces[1]
	var users []*asanatest.User
	seen := map[string]bool{}
	for _, e := range w.AuditEvents(asana.EventLoginSucceeded) {
		if time.Since(e.CreatedAt) < 2*idle.Day && !seen[e.User.GID] {
			seen[e.User.GID] = true
			users = append(users, e.User)
		}
	}
	return users
}

// checkUsage fails t unless the scrape publishes the idle and paused seats
// spec says.
func checkUsage(t testing.TB, families exposition.Families, gid string, spec asanatest.UsageSpec) {
	t.Helper()
	for _, d := range []int{30, 60, 90} {
		days := "days=" + strconv.Itoa(d)
		if got, ok := families.Sample("asana_workspace_seats_idle", "workspace_gid="+gid, "state=licensed", days); !ok || int(got) != spec.Idle(d) {
			t.Errorf("%s: licensed idle %d days = %v (published %t), want %d", gid, d, got, ok, spec.Idle(d))
		}
		if got, _ := families.Sample("asana_workspace_seats_idle", "workspace_gid="+gid, "state=view_only", days); int(got) != spec.IdleViewOnly {
			t.Errorf("%s: view-only idle %d days = %v, want %d", gid, d, got, spec.IdleViewOnly)
		}
	}
	if got, ok := families.Sample("asana_workspace_seats_paused", "workspace_gid="+gid); !ok || int(got) != spec.Paused {
		t.Errorf("%s: paused %v (published %t), want %d", gid, got, ok, spec.Paused)
	}
}

// TestIdleAndPausedSeats: in both modes, once the audit log is read, the
// scrape shows idle and paused seats as the organisations' usage says, and
// a super admin granted afterwards is counted once.
func TestIdleAndPausedSeats(t *testing.T) {
	for _, background := range []bool{true, false} {
		t.Run(mode(background), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { idleAndPausedSeats(t, background) })
		})
	}
}

func idleAndPausedSeats(t *testing.T, background bool) {
	p := newInProcess(t, auditSetup(background), asanatest.Acme, umbrella)
	before, _ := p.cycle(t)
	if _, ok := before.Sample("asana_workspace_seats_idle"); ok {
		t.Error("idle seats published before the audit log was read")
	}
	if err := p.poll(); err != nil {
		t.Fatal(err)
	}
	families, _ := p.cycle(t)
	checkUsage(t, families, p.gids[0], acmeUsage)
	checkUsage(t, families, p.gids[1], umbrellaUsage)
	checkSeats(t, families, p.gids[1], p.truth[1])
	if up, _ := families.Sample("asana_audit_log_up"); up != 1 {
		t.Errorf("asana_audit_log_up = %v", up)
	}
	p.srv.Mutate(func(o *asanatest.Org) {
		w := o.Workspaces[1]
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: time.Now(), Type: asana.EventAdminRoleChanged,
			User: &w.Memberships[0].User, OldValue: "domain_admin", NewValue: "super_admin"})
	})
	for range 2 {
		if err := p.poll(); err != nil {
			t.Fatal(err)
		}
	}
	families = p.scrape(t)
	if got, _ := families.Sample("asana_workspace_admin_role_changes_total", "workspace_gid="+p.gids[1], "new_role=super_admin"); got != 1 {
		t.Errorf("super admin grants = %v, want 1", got)
	}
}

// TestAuditLogWaitsForTheSeatCount: sharing the token, the audit log's
// backfill holds its requests while a membership listing runs, so the seat
// counts never fall behind for it. In a bubble, so that the listing surely
// starts in the middle of the backfill (117 pages, 10 ms each).
func TestAuditLogWaitsForTheSeatCount(t *testing.T) {
	synctest.Test(t, auditLogWaitsForTheSeatCount)
}

func auditLogWaitsForTheSeatCount(t *testing.T) {
	p := newInProcess(t, auditSetup(true), asanatest.Acme, umbrella)
	p.cycle(t)
	p.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Latency: 50 * time.Millisecond})
	p.srv.Inject(asanatest.Fault{Route: auditLog, Latency: 10 * time.Millisecond})
	p.srv.ResetRequests()
	polled := make(chan error, 1)
	go func() { polled <- p.poll() }()
	time.Sleep(105 * time.Millisecond) // the backfill's 11th request is under way
	p.cycle(t)
	if err := <-polled; err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for _, r := range p.srv.Requests() {
		if r.Route == asana.EndpointWorkspaceMemberships {
			if first.IsZero() {
				first = r.Time
			}
			last = r.Time
		}
	}
	before, during, after := 0, 0, 0
	for _, r := range p.srv.Requests() {
		switch {
		case r.Route != auditLog:
		case r.Time.Before(first):
			before++
		case r.Time.After(last):
			after++
		default:
			during++
		}
	}
	if first.IsZero() || before == 0 || after == 0 {
		t.Fatalf("the listing (%v to %v) did not run in the middle of the backfill: %d audit log requests before it, %d after", first, last, before, after)
	}
	if during > 0 {
		t.Errorf("%d audit log requests went while the membership listing ran (%v)", during, last.Sub(first))
	}
}

// TestAuditTokenOfItsOwn: --asana.audit-token-file reads the log with a
// service account's token while the seats are counted with a personal
// access token, which could not read it.
func TestAuditTokenOfItsOwn(t *testing.T) { synctest.Test(t, auditTokenOfItsOwn) }

func auditTokenOfItsOwn(t *testing.T) {
	s := auditSetup(true)
	s.api.Tokens = map[string]asanatest.TokenKind{asanatest.DefaultToken: asanatest.FullAccess, "service-account": asanatest.ServiceAccount}
	s.auditToken = "service-account"
	p := newInProcess(t, s, asanatest.Acme, umbrella)
	p.cycle(t)
	if err := p.poll(); err != nil {
		t.Fatal(err)
	}
	families, _ := p.cycle(t)
	checkUsage(t, families, p.gids[0], acmeUsage)
	if n := p.srv.Stats("service-account").Requests; n == 0 {
		t.Error("the audit token made no request")
	}
}

// TestTokenThatMayNotReadTheAuditLog: the seat counts go on, asana_audit_log_up
// is 0, and no other audit metric or idle seat is published.
func TestTokenThatMayNotReadTheAuditLog(t *testing.T) {
	synctest.Test(t, tokenThatMayNotReadTheAuditLog)
}

func tokenThatMayNotReadTheAuditLog(t *testing.T) {
	s := auditSetup(true)
	s.api.Tokens = map[string]asanatest.TokenKind{asanatest.DefaultToken: asanatest.FullAccess}
	p := newInProcess(t, s, asanatest.Acme, umbrella)
	p.cycle(t)
	if err := p.poll(); err == nil {
		t.Fatal("the poll succeeded with a token that may not read the audit log")
	}
	families, _ := p.cycle(t)
	checkSeats(t, families, p.gids[1], p.truth[1])
	if up, ok := families.Sample("asana_audit_log_up"); !ok || up != 0 {
		t.Errorf("asana_audit_log_up = %v (published %t), want 0", up, ok)
	}
	for _, name := range []string{"asana_workspace_seats_idle", "asana_workspace_seats_paused", "asana_audit_log_events_total", "asana_audit_log_history_start_timestamp_seconds"} {
		if _, ok := families.Sample(name); ok {
			t.Errorf("%s published for a log that cannot be read", name)
		}
	}
}

// auditScenario is one audit log fault: it hits the backfill (from its
// third page) or the stream once caught up, while 250 new logins of
// Umbrella arrive;
// after it clears, the numbers must be the truth, and each new login
// counted exactly once.
type auditScenario struct {
	name     string
	faults   []asanatest.Fault
	backfill bool // the fault hits the backfill, not the caught-up stream
	absorbed bool // the poll during the fault still succeeds
	denied   bool
	// state, when set, writes the state file before the exporter starts,
	// from a good one.
	state func(good []byte) []byte
}

var auditLog = asana.EndpointAuditLogEvents

var auditScenarios = []auditScenario{
	{name: "429 burst", absorbed: true, faults: []asanatest.Fault{{Route: auditLog, Page: 3, Times: 2, Status: 429, RetryAfter: "1"}}, backfill: true},
	{name: "5xx burst", absorbed: true, faults: []asanatest.Fault{{Route: auditLog, Times: 2, Status: 503}}},
	{name: "5xx on every attempt", faults: []asanatest.Fault{{Route: auditLog, Page: 3, Status: 500}}, backfill: true},
	{name: "reset mid-body", absorbed: true, faults: []asanatest.Fault{{Route: auditLog, Times: 1, Reset: true}}},
	{name: "expired offset mid-backfill", absorbed: true, faults: []asanatest.Fault{{Route: auditLog, Page: 3, Times: 1, ExpireOffset: true}}, backfill: true},
	{name: "expired offset mid-stream", absorbed: true, faults: []asanatest.Fault{{Route: auditLog, Times: 1, ExpireOffset: true}}},
	{name: "revoked token", faults: []asanatest.Fault{{Route: auditLog, Times: 1, Revoke: true}}},
	{name: "log forbidden", denied: true, faults: []asanatest.Fault{{Route: auditLog, Status: 403, Message: "Forbidden"}}},
	{name: "state file truncated", absorbed: true, state: func(good []byte) []byte { return good[:len(good)/2] }},
	{name: "state file of another version", absorbed: true, state: func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"version":1`), []byte(`"version":99`), 1)
	}},
}

// TestAuditFaultMatrix runs every audit log fault in both modes, each in a
// bubble.
func TestAuditFaultMatrix(t *testing.T) {
	for _, background := range []bool{true, false} {
		for _, sc := range auditScenarios {
			t.Run(mode(background)+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) { auditFault(t, sc, background) })
			})
		}
	}
}

func auditFault(t *testing.T, sc auditScenario, background bool) {
	s := auditSetup(background)
	s.storage = t.TempDir()
	if sc.state != nil { // a good state file, spoilt, before the exporter starts
		good := newInProcess(t, s, asanatest.Acme, umbrella)
		good.cycle(t)
		if err := good.poll(); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(s.storage, auditlog.StateFile)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, sc.state(raw), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := newInProcess(t, s, asanatest.Acme, umbrella)
	p.cycle(t)
	if !sc.backfill {
		if err := p.poll(); err != nil {
			t.Fatal(err)
		}
	}
	const newLogins = 250
	p.addLogins(newLogins)
	for _, f := range sc.faults {
		p.srv.Inject(f)
	}
	err := p.poll()
	switch {
	case sc.absorbed && err != nil:
		t.Errorf("the poll failed: %v; the fault should have been absorbed", err)
	case !sc.absorbed && err == nil:
		t.Error("the poll succeeded during the fault")
	}
	families, _ := p.cycle(t)
	if sc.denied {
		if up, _ := families.Sample("asana_audit_log_up"); up != 0 {
			t.Errorf("asana_audit_log_up = %v while the log is forbidden", up)
		}
		checkSeats(t, families, p.gids[1], p.truth[1]) // the seats go on
	}

	p.srv.ClearFaults()
	p.srv.RestoreTokens()
	if err := p.poll(); err != nil {
		t.Fatalf("the poll after the fault cleared: %v", err)
	}
	families, _ = p.cycle(t)
	checkSeats(t, families, p.gids[1], p.truth[1])
	checkUsage(t, families, p.gids[0], acmeUsage)
	checkUsage(t, families, p.gids[1], umbrellaUsage)
	want := float64(newLogins)
	if sc.backfill { // they arrived before the backfill ended: history, not news
		want = 0
	}
	if got, _ := families.Sample("asana_audit_log_events_total", "workspace_gid="+p.gids[1], "event_type="+asana.EventLoginSucceeded); got != want {
		t.Errorf("%v new logins counted, want %v", got, want)
	}
	if up, _ := families.Sample("asana_audit_log_up"); up != 1 {
		t.Errorf("asana_audit_log_up = %v after recovery", up)
	}
}

// TestIdleRowsAreTheMetricsIdleSeats: for every threshold, seats --idle
// lists exactly the seats asana_workspace_seats_idle counts, state by state,
// and each row's idle_days says so.
func TestIdleRowsAreTheMetricsIdleSeats(t *testing.T) {
	synctest.Test(t, idleRowsAreTheMetricsIdleSeats)
}

func idleRowsAreTheMetricsIdleSeats(t *testing.T) {
	p := newInProcess(t, auditSetup(true), asanatest.Acme, umbrella)
	p.cycle(t)
	if err := p.poll(); err != nil {
		t.Fatal(err)
	}
	families, _ := p.cycle(t)
	for _, days := range []int{30, 60, 90} {
		out, errOut, err := p.seats(t, exporter.SeatsOptions{IdleDays: days, Now: time.Now()})
		if err != nil {
			t.Fatalf("--idle=%dd: %v: %s", days, err, errOut)
		}
		got := map[string]int{}
		for _, row := range readCSV(t, out) {
			got[row[0]+" "+row[6]]++
			if n, err := strconv.Atoi(row[12]); err != nil || n < days || row[13] != "audit_log" {
				t.Errorf("--idle=%dd: row with idle_days %q from %q", days, row[12], row[13])
			}
		}
		for _, gid := range p.gids {
			for _, st := range []string{"licensed", "view_only"} {
				want, _ := families.Sample("asana_workspace_seats_idle", "workspace_gid="+gid, "state="+st, "days="+strconv.Itoa(days))
				if got[gid+" "+st] != int(want) {
					t.Errorf("--idle=%dd: workspace %s: %d %s rows, the metric says %v", days, gid, got[gid+" "+st], st, want)
				}
			}
		}
		if want := acmeUsage.Idle(days) + acmeUsage.IdleViewOnly + umbrellaUsage.Idle(days) + umbrellaUsage.IdleViewOnly; len(got) == 0 || sum(got) != want {
			t.Errorf("--idle=%dd: %d rows, want %d", days, sum(got), want)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestRosterShowsLastLoginsAndPausedLicenses: with the audit log read, the
// roster's last_login_at and licence_paused columns say who can be
// reclaimed, as the usage says; a fresh process reading the state file
// under --storage.path (what `seats --storage.path` is) says the same.
func TestRosterShowsLastLoginsAndPausedLicenses(t *testing.T) {
	synctest.Test(t, rosterShowsLastLoginsAndPausedLicenses)
}

func rosterShowsLastLoginsAndPausedLicenses(t *testing.T) {
	s := auditSetup(true)
	s.storage = t.TempDir()
	p := newInProcess(t, s, asanatest.Acme, umbrella)
	p.cycle(t)
	if err := p.poll(); err != nil {
		t.Fatal(err)
	}
	fresh := newInProcess(t, s, asanatest.Acme, umbrella)
	for name, proc := range map[string]*inProcess{"serving": p, "from the state file": fresh} {
		out, errOut, err := proc.seats(t, exporter.SeatsOptions{Workspaces: []string{p.gids[0]}, States: []string{"licensed"}})
		if err != nil {
			t.Fatalf("%s: %v: %s", name, err, errOut)
		}
		never, paused, recent := 0, 0, 0
		for _, row := range readCSV(t, out) {
			if row[13] != "audit_log" {
				t.Fatalf("%s: activity_source %q, want audit_log: %v", name, row[13], row)
			}
			switch last := row[10]; {
			case last == "":
				never++
			default:
				at, err := time.Parse(time.RFC3339, last)
				if err != nil {
					t.Fatalf("%s: last_login_at %q: %v", name, last, err)
				}
				if time.Since(at) < 2*idle.Day {
					recent++
				}
			}
			if row[11] == "true" {
				paused++
			}
		}
		// No login: the idle-for-90-days and the pending invitations.
		if want := acmeUsage.Idle90 + asanatest.Acme.Pending; never != want {
			t.Errorf("%s: %d licensed rows without a login, want %d", name, never, want)
		}
		if paused != acmeUsage.Paused {
			t.Errorf("%s: %d paused licences, want %d", name, paused, acmeUsage.Paused)
		}
		if want := asanatest.Acme.Licensed - acmeUsage.Idle30 - acmeUsage.Idle60 - acmeUsage.Idle90 - acmeUsage.Paused - asanatest.Acme.Pending; recent != want {
			t.Errorf("%s: %d licensed rows logged in within two days, want %d", name, recent, want)
		}
	}
}
