package exporter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
	"github.com/asana-exporter/asana_exporter/internal/testutil/pagetest"
	"github.com/asana-exporter/asana_exporter/internal/testutil/rogue"
)

// hostileDeadline bounds one collection, command or poll of the hostile
// suite. It is generous: every hostile case must end on an error of its
// own, at once, never by running out of time, and the suite asserts on
// that error, not on how long it took.
const hostileDeadline = 20 * time.Second

// scope is what a hostile case must fail, if anything.
type scope int

const (
	// exact: the misbehaviour is absorbed and the count comes out exact.
	exact scope = iota
	// workspacesFail: GET /workspaces fails, so asana_up is 0.
	workspacesFail
	// listingFails: the listing under attack fails (Globex's memberships,
	// or Umbrella's audit log) and nothing else does.
	listingFails
)

// driver is what runs a hostile case: a collection in either mode, a
// command, or the audit log reader in either mode.
type driver string

const (
	background    driver = "background"
	onScrape      driver = "on-scrape"
	seatsCommand  driver = "seats"
	checkCommand  driver = "config-check"
	auditReader   driver = "audit-background"
	auditOnScrape driver = "audit-on-scrape"
)

// newLogins are the logins added to Umbrella's audit log while it
// misbehaves: once it stops, each must be counted exactly once.
const newLogins = 250

var (
	// listingDrivers read the membership listings.
	listingDrivers = []driver{background, onScrape, seatsCommand, checkCommand}
	// allDrivers read the membership listings and the audit log.
	allDrivers = []driver{background, onScrape, seatsCommand, checkCommand, auditReader, auditOnScrape}
	// auditDrivers read the audit log.
	auditDrivers = []driver{auditReader, auditOnScrape}
)

// hostileCase is one misbehaviour of issue 25 and what the exporter must
// do about it.
type hostileCase struct {
	name    string
	drivers []driver
	// tls serves the front over HTTPS.
	tls bool
	// config is the config file, given the workspaces' gids.
	config func(gids []string) string
	// arm, when set, sets the misbehaviour once the exporter has run
	// clean, and returns its rule, for the cases that count its hits.
	arm   func(h *hostileRun) *rogue.Rule
	fails scope
	// says is what the error must say: a case-insensitive regexp, "" for
	// any error.
	says string
	// child runs the case in a child process: where it crashes the
	// process, that must fail this case alone, not end the suite.
	child bool
	// extra checks what is particular to the case.
	extra func(t *testing.T, h *hostileRun, o *outcome)
}

// hostileRun is one case under one driver.
type hostileRun struct {
	p         *inProcess
	front     *rogue.Front
	frontURL  string // the front's scheme and host
	elsewhere *rogue.Elsewhere
	log       *pagetest.Log
	audit     bool // the driver reads the audit log
	// listing is the path under attack: Globex's memberships, or
	// Umbrella's audit log.
	listing string
	// attacked are the requests under attack: Globex's memberships, or
	// Umbrella's logins; later, those of them with an offset.
	attacked, later rogue.Match
	rule            *rogue.Rule
	// lastLogin is Umbrella's last login before the new ones: where its
	// login stream stands once caught up.
	lastLogin time.Time
}

// outcome is what a driver saw.
type outcome struct {
	err error // the failure: the snapshot's, the command's or the poll's
	// said is everything the exporter said: errors, command output, log
	// lines, HTTP pages, metrics.
	said     string
	families exposition.Families // the scrape after the hostile step; nil after a command
	rows     [][]string          // the seats command's
}

const (
	rateLimited = "You've made too many requests and hit a rate limit. Please retry after the given amount of time."
	// oddOffset is a 400 about an offset that matches none of Asana's
	// known messages.
	oddOffset = "offset: Something about the offset is off."
)

// The personal data in piiBody, as they must never be seen again.
var personalData = []string{"1234567898", "Zebulon", "Quixote", "zq@", "pii.example"}

