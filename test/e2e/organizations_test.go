package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// The service accounts of the two organisations: Acme counts with one and
// reads its audit log with another; Globex does both with one, given in
// the environment. Each sees its own organisation alone.
const (
	acmeToken      = "2/1111:acme-service-account"
	acmeAuditToken = "2/1112:acme-audit-service-account"
	globexToken    = "2/2222:globex-service-account"
)

// acmeUsage is Acme's audit log: a few idle and paused seats, and the
// other members' daily logins.
var acmeUsage = asanatest.UsageSpec{Idle30: 2, Idle60: 1, Idle90: 2, Paused: 1}

// organizations is the simulator serving Acme and Globex as two
// organisations with separate service accounts and audit logs, and the
// files of an exporter that counts them.
type organizations struct {
	srv    *asanatest.Server
	gids   []string // Acme's, Globex's
	truth  []asana.SeatCounts
	dir    string
	config string
}

func newOrganizations(t *testing.T) *organizations {
	t.Helper()
	org := asanatest.Generate(11, asanatest.Acme, asanatest.Globex)
	org.GenerateUsage(org.Workspaces[0], time.Now(), acmeUsage)
	acme, globex := org.Workspaces[0].GID, org.Workspaces[1].GID
	o := &organizations{
		srv: asanatest.NewServer(org, asanatest.Config{
			Tokens: map[string]asanatest.TokenKind{acmeToken: asanatest.ServiceAccount, acmeAuditToken: asanatest.ServiceAccount,
				globexToken: asanatest.ServiceAccount},
			Scopes: map[string][]string{acmeToken: {acme}, acmeAuditToken: {acme}, globexToken: {globex}},
		}),
		gids:  []string{acme, globex},
		truth: []asana.SeatCounts{asanatest.Acme.Seats(), asanatest.Globex.Seats()},
		dir:   t.TempDir(),
	}
	t.Cleanup(o.srv.Close)
	writeFile(t, filepath.Join(o.dir, "acme-token"), acmeToken+"\n")
	writeFile(t, filepath.Join(o.dir, "acme-audit-token"), acmeAuditToken+"\n")
	o.config = filepath.Join(o.dir, "asana.yml")
	o.write(t, "acme", "globex")
	return o
}

// write writes the config of the organisations named, acme and globex.
func (o *organizations) write(t *testing.T, names ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("audit_log:\n  enabled: true\norganizations:\n")
	for _, name := range names {
		switch name {
		case "acme":
			fmt.Fprintf(&b, "  - name: acme\n    token_file: %s\n    audit_token_file: %s\n    workspaces:\n      - gid: %q\n        seats_purchased: 30\n",
				filepath.Join(o.dir, "acme-token"), filepath.Join(o.dir, "acme-audit-token"), o.gids[0])
		case "globex":
			fmt.Fprintf(&b, "  - name: globex\n    token_env: GLOBEX_ASANA_TOKEN\n    workspaces:\n      - gid: %q\n        seats_purchased: 400\n", o.gids[1])
		case "initech": // a third, whose token file is not there
			fmt.Fprintf(&b, "  - name: initech\n    token_file: %s\n    only_listed_workspaces: true\n    workspaces:\n      - gid: \"1299999999999999\"\n",
				filepath.Join(o.dir, "initech-token"))
		}
	}
	writeFile(t, o.config, b.String())
}

// start runs the exporter on the config with extra flags, Globex's token
// in its environment, and waits until it is ready.
func (o *organizations) start(t *testing.T, extra ...string) *exporterProcess {
	t.Helper()
	e := startExporter(t, []string{"GLOBEX_ASANA_TOKEN=" + globexToken},
		append([]string{"--asana.url=" + o.srv.BaseURL, "--config.file=" + o.config}, extra...)...)
	e.waitFor(t, "/-/ready")
	return e
}

// until scrapes e until ok holds of a scrape, and returns that scrape.
func until(t *testing.T, e *exporterProcess, what string, ok func(exposition.Families) bool) (string, exposition.Families) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var raw string
	var families exposition.Families
	waitUntil(ctx, t, what, func() bool {
		raw, families = e.scrape(t, "10")
		return ok(families)
	})
	return raw, families
}

