package exporter_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// The two organisations' service accounts: each sees its own
// organisation alone, as a service account does.
const (
	acmeToken   = "2/1111:acme-service-account"
	globexToken = "2/2222:globex-service-account"
)

// orgs is the exporter counting Acme and Globex, two organisations served
// by one simulated API, each with its own service account's token; the
// audit logs of both are on.
type orgs struct {
	*inProcess
	config string // the config file
	opts   exporter.Options
}

// orgsConfig is the config of the organisations of names (acme, globex,
// or both), with the token files in dir and gids[0] Acme's, gids[1]
// Globex's.
func orgsConfig(dir string, gids []string, names ...string) string {
	var b strings.Builder
	b.WriteString("audit_log:\n  enabled: true\norganizations:\n")
	for _, name := range names {
		i := map[string]int{"acme": 0, "globex": 1}[name]
		fmt.Fprintf(&b, "  - name: %s\n    token_file: %s\n    workspaces:\n      - gid: %q\n        seats_purchased: %d\n",
			name, filepath.Join(dir, name+"-token"), gids[i], []int{30, 400}[i])
	}
	return b.String()
}

func newOrgs(t *testing.T, background bool, tune func(*exporter.Options), names ...string) *orgs {
	t.Helper()
	time.Sleep(time.Until(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))) // as newInProcess: members joined from 2019
	org := asanatest.Generate(11, asanatest.Acme, asanatest.Globex)
	org.GenerateUsage(org.Workspaces[0], time.Now(), acmeUsage)
	org.GenerateUsage(org.Workspaces[1], time.Now(), umbrellaUsage)
	srv := asanatest.NewMemoryServer(org, asanatest.Config{
		Tokens:            map[string]asanatest.TokenKind{acmeToken: asanatest.ServiceAccount, globexToken: asanatest.ServiceAccount},
		Scopes:            map[string][]string{acmeToken: {org.Workspaces[0].GID}, globexToken: {org.Workspaces[1].GID}},
		RequestsPerWindow: 1 << 20,
	})
	t.Cleanup(srv.Close)
	p := &orgs{inProcess: &inProcess{deadline: cycleDeadline, srv: srv, dir: t.TempDir(), gids: srv.WorkspaceGIDs(),
		truth: []asana.SeatCounts{asanatest.Acme.Seats(), asanatest.Globex.Seats()}}}
	p.write(t, "acme-token", acmeToken)
	p.write(t, "globex-token", globexToken)
	p.config = p.write(t, "asana.yml", orgsConfig(p.dir, p.gids, names...))
	p.opts = exporter.Options{AsanaURL: srv.BaseURL, Transport: srv.Transport, ConfigFile: p.config, TimeoutOffset: 500 * time.Millisecond,
		// The budget lifted, as auditSetup does: 90 days of logins are
		// hundreds of pages, and the budget is not what is tested.
		Client: func(o *asana.Options) {
			o.RequestsPerMinute, o.RetryBaseDelay, o.RetryMaxDelay = 1<<20, 20*time.Millisecond, 100*time.Millisecond
		}}
	if background {
		p.opts.RefreshInterval = cycleDeadline
	}
	if tune != nil {
		tune(&p.opts)
	}
	var err error
	if p.exp, err = exporter.New(p.opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.exp.Close)
	return p
}

// refresh runs one cycle of each organisation named, at once, as their
// Runs would in the background.
func (p *orgs) refresh(t *testing.T, names ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, name := range names {
		c := p.exp.CollectionOf(name)
		if c == nil {
			t.Fatalf("organisation %s is not counted", name)
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), p.deadline)
			defer cancel()
			c.Refresh(ctx, nil)
		})
	}
	wg.Wait()
}

// cycle runs one cycle of the organisations the way the mode does, and
// returns what a scrape then sees.
func (p *orgs) cycle(t *testing.T, names ...string) exposition.Families {
	t.Helper()
	if p.exp.CollectionOf(names[0]).Background() {
		p.refresh(t, names...)
	}
	return p.scrape(t)
}