// piiBody is a page whose bad field (a user gid that is a number) is
// followed by the user's name and email.
func piiBody(audit bool) string {
	user := `{"gid":12345678987654,"name":"Zebulon Quixote","email":"zq@pii.example","resource_type":"user"}`
	if audit {
		return `{"data":[{"gid":"1300000000999999","created_at":"` + time.Now().UTC().Format("2006-01-02T15:04:05.000Z") +
			`","event_type":"user_login_succeeded","resource":` + user + `}],"next_page":{"offset":"hostile"}}`
	}
	return `{"data":[{"gid":"1200000000999999","resource_type":"workspace_membership","is_active":true,"is_admin":false,` +
		`"is_guest":false,"is_view_only":false,"user":` + user + `}],"next_page":null}`
}

var hostileCases = []hostileCase{
	{name: "workspaces redirected to another host", drivers: listingDrivers, fails: workspacesFail, extra: redirected,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(rogue.Path(asana.EndpointWorkspaces), 0, rogue.Redirect(h.elsewhere.URL))
		}},
	{name: "page redirected to another host", drivers: allDrivers, fails: listingFails, extra: redirected,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.later, 0, rogue.Redirect(h.elsewhere.URL))
		}},
	{name: "page redirected from https to http", drivers: allDrivers, tls: true, fails: listingFails, extra: redirected,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.later, 0, rogue.Redirect(h.elsewhere.URL))
		}},
	{name: "body nested ten million deep", drivers: allDrivers, child: true, fails: listingFails, says: "depth|nest",
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.attacked, 0, rogue.Nested(10_000_000))
		}},
	{name: "empty page mid-listing", drivers: listingDrivers, fails: exact,
		arm: func(h *hostileRun) *rogue.Rule { return h.front.On(h.later, 1, rogue.Empty()) }},
	{name: "membership on two pages", drivers: listingDrivers, fails: exact, extra: duplicateDropped,
		arm: func(h *hostileRun) *rogue.Rule { return h.front.On(h.later, 1, rogue.Repeat()) }},
	{name: "opt_fields ignored", drivers: listingDrivers, fails: listingFails, says: "opt_fields",
		arm: func(h *hostileRun) *rogue.Rule { return h.front.On(h.attacked, 0, rogue.Compact()) }},
	{name: "offsets loop", drivers: listingDrivers, fails: listingFails, says: "cycl|loop|repeat|again|twice|already",
		arm: func(h *hostileRun) *rogue.Rule { return h.front.On(h.later, 0, rogue.Loop()) }},
	{name: "Retry-After of 31 years", drivers: allDrivers, fails: listingFails, says: `1000000000|277777h|11574 ?days|31\.7 ?y|31 years`, extra: askedOnce,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.later, 0,
				rogue.Reply(http.StatusTooManyRequests, http.Header{"Retry-After": {"1000000000"}}, rogue.ErrorBody(rateLimited)))
		}},
	{name: "decode error before a name and an email", drivers: allDrivers, fails: listingFails, extra: saysNoPersonalData,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.attacked, 0, rogue.Reply(http.StatusOK, nil, piiBody(h.audit)))
		}},
	{name: "workspace listed twice", drivers: listingDrivers, fails: exact,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(rogue.Path(asana.EndpointWorkspaces), 0, rogue.Twice())
		}},
	{name: "workspace twice in the config", drivers: listingDrivers, fails: exact, extra: purchasedOnce,
		config: func(gids []string) string {
			return fmt.Sprintf("workspaces:\n  - gid: %q\n    seats_purchased: 500\n  - gid: %q\n    seats_purchased: 500\n", gids[1], gids[1])
		}},
	{name: "audit offset refused with an unknown message", drivers: auditDrivers, fails: exact, extra: restartedWithItsQuery,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.later, 1, rogue.Reply(http.StatusBadRequest, nil, rogue.ErrorBody(oddOffset)))
		}},
	{name: "audit stream stalled", drivers: auditDrivers, fails: listingFails, extra: stalled,
		arm: func(h *hostileRun) *rogue.Rule {
			return h.front.On(h.attacked, 0,
				rogue.Reply(http.StatusBadRequest, nil, rogue.ErrorBody(oddOffset)))
		}},
}