// nextCycle waits for a count of workspace gid after the one families
// shows, and returns the scrape that shows it.
func (e *exporterProcess) nextCycle(t *testing.T, families exposition.Families, gid string) (string, exposition.Families) {
	t.Helper()
	last, _ := families.Sample("asana_collection_last_success_timestamp_seconds", "workspace_gid="+gid)
	return until(t, e, "another count of workspace "+gid, func(f exposition.Families) bool {
		v, _ := f.Sample("asana_collection_last_success_timestamp_seconds", "workspace_gid="+gid)
		return v > last
	})
}

// TestTwoOrganizations: the built exporter counts two organisations, each
// with its own service account (Acme's audit log with another), exactly,
// in both refresh modes; asana_up, the API and the audit log metrics are
// each organisation's.
func TestTwoOrganizations(t *testing.T) {
	for _, interval := range []string{"1s", "0"} {
		t.Run("refresh-interval="+interval, func(t *testing.T) {
			o := newOrganizations(t)
			e := o.start(t, "--asana.refresh-interval="+interval)
			// Globex's audit log waits while a count runs on its token: on
			// scrape, for a scrape that does not come at once.
			raw, families := until(t, e, "Acme's idle seats and both audit logs read", func(f exposition.Families) bool {
				_, idle := f.Sample("asana_workspace_seats_idle", "workspace_gid="+o.gids[0], "state=licensed", "days=30")
				up, _ := f.Sample("asana_audit_log_up", "organization=globex")
				return idle && up == 1
			})
			for i, purchased := range []float64{30, 400} {
				checkSeats(t, families, o.gids[i], o.truth[i], purchased)
			}
			for days, want := range map[string]int{"30": acmeUsage.Idle(30), "60": acmeUsage.Idle(60), "90": acmeUsage.Idle(90)} {
				if v, _ := families.Sample("asana_workspace_seats_idle", "workspace_gid="+o.gids[0], "state=licensed", "days="+days); v != float64(want) {
					t.Errorf("Acme's licensed seats idle %s days: %v, want %d", days, v, want)
				}
			}
			if v, _ := families.Sample("asana_workspace_seats_paused", "workspace_gid="+o.gids[0]); v != float64(acmeUsage.Paused) {
				t.Errorf("Acme's paused seats: %v, want %d", v, acmeUsage.Paused)
			}
			for _, name := range []string{"acme", "globex"} {
				for _, metric := range []string{"asana_up", "asana_audit_log_up"} {
					if v, ok := families.Sample(metric, "organization="+name); !ok || v != 1 {
						t.Errorf("%s{organization=%q} = %v (present %t), want 1", metric, name, v, ok)
					}
				}
				if families.Sum("asana_api_requests_total", "organization="+name) == 0 {
					t.Errorf("no asana_api_requests_total of %s", name)
				}
			}
			if len(families["asana_up"].GetMetric()) != 2 {
				t.Errorf("%d asana_up series, want one per organisation", len(families["asana_up"].GetMetric()))
			}
			for _, token := range []string{acmeToken, acmeAuditToken, globexToken} {
				if o.srv.Stats(token).Requests == 0 {
					t.Errorf("token %s sent no request", token[:6])
				}
			}
			promtoolCheckMetrics(t, raw)
		})
	}
}