// readAuditLogs polls the audit log of each organisation named once.
func (p *orgs) readAuditLogs(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		c := p.exp.CollectionOf(name)
		if err := c.ReadAuditLogs(context.Background(), c.AuditedOrganizations(), nil); err != nil {
			t.Fatalf("%s's audit log: %v", name, err)
		}
	}
}

// sample fails t unless the scrape has name{labels} == want.
func sample(t *testing.T, families exposition.Families, want float64, name string, labels ...string) {
	t.Helper()
	if v, ok := families.Sample(name, labels...); !ok || v != want {
		t.Errorf("%s%v = %v (present %t), want %v", name, labels, v, ok, want)
	}
}

// TestTwoOrganizationsEachWithItsOwnToken: in both modes, each
// organisation is counted exactly with its own token; asana_up, the API
// and the audit log metrics are each organisation's, labelled with its
// name, and the API requests each counts are those its token sent; the
// seat metrics have no organization label.
func TestTwoOrganizationsEachWithItsOwnToken(t *testing.T) {
	for _, background := range []bool{true, false} {
		t.Run(fmt.Sprintf("background=%t", background), func(t *testing.T) {
			p := newOrgs(t, background, nil, "acme", "globex")
			// A count lists the organisations whose audit logs are read,
			// and the next judges their seats by them.
			p.cycle(t, "acme", "globex")
			p.readAuditLogs(t, "acme", "globex")
			families := p.cycle(t, "acme", "globex")
			for i, purchased := range []float64{30, 400} {
				checkSeats(t, families, p.gids[i], p.truth[i])
				sample(t, families, purchased, "asana_workspace_seats_purchased", "workspace_gid="+p.gids[i])
			}
			for i, usage := range []asanatest.UsageSpec{acmeUsage, umbrellaUsage} {
				sample(t, families, float64(usage.Idle(60)), "asana_workspace_seats_idle", "workspace_gid="+p.gids[i], "state=licensed", "days=60")
				sample(t, families, float64(usage.Paused), "asana_workspace_seats_paused", "workspace_gid="+p.gids[i])
			}
			for name, token := range map[string]string{"acme": acmeToken, "globex": globexToken} {
				sample(t, families, 1, "asana_up", "organization="+name)
				sample(t, families, 1, "asana_audit_log_up", "organization="+name)
				sample(t, families, 0, "asana_refresh_falling_behind", "organization="+name)
				if got, want := families.Sum("asana_api_requests_total", "organization="+name), float64(p.srv.Stats(token).Requests); got != want {
					t.Errorf("asana_api_requests_total{organization=%q} sums to %v; its token sent %v", name, got, want)
				}
			}
			for name, mf := range families {
				for _, m := range mf.GetMetric() {
					labelled := slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == "organization" })
					// The audit log's role changes are its reader's, as its
					// other metrics are.
					if own := strings.HasPrefix(name, "asana_api_") || strings.HasPrefix(name, "asana_audit_log_") ||
						name == "asana_workspace_admin_role_changes_total" || name == "asana_up" || strings.HasPrefix(name, "asana_refresh_"); own != labelled {
						t.Errorf("%s%v: organization label %t, want %t", name, m.GetLabel(), labelled, own)
					}
				}
			}
			if rec := p.serve(t, "/-/ready", nil); background && rec.Code != http.StatusOK {
				t.Errorf("/-/ready after both counted: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// TestARevokedTokenLeavesTheOtherOrganization: Acme's token revoked, Acme
// is down and Globex counts on as before, fresh, exactly; in the
// background Acme's last numbers stay until max_staleness, on scrape they
// are withdrawn. The exporter stays ready.
func TestARevokedTokenLeavesTheOtherOrganization(t *testing.T) {
	for _, background := range []bool{true, false} {
		t.Run(fmt.Sprintf("background=%t", background), func(t *testing.T) {
			p := newOrgs(t, background, nil, "acme", "globex")
			if background {
				p.refresh(t, "acme", "globex")
			}
			before := p.scrape(t)
			p.srv.RevokeToken(acmeToken)
			p.growGlobex(7)
			if background {
				p.refresh(t, "acme", "globex")
			}
			families := p.scrape(t)
			sample(t, families, 0, "asana_up", "organization=acme")
			sample(t, families, 1, "asana_up", "organization=globex")
			sample(t, families, 0, "asana_collection_success", "workspace_gid="+p.gids[0])
			sample(t, families, 1, "asana_collection_success", "workspace_gid="+p.gids[1])
			checkSeats(t, families, p.gids[1], p.truth[1])
			last, _ := families.Sample("asana_collection_last_success_timestamp_seconds", "workspace_gid="+p.gids[1])
			earlier, _ := before.Sample("asana_collection_last_success_timestamp_seconds", "workspace_gid="+p.gids[1])
			if !(last > earlier) {
				t.Errorf("globex's last success %v, not after %v: the revocation held it back", last, earlier)
			}
			if _, published := families.Seats(p.gids[0]); published != background {
				t.Errorf("acme's numbers published: %t, want %t (kept in the background until max_staleness)", published, background)
			}
			if rec := p.serve(t, "/-/ready", nil); background && rec.Code != http.StatusOK {
				t.Errorf("/-/ready with one organisation down: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// TestReloadAddsAndRemovesOrganizationsAllOrNothing: an organisation added
// whose token file is missing fails the reload, which changes nothing
// (Acme alone is counted, asana_exporter_config_last_reload_successful is
// 0); with the file, the reload adds it; another removes Acme, whose
// series go.
func TestReloadAddsAndRemovesOrganizationsAllOrNothing(t *testing.T) {
	p := newOrgs(t, true, nil, "acme")
	p.refresh(t, "acme")
	os.Remove(filepath.Join(p.dir, "globex-token"))
	p.write(t, "asana.yml", orgsConfig(p.dir, p.gids, "acme", "globex"))
	reload := func() *bytes.Buffer {
		rec := httptest.NewRecorder()
		p.exp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec.Body
	}
	if body := reload().String(); !strings.Contains(body, "Reload failed") || !strings.Contains(body, "organizations[1].token_file") {
		t.Errorf("reload with globex's token file missing: %q, want it to fail naming organizations[1].token_file", body)
	}
	if p.exp.CollectionOf("globex") != nil {
		t.Fatal("a failed reload added globex")
	}
	families := p.scrape(t)
	sample(t, families, 0, "asana_exporter_config_last_reload_successful")
	sample(t, families, 1, "asana_up", "organization=acme")
	if _, ok := families.Sample("asana_up", "organization=globex"); ok {
		t.Error("globex is exported after a failed reload")
	}

	p.write(t, "globex-token", globexToken)
	if body := reload().String(); !strings.HasPrefix(body, "Reloaded at ") {
		t.Fatalf("reload: %q", body)
	}
	acme := p.exp.CollectionOf("acme")
	p.refresh(t, "acme", "globex")
	families = p.scrape(t)
	sample(t, families, 1, "asana_exporter_config_last_reload_successful")
	checkSeats(t, families, p.gids[1], p.truth[1])
	sample(t, families, 1, "asana_up", "organization=globex")

	p.write(t, "asana.yml", orgsConfig(p.dir, p.gids, "globex"))
	if body := reload().String(); !strings.HasPrefix(body, "Reloaded at ") {
		t.Fatalf("reload: %q", body)
	}
	if p.exp.CollectionOf("acme") != nil || p.exp.CollectionOf("globex") == nil {
		t.Fatal("the reload did not remove acme alone")
	}
	families = p.scrape(t)
	if _, ok := families.Seats(p.gids[0]); ok {
		t.Error("acme's seats are exported after its removal")
	}
	for _, name := range []string{"asana_up", "asana_api_requests_total"} {
		if _, ok := families.Sample(name, "organization=acme"); ok {
			t.Errorf("%s{organization=acme} is exported after its removal", name)
		}
	}
	checkSeats(t, families, p.gids[1], p.truth[1])
	if acme == p.exp.CollectionOf("globex") {
		t.Error("globex's collection is acme's")
	}

	// A new budget reaches the organisation's client.
	globex := p.exp.CollectionOf("globex")
	p.write(t, "asana.yml", strings.Replace(orgsConfig(p.dir, p.gids, "globex"), "    workspaces:", "    requests_per_minute: 60\n    workspaces:", 1))
	if body := reload().String(); !strings.HasPrefix(body, "Reloaded at ") {
		t.Fatalf("reload: %q", body)
	}
	if p.exp.CollectionOf("globex") != globex {
		t.Error("a new budget made globex a new collection")
	}
	p.deadline = time.Minute
	p.refresh(t, "globex")
	if snap := globex.Snapshot(); snap.MinDuration != asana.MinDuration(snap.Requests, 60) || snap.MinDuration == 0 {
		t.Errorf("after requests_per_minute: 60, %d requests take at least %v, want %v", snap.Requests, snap.MinDuration, asana.MinDuration(snap.Requests, 60))
	}
}

// TestOrganizationsRefuseWhatWouldBeAGuess: the credential flags beside
// organizations:, --organization without it or naming none of it, and
// switching between one organisation and several by a reload, are each
// refused with what to do.
func TestOrganizationsRefuseWhatWouldBeAGuess(t *testing.T) {
	p := newOrgs(t, true, nil, "acme", "globex")
	for _, c := range []struct {
		tune func(*exporter.Options)
		want string
	}{
		{func(o *exporter.Options) { o.TokenFile = filepath.Join(p.dir, "acme-token") }, "--asana.token-file and organizations: in the config file"},
		{func(o *exporter.Options) { o.AuditTokenFile = filepath.Join(p.dir, "acme-token") }, "--asana.audit-token-file and organizations:"},
		{func(o *exporter.Options) { o.OAuth.ClientID = "1" }, "--asana.oauth.client-id (with its files) and organizations:"},
		{func(o *exporter.Options) { o.Organizations = []string{"initech"} }, "--organization=initech: no organization of that name in the config file; it has acme, globex"},
		{func(o *exporter.Options) { o.ConfigFile = "" }, "no Asana token"},
		{func(o *exporter.Options) {
			o.ConfigFile, o.TokenFile, o.Organizations = "", filepath.Join(p.dir, "acme-token"), []string{"acme"}
		},
			"--organization applies to a config file with organizations:"},
	} {
		opts := p.opts
		c.tune(&opts)
		if _, err := exporter.New(opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: %v, want it to say %q", err, c.want)
		}
	}
	t.Setenv(exporter.TokenEnv, acmeToken)
	if _, err := exporter.New(p.opts); err == nil || !strings.Contains(err.Error(), "$ASANA_TOKEN and organizations:") {
		t.Errorf("New with $ASANA_TOKEN set: %v", err)
	}

	p.write(t, "asana.yml", fmt.Sprintf("workspaces: [{gid: %q}]\n", p.gids[0]))
	rec := httptest.NewRecorder()
	p.exp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if !strings.Contains(rec.Body.String(), "organizations: is gone from the config file") {
		t.Errorf("a reload back to one organisation: %q", rec.Body)
	}
}

// TestOrganizationSelectsOne: --organization=globex counts Globex alone.
func TestOrganizationSelectsOne(t *testing.T) {
	p := newOrgs(t, true, func(o *exporter.Options) { o.Organizations = []string{"globex"} }, "acme", "globex")
	if p.exp.CollectionOf("acme") != nil {
		t.Fatal("acme is counted")
	}
	p.refresh(t, "globex")
	families := p.scrape(t)
	checkSeats(t, families, p.gids[1], p.truth[1])
	if _, ok := families.Seats(p.gids[0]); ok || p.srv.Stats(acmeToken).Requests != 0 {
		t.Errorf("acme's token sent %d requests", p.srv.Stats(acmeToken).Requests)
	}
}

// TestOrganizationsSharingATokenShareItsBudget: two organisations that name
// one token file share its client: each cycle is judged against the one
// budget with the other's requests added, and their API metrics count
// apart what the token sent. In a bubble: at 20 requests a minute the
// cycles take half a minute.
func TestOrganizationsSharingATokenShareItsBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pat = "2/3333:personal-access-token"
		p := newOrgs(t, true, func(o *exporter.Options) { o.Client = nil }, "acme")
		p.srv.GrantToken(pat, asanatest.FullAccess) // sees both
		p.write(t, "pat", pat)
		config := fmt.Sprintf("organizations:\n"+
			"  - {name: acme, token_file: %[1]s, requests_per_minute: 20, only_listed_workspaces: true, workspaces: [{gid: %[2]q}]}\n"+
			"  - {name: globex, token_file: %[1]s, requests_per_minute: 20}\n", filepath.Join(p.dir, "pat"), p.gids[0])
		p.opts.ConfigFile = p.write(t, "shared.yml", config)
		e, err := exporter.New(p.opts)
		if err != nil {
			t.Fatal(err)
		}
		p.exp, p.deadline = e, 5*time.Minute
		p.refresh(t, "acme", "globex")
		p.refresh(t, "acme", "globex") // each judged with the other's last cycle
		acme, globex := e.CollectionOf("acme").Snapshot(), e.CollectionOf("globex").Snapshot()
		if len(acme.Workspaces) != 1 || acme.Workspaces[0].GID != p.gids[0] || len(globex.Workspaces) != 1 || globex.Workspaces[0].GID != p.gids[1] {
			t.Fatalf("acme counted %v and globex %v: each its own workspace", acme.Workspaces, globex.Workspaces)
		}
		if want := asana.MinDuration(acme.Requests+globex.Requests, 20); want == 0 || acme.MinDuration != want || globex.MinDuration != want {
			t.Errorf("min durations %v and %v, want both %v: the requests of both (%d and %d) at the one budget",
				acme.MinDuration, globex.MinDuration, want, acme.Requests, globex.Requests)
		}
		families := p.scrape(t)
		if got, want := families.Sum("asana_api_requests_total", "organization=acme")+families.Sum("asana_api_requests_total", "organization=globex"),
			float64(p.srv.Stats(pat).Requests); got != want || families.Sum("asana_api_requests_total", "organization=acme") == 0 {
			t.Errorf("the organisations count %v requests, the shared token sent %v", got, want)
		}
	})
}

// TestReclaimAcrossOrganizations: reclaim plan proposes the idle seats of
// both organisations, each listed with its own token; apply removes each
// with the token of the organisation its workspace belongs to (the other's
// would be answered 404: a service account sees its own organisation
// alone), and undo adds each back the same way. With --organization=globex
// the plan holds Globex's seats alone.
func TestReclaimAcrossOrganizations(t *testing.T) {
	p := newOrgs(t, true, nil, "acme", "globex")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plan, journal := filepath.Join(p.dir, "plan.csv"), filepath.Join(p.dir, "journal.jsonl")
	var errOut bytes.Buffer
	if err := p.exp.ReclaimPlan(ctx, exporter.ReclaimOptions{IdleDays: 60, Output: plan}, &errOut); err != nil {
		t.Fatalf("plan: %v\n%s", err, errOut.String())
	}
	rows, err := reclaim.ReadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]int{}
	for _, r := range rows {
		if r.Action == reclaim.ActionRemove {
			planned[r.WorkspaceGID]++
		}
	}
	if planned[p.gids[0]] < acmeUsage.Idle(60) || planned[p.gids[1]] < umbrellaUsage.Idle(60) {
		t.Fatalf("the plan removes %v by workspace; want at least %d of acme's and %d of globex's", planned, acmeUsage.Idle(60), umbrellaUsage.Idle(60))
	}
	var out bytes.Buffer
	if err := p.exp.ReclaimApply(ctx, exporter.ReclaimOptions{Plan: plan, Journal: journal, Yes: true, Max: reclaim.MaxPerRun}, &out, &errOut); err != nil {
		t.Fatalf("apply: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	entries, err := reclaim.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]int{}
	for _, e := range entries {
		if e.Action == reclaim.ActionRemove && e.Result == reclaim.ResultDone {
			done[e.WorkspaceGID]++
			if e.ActorGID != asanatest.TokenUser.GID {
				t.Errorf("removal of %s journalled by %s, want the service account's user", e.MembershipGID, e.ActorGID)
			}
		}
	}
	if done[p.gids[0]] != planned[p.gids[0]] || done[p.gids[1]] != planned[p.gids[1]] {
		t.Errorf("removed %v by workspace, planned %v:\n%s", done, planned, out.String())
	}
	if err := p.exp.ReclaimUndo(ctx, exporter.ReclaimOptions{Journal: journal, Yes: true, Max: reclaim.MaxPerRun}, &out, &errOut); err != nil {
		t.Fatalf("undo: %v\n%s", err, errOut.String())
	}
	entries, _ = reclaim.ReadJournal(journal)
	added := map[string]int{}
	for _, e := range entries {
		if e.Action == reclaim.ActionAdd && e.Result == reclaim.ResultDone {
			added[e.WorkspaceGID]++
		}
	}
	if added[p.gids[0]] != done[p.gids[0]] || added[p.gids[1]] != done[p.gids[1]] {
		t.Errorf("added back %v by workspace, removed %v", added, done)
	}

	g := newOrgs(t, true, func(o *exporter.Options) { o.Organizations = []string{"globex"} }, "acme", "globex")
	if err := g.exp.ReclaimPlan(ctx, exporter.ReclaimOptions{IdleDays: 60, Output: plan}, &errOut); err != nil {
		t.Fatal(err)
	}
	if rows, _ = reclaim.ReadPlan(plan); len(rows) == 0 || slices.ContainsFunc(rows, func(r reclaim.Row) bool { return r.WorkspaceGID != g.gids[1] }) {
		t.Errorf("--organization=globex planned %d rows, some not globex's", len(rows))
	}
}

// TestCheckAndSeatsAcrossOrganizations: --config.check refreshes each
// organisation and prints each one's workspaces under its name; one whose
// token is revoked fails the check, named, and the other is still shown.
// seats lists the members of both, each with its own token.
func TestCheckAndSeatsAcrossOrganizations(t *testing.T) {
	p := newOrgs(t, true, nil, "acme", "globex")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := p.exp.Check(ctx, &out); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"counting the memberships of 2 organization(s)", "\norganization acme:\ntoken: valid, sees 1 workspace(s)",
		"\norganization globex:\ntoken: valid, sees 1 workspace(s)", p.gids[0] + "  Acme Corp", p.gids[1] + "  Globex"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the check does not say %q:\n%s", want, out.String())
		}
	}
	var roster, errOut bytes.Buffer
	if err := p.exp.Seats(ctx, exporter.SeatsOptions{Format: "csv"}, &roster, &errOut); err != nil {
		t.Fatalf("seats: %v\n%s", err, errOut.String())
	}
	for i, spec := range []asanatest.WorkspaceSpec{asanatest.Acme, asanatest.Globex} {
		if n, want := strings.Count(roster.String(), "\n"+p.gids[i]+","), spec.Seats().Total(); n != want {
			t.Errorf("seats lists %d rows of workspace %s, want %d", n, p.gids[i], want)
		}
	}

	p.srv.RevokeToken(acmeToken)
	out.Reset()
	err := p.exp.Check(ctx, &out)
	if err == nil || !strings.Contains(err.Error(), "organization acme: token check failed") || strings.Contains(err.Error(), "globex") {
		t.Errorf("check with acme's token revoked: %v", err)
	}
	if !strings.Contains(out.String(), "\norganization globex:\ntoken: valid") {
		t.Errorf("the check with acme down does not show globex:\n%s", out.String())
	}
}