// TestHostile runs each hostile case (hostileCases) under each of its
// drivers, against a hostile server in front of the simulator.
func TestHostile(t *testing.T) {
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.child && !inChild(t) {
				return
			}
			for _, d := range c.drivers {
				t.Run(string(d), func(t *testing.T) {
					t.Parallel()
					runHostile(t, c, d)
				})
			}
		})
	}
}

func runHostile(t *testing.T, c hostileCase, d driver) {
	h := newHostileRun(t, c, d)
	var o outcome
	switch d {
	case background, onScrape:
		o = h.collect(t, c)
	case seatsCommand:
		o = h.seats(t, c)
	case checkCommand:
		o = h.check(t, c)
	default:
		o = h.poll(t, c)
	}
	if h.rule != nil && h.rule.Hits() == 0 {
		t.Error("the misbehaviour never happened: its rule matched no request")
	}
	switch {
	case c.fails == exact:
		if lines := errorLines(h.log.String()); lines != "" {
			t.Errorf("the misbehaviour was absorbed, yet the exporter logged errors:\n%s", lines)
		}
	case o.err == nil: // the driver said so already
	case errors.Is(o.err, context.DeadlineExceeded) || errors.Is(o.err, asana.ErrBudgetExhausted) ||
		strings.Contains(o.err.Error(), context.DeadlineExceeded.Error()) || strings.Contains(o.err.Error(), string(asana.ErrBudgetExhausted)):
		t.Errorf("it ran out of time instead of failing on the misbehaviour: %v", o.err)
	case c.says != "" && !regexp.MustCompile("(?i)"+c.says).MatchString(o.err.Error()):
		t.Errorf("the error does not say /%s/: %v", c.says, o.err)
	}
	if c.extra != nil {
		c.extra(t, h, &o)
	}
	if h.audit {
		h.recovers(t)
	}
}

// fewRetries keeps the retries of what is retried few and short: the
// backoff is not what the suite tests, and a hostile body sent again five
// times costs five times the CPU the machine shares.
func fewRetries(o *asana.Options) {
	o.MaxAttempts, o.RetryBaseDelay, o.RetryMaxDelay = 2, 20*time.Millisecond, 100*time.Millisecond
}

// smallOrganization is the organisation whose audit log the audit drivers
// read: its 90 days are a few pages, where Umbrella's are 134.
var smallOrganization = asanatest.WorkspaceSpec{Name: "Umbrella", IsOrganization: true, Licensed: 8, Admins: 1, ViewOnly: 2, Guests: 3, Inactive: 2}

func newHostileRun(t *testing.T, c hostileCase, d driver) *hostileRun {
	h := &hostileRun{log: &pagetest.Log{}, elsewhere: rogue.NewElsewhere(), audit: d == auditReader || d == auditOnScrape}
	t.Cleanup(h.elsewhere.Close)
	specs := []asanatest.WorkspaceSpec{asanatest.Acme, asanatest.Globex}
	s := setup{background: d != onScrape, client: fewRetries}
	if h.audit { // one organisation, read with the audit tests' setup
		specs = []asanatest.WorkspaceSpec{plain, smallOrganization}
		s = auditSetup(d == auditReader)
		s.usage = []asanatest.UsageSpec{{}, {}}
		s.client = func(o *asana.Options) {
			o.RequestsPerMinute = 1 << 20
			fewRetries(o)
		}
	}
	s.deadline, s.log = hostileDeadline, h.log
	if c.config != nil {
		org := asanatest.Generate(11, specs...) // newInProcess's seed: the same gids
		s.config = c.config([]string{org.Workspaces[0].GID, org.Workspaces[1].GID})
	}
	var transport http.RoundTripper // the front's, trusting its certificate
	s.front = func(api http.Handler) string {
		h.front = rogue.New(api)
		srv := httptest.NewUnstartedServer(h.front)
		if c.tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		h.frontURL, transport = srv.URL, srv.Client().Transport
		return srv.URL + rogue.APIPrefix
	}
	if c.tls {
		tune := s.client
		s.client = func(o *asana.Options) {
			tune(o)
			bearer, err := asana.BearerToken(asanatest.DefaultToken, transport)
			if err != nil {
				t.Fatal(err)
			}
			o.Transport = bearer
		}
	}
	h.p = newInProcess(t, s, specs...)
	h.listing = "/workspaces/" + h.p.gids[1] + "/workspace_memberships"
	h.attacked = rogue.Path(h.listing)
	if h.audit {
		h.listing = "/workspaces/" + h.p.gids[1] + "/audit_log_events"
		h.attacked = rogue.All(rogue.Path(h.listing), rogue.Query("event_type", asana.EventLoginSucceeded))
	}
	h.later = rogue.All(h.attacked, rogue.Offset)
	return h
}