// TestRevokingOneOrganizationsToken: with Acme's token revoked, Acme is
// down and Globex is counted on as before, exactly and as fresh.
func TestRevokingOneOrganizationsToken(t *testing.T) {
	o := newOrganizations(t)
	e := o.start(t, "--asana.refresh-interval=1s")
	until(t, e, "both counted", func(f exposition.Families) bool {
		_, a := f.Seats(o.gids[0])
		_, g := f.Seats(o.gids[1])
		return a && g
	})
	o.srv.RevokeToken(acmeToken)
	_, families := until(t, e, "asana_up of acme to be 0", func(f exposition.Families) bool {
		v, ok := f.Sample("asana_up", "organization=acme")
		return ok && v == 0
	})
	_, families = e.nextCycle(t, families, o.gids[1])
	if v, _ := families.Sample("asana_up", "organization=globex"); v != 1 {
		t.Errorf("asana_up{organization=globex} = %v with Acme's token revoked, want 1", v)
	}
	if v, _ := families.Sample("asana_collection_success", "workspace_gid="+o.gids[1]); v != 1 {
		t.Errorf("Globex's collection fails with Acme's token revoked")
	}
	checkSeats(t, families, o.gids[1], o.truth[1], 400)
	if v, _ := families.Sample("asana_collection_success", "workspace_gid="+o.gids[0]); v != 0 {
		t.Errorf("asana_collection_success of Acme = %v with its token revoked, want 0", v)
	}
	if resp, err := http.Get(e.url("/-/ready")); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/-/ready with one organisation down: %v %v", resp, err)
	}
	if strings.Contains(e.output.String(), "acme-service-account") {
		t.Error("the log holds Acme's token")
	}
}

// TestReloadAddsAndRemovesOrganizations: a reload that adds an
// organisation whose token file is missing changes nothing (and says
// why); one that adds Globex counts it; one that removes Acme withdraws
// its series. By SIGHUP and by POST /-/reload.
func TestReloadAddsAndRemovesOrganizations(t *testing.T) {
	o := newOrganizations(t)
	o.write(t, "acme")
	e := o.start(t, "--asana.refresh-interval=1s")
	until(t, e, "Acme counted", func(f exposition.Families) bool { _, ok := f.Seats(o.gids[0]); return ok })

	o.write(t, "acme", "globex", "initech")
	if code, body := e.reload(t); code != http.StatusInternalServerError || !strings.Contains(body, "organizations[2].token_file") {
		t.Errorf("reload adding an organisation without its token file: %d %q", code, body)
	}
	_, families := until(t, e, "the failed reload in asana_exporter_config_last_reload_successful", func(f exposition.Families) bool {
		v, ok := f.Sample("asana_exporter_config_last_reload_successful")
		return ok && v == 0
	})
	_, families = e.nextCycle(t, families, o.gids[0])
	for _, name := range []string{"globex", "initech"} {
		if _, ok := families.Sample("asana_up", "organization="+name); ok {
			t.Errorf("%s is counted after a failed reload", name)
		}
	}
	if _, ok := families.Seats(o.gids[1]); ok || o.srv.Stats(globexToken).Requests != 0 {
		t.Errorf("Globex was counted after a failed reload (%d requests)", o.srv.Stats(globexToken).Requests)
	}
	checkSeats(t, families, o.gids[0], o.truth[0], 30)

	o.write(t, "acme", "globex")
	e.cmd.Process.Signal(syscall.SIGHUP)
	_, families = until(t, e, "Globex counted after the reload", func(f exposition.Families) bool {
		v, _ := f.Sample("asana_up", "organization=globex")
		_, ok := f.Seats(o.gids[1])
		return v == 1 && ok
	})
	checkSeats(t, families, o.gids[1], o.truth[1], 400)
	if v, _ := families.Sample("asana_exporter_config_last_reload_successful"); v != 1 {
		t.Errorf("asana_exporter_config_last_reload_successful = %v after a good reload", v)
	}

	o.write(t, "globex")
	if code, body := e.reload(t); code != http.StatusOK {
		t.Fatalf("reload removing Acme: %d %q", code, body)
	}
	_, families = until(t, e, "Acme's series withdrawn", func(f exposition.Families) bool {
		_, up := f.Sample("asana_up", "organization=acme")
		_, seats := f.Seats(o.gids[0])
		return !up && !seats
	})
	before := o.srv.Stats(acmeToken).Requests
	_, families = e.nextCycle(t, families, o.gids[1])
	if after := o.srv.Stats(acmeToken).Requests; after != before {
		t.Errorf("Acme's token sent %d requests after its organisation was removed", after-before)
	}
	checkSeats(t, families, o.gids[1], o.truth[1], 400)
}