func (h *hostileRun) arm(c hostileCase) {
	if c.arm != nil {
		h.rule = c.arm(h)
	}
}

// collect runs a clean cycle, grows Globex by 5 seats, arms the
// misbehaviour and runs the hostile cycle: Globex's new exact count if it
// is absorbed; otherwise its last complete count in the background and
// none on scrape, never a number of the misbehaviour's making.
func (h *hostileRun) collect(t *testing.T, c hostileCase) outcome {
	p := h.p
	acme, globex := p.gids[0], p.gids[1]
	clean, _ := p.cycle(t)
	checkSeats(t, clean, globex, p.truth[1])
	before := p.truth[1]
	p.growGlobex(5)
	h.arm(c)
	families, _ := p.cycle(t)
	snap := p.exp.Collection().Snapshot()
	o := outcome{families: families}
	up, _ := families.Sample("asana_up")
	success, _ := families.Sample("asana_collection_success", "workspace_gid="+globex)
	lastCount := func() {
		t.Helper()
		if p.exp.Collection().Background() {
			checkSeats(t, families, globex, before)
		} else if got, published := families.Seats(globex); published {
			t.Errorf("on-scrape mode published %+v for a failed Globex", got)
		}
	}
	switch c.fails {
	case exact:
		if success != 1 {
			t.Errorf("Globex failed: %v", workspaceErr(snap, globex))
		}
		checkSeats(t, families, globex, p.truth[1])
		for _, gid := range p.gids {
			if n := families.Sum("asana_workspace_info", "workspace_gid="+gid); n != 1 {
				t.Errorf("workspace %s has %v sets of series, want 1", gid, n)
			}
		}
	case workspacesFail:
		o.err = snap.Err
		if up != 0 {
			t.Errorf("asana_up = %v, want 0", up)
		}
		lastCount()
	case listingFails:
		o.err = workspaceErr(snap, globex)
		if up != 1 || success != 0 {
			t.Errorf("asana_up = %v, Globex's asana_collection_success = %v; want 1 and 0", up, success)
		}
		checkSeats(t, families, acme, p.truth[0])
		lastCount()
	}
	o.said = h.log.String() + errText(o.err) + render(families) + h.pages(t)
	return o
}

// workspaceErr is why gid failed in snap.
func workspaceErr(snap *collect.Snapshot, gid string) error {
	for _, w := range snap.Workspaces {
		if w.GID == gid {
			return w.Err
		}
	}
	return fmt.Errorf("workspace %s is not in the snapshot", gid)
}

// seats runs the seats command: the roster of the misbehaviour's making is
// never written; a failed workspace has no row and is named on stderr.
func (h *hostileRun) seats(t *testing.T, c hostileCase) outcome {
	p := h.p
	acme, globex := p.gids[0], p.gids[1]
	h.arm(c)
	out, errOut, err := p.seats(t, exporter.SeatsOptions{})
	o := outcome{said: h.log.String() + out + errOut + errText(err) + h.pages(t)}
	if out != "" {
		o.rows = readCSV(t, out)
	}
	rows := map[string]int{}
	seen := map[string]bool{}
	twice := 0
	for _, r := range o.rows {
		rows[r[0]]++
		if seen[r[2]] {
			twice++
		}
		seen[r[2]] = true
	}
	if twice > 0 {
		t.Errorf("%d membership(s) written twice", twice)
	}
	switch c.fails {
	case exact:
		if err != nil {
			t.Errorf("seats failed: %v: %s", err, errOut)
		}
		if rows[globex] != p.truth[1].Total() {
			t.Errorf("%d rows of Globex, want %d", rows[globex], p.truth[1].Total())
		}
	case workspacesFail:
		if err == nil || len(o.rows) > 0 {
			t.Errorf("error %v with %d rows; want an error and no row", err, len(o.rows))
		}
		o.err = err
	case listingFails:
		if err == nil || rows[globex] > 0 || rows[acme] != p.truth[0].Total() || !strings.Contains(errOut, globex) {
			t.Errorf("error %v, %d rows of Globex, %d of Acme (want %d), stderr %q; want an error naming Globex and none of its rows",
				err, rows[globex], rows[acme], p.truth[0].Total(), errOut)
		}
		if err != nil {
			o.err = errors.New(errOut + err.Error())
		}
	}
	return o
}

// check runs --config.check: it fails on what cannot be collected and
// names it; what is absorbed shows its exact count.
func (h *hostileRun) check(t *testing.T, c hostileCase) outcome {
	p := h.p
	globex := p.gids[1]
	h.arm(c)
	var out bytes.Buffer
	err := p.exp.Check(context.Background(), &out)
	o := outcome{said: h.log.String() + out.String() + errText(err) + h.pages(t)}
	var lines []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, globex) {
			lines = append(lines, line)
		}
	}
	switch c.fails {
	case exact:
		want := fmt.Sprintf("readable: %d (%d licensed)", p.truth[1].Total(), p.truth[1].Licensed)
		if err != nil || len(lines) != 1 || !strings.Contains(lines[0], want) {
			t.Errorf("error %v, Globex's lines %q; want no error and one line saying %q", err, lines, want)
		}
	case workspacesFail:
		if err == nil {
			t.Error("the check passed")
		}
		o.err = err
	case listingFails:
		if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "ERROR") {
			t.Errorf("error %v, Globex's lines %q; want an error and one ERROR line", err, lines)
		}
		o.err = workspaceErr(p.exp.Collection().Snapshot(), globex)
	}
	return o
}

// poll reads the audit log up to date, adds new logins to Umbrella, arms
// the misbehaviour, and polls once.
func (h *hostileRun) poll(t *testing.T, c hostileCase) outcome {
	p := h.p
	p.cycle(t)
	// A poll cut short by its deadline resumes at the next: on a busy
	// machine the backfill may take more than one.
	for polls := 1; ; polls++ {
		err := p.poll()
		if err == nil && p.exp.Collection().AuditLog().Ledger(p.gids[1]).Status().BackfillDone {
			break
		}
		if err != nil || polls == 5 {
			t.Fatalf("the backfill is not done after %d polls: %v", polls, err)
		}
	}
	p.srv.Mutate(func(o *asanatest.Org) {
		logins := o.Workspaces[1].AuditEvents(asana.EventLoginSucceeded)
		h.lastLogin = logins[len(logins)-1].CreatedAt
	})
	p.addLogins(newLogins)
	p.srv.ResetRequests()
	h.arm(c)
	err := p.pollUnhurried(t)
	families, _ := p.cycle(t)
	o := outcome{err: err, families: families}
	o.said = h.log.String() + errText(err) + render(families) + h.pages(t)
	switch up, _ := families.Sample("asana_audit_log_up"); {
	case c.fails == exact && err != nil:
		t.Errorf("the poll failed: %v", err)
	case c.fails != exact && err == nil:
		t.Error("the poll succeeded")
	case c.fails != exact && up != 0:
		t.Errorf("asana_audit_log_up = %v after a failed poll", up)
	}
	return o
}

// recovers clears the misbehaviour: the next poll succeeds, and each new
// login is counted exactly once.
func (h *hostileRun) recovers(t *testing.T) {
	p := h.p
	h.front.Clear()
	if err := p.poll(); err != nil {
		t.Fatalf("the poll after the misbehaviour ended: %v", err)
	}
	families, _ := p.cycle(t)
	umbrella := "workspace_gid=" + p.gids[1]
	if got, _ := families.Sample("asana_audit_log_events_total", umbrella, "event_type="+asana.EventLoginSucceeded); got != newLogins {
		t.Errorf("%v new logins counted, want %d", got, newLogins)
	}
	if up, _ := families.Sample("asana_audit_log_up"); up != 1 {
		t.Errorf("asana_audit_log_up = %v after recovery", up)
	}
	if n, _ := sumOf(families, "stalled"); n != 0 {
		t.Errorf("the audit log still shows %v stalled after it moved on", n)
	}
}

// redirected: the other host never got the token, the error names both
// hosts, and nothing of the other host's answer is published.
func redirected(t *testing.T, h *hostileRun, o *outcome) {
	if tokens := h.elsewhere.Tokens(); len(tokens) > 0 {
		t.Errorf("the other host received the token %d time(s)", len(tokens))
	}
	for _, u := range []string{h.frontURL, h.elsewhere.URL} {
		host, _ := url.Parse(u)
		if o.err != nil && !strings.Contains(o.err.Error(), host.Host) {
			t.Errorf("the error does not name %s: %v", host.Host, o.err)
		}
	}
	if strings.Contains(render(o.families), rogue.ElsewhereWorkspace) {
		t.Error("the other host's workspace is published")
	}
	for _, r := range o.rows {
		if r[0] == rogue.ElsewhereWorkspace || strings.HasPrefix(r[2], "177777777777") {
			t.Errorf("the roster has the other host's rows, such as %q", r)
			break
		}
	}
}

// duplicateDropped: the dropped duplicate shows in a metric.
func duplicateDropped(t *testing.T, _ *hostileRun, o *outcome) {
	if o.families == nil {
		return // a command: its rows are checked for duplicates
	}
	if n, found := sumOf(o.families, "duplicate"); n != 1 {
		t.Errorf("the metrics named *duplicate* (found: %t) add up to %v, want 1", found, n)
	}
}

// askedOnce: a Retry-After beyond the deadline is not waited for, nor the
// request sent again.
func askedOnce(t *testing.T, h *hostileRun, _ *outcome) {
	if n := h.rule.Hits(); n != 1 {
		t.Errorf("the request was sent %d times, want once", n)
	}
}

// saysNoPersonalData: the name, the email and the user gid after the bad
// field appear in no error, log line, output or HTTP page.
func saysNoPersonalData(t *testing.T, _ *hostileRun, o *outcome) {
	for _, s := range personalData {
		if i := strings.Index(o.said, s); i >= 0 {
			t.Errorf("%q is shown: ...%s...", s, o.said[max(i-80, 0):min(i+80, len(o.said))])
		}
	}
}

// purchasedOnce: the workspace's settings are published once.
func purchasedOnce(t *testing.T, h *hostileRun, o *outcome) {
	if o.families == nil {
		return
	}
	if n := o.families.Sum("asana_workspace_seats_purchased", "workspace_gid="+h.p.gids[1]); n != 500 {
		t.Errorf("seats purchased add up to %v, want 500", n)
	}
}

// restartedWithItsQuery: after the refused offset the stream starts again
// where it stood, and every request with an offset carries the stream's
// query as next_page.path shows it: start_at, event_type and limit.
func restartedWithItsQuery(t *testing.T, h *hostileRun, _ *outcome) {
	restarted := false
	for _, r := range h.p.srv.Requests() {
		q := r.Query
		switch {
		case r.Path != h.listing:
		case q.Has("offset") && !(q.Has("start_at") && q.Has("event_type") && q.Has("limit")):
			t.Errorf("a request with an offset lacks the stream's query: %v", q)
		case !q.Has("offset") && q.Get("event_type") == asana.EventLoginSucceeded:
			if want := h.lastLogin.UTC().Format("2006-01-02T15:04:05.000Z"); q.Get("start_at") != want {
				t.Errorf("the login stream restarted at %s, want where it stood, %s", q.Get("start_at"), want)
			}
			restarted = true
		}
	}
	if !restarted {
		t.Error("the login stream did not restart")
	}
}

// stalledPolls is how many polls in a row without progress make a stall.
const stalledPolls = 10

// stalled: a stream that moves on in none of several polls shows in a
// metric, and in one log line (debug lines aside).
func stalled(t *testing.T, h *hostileRun, o *outcome) {
	if n, _ := sumOf(o.families, "stalled"); n != 0 {
		t.Errorf("stalled after one poll: %v", n)
	}
	for range stalledPolls - 1 {
		if err := h.p.poll(); err == nil {
			t.Fatal("a poll of the stalled stream succeeded")
		}
	}
	if n, found := sumOf(h.p.scrape(t), "stalled"); n < 1 {
		t.Errorf("after %d polls without progress, the metrics named *stalled* (found: %t) add up to %v", stalledPolls, found, n)
	}
	var lines []string
	for _, line := range strings.Split(h.log.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "stall") && !strings.Contains(line, "level=DEBUG") {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 {
		t.Errorf("%d log lines say the stream stalled, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}

// sumOf adds up every series of the families whose name contains part, and
// says whether there is one.
func sumOf(families exposition.Families, part string) (float64, bool) {
	var sum float64
	found := false
	for name := range families {
		if strings.Contains(name, part) {
			sum, found = sum+families.Sum(name), true
		}
	}
	return sum, found
}

// errorLines are the log lines at level ERROR.
func errorLines(log string) string {
	var lines []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "level=ERROR") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// render is the metrics as a scrape shows them.
func render(families exposition.Families) string {
	var b strings.Builder
	for _, mf := range families {
		expfmt.MetricFamilyToText(&b, mf)
	}
	return b.String()
}

// pages are the exporter's other HTTP pages.
func (h *hostileRun) pages(t *testing.T) string {
	var b strings.Builder
	for _, path := range []string{"/", "/-/ready", "/-/healthy"} {
		b.WriteString(h.p.serve(t, path, nil).Body.String())
	}
	return b.String()
}

// addLogins adds n logins of Umbrella's daily users, all at one instant
// across several pages.
func (p *inProcess) addLogins(n int) {
	p.srv.Mutate(func(o *asanatest.Org) {
		users := dailyUsers(o)
		at := time.Now().Truncate(time.Millisecond)
		for i := range n {
			o.AddAuditEvent(o.Workspaces[1], asanatest.AuditEvent{CreatedAt: at, Type: asana.EventLoginSucceeded, User: users[i%len(users)]})
		}
	})
}

// childEnv names, in a child process, the test it is to run.
const childEnv = "ASANA_EXPORTER_HOSTILE_CHILD"

// inChild reports whether t runs in a child process of its own. If not,
// it runs t in one, and fails t if the child crashes or fails.
func inChild(t *testing.T) bool {
	if os.Getenv(childEnv) == t.Name() {
		// A decoder that recurses once per level fails as it would at the
		// default 1 GB, without taking a gigabyte per goroutine first.
		debug.SetMaxStack(256 << 20)
		return true
	}
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		// A crash's reason comes first, before the goroutines' stacks.
		from := max(len(out)-6000, 0)
		if i := bytes.Index(out, []byte("\nfatal error:")); i >= 0 {
			from = i
		}
		t.Errorf("the child process failed (%v):\n%s", err, out[from:min(from+3000, len(out))])
	}
	return false
}
