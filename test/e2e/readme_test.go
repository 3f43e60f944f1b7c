package e2e

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// TestREADMEMetricsTableMatchesTheCode keeps the README's metrics table and
// the exporter's registered asana_* metrics in step, types included.
func TestREADMEMetricsTableMatchesTheCode(t *testing.T) {
	raw, err := os.ReadFile(repoPath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(asana_[a-z_]+)` \\| (gauge|counter|histogram) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]] = m[2]
	}

	// The exporter on the demo organisation, once it has judged the seats
	// against the audit log, exports every metric it has but the OAuth
	// app's; one authenticated as an OAuth app exports those too.
	families := exposition.Families{}
	demo := exporter.Options{Demo: true, RefreshInterval: time.Second, ReclaimJournal: oneRemoval(t)}
	maps.Copy(families, collected(t, demo, func(f exposition.Families) bool { return f["asana_workspace_seats_idle"] != nil }))
	maps.Copy(families, collected(t, oauthExporterOptions(t), func(f exposition.Families) bool {
		up, _ := f.Sample("asana_up")
		return up == 1
	}))
	var registered []string
	for n := range families {
		if strings.HasPrefix(n, "asana_") {
			registered = append(registered, n)
		}
	}
	slices.Sort(registered)

	for _, n := range registered {
		if _, ok := documented[n]; !ok {
			t.Errorf("%s is exported but not in the README's metrics table", n)
		}
	}
	for n := range documented {
		if !slices.Contains(registered, n) {
			t.Errorf("the README documents %s, which the exporter does not export", n)
		}
	}

	// Types: counters end in _total, the histogram in _seconds, gauges neither.
	for n, typ := range documented {
		switch {
		case typ == "counter" && !strings.HasSuffix(n, "_total"),
			typ != "counter" && strings.HasSuffix(n, "_total"),
			typ == "histogram" && !strings.HasSuffix(n, "_seconds"):
			t.Errorf("README types %s as a %s", n, typ)
		}
	}
	for _, mf := range families {
		if _, ok := documented[mf.GetName()]; !ok {
			continue
		}
		if want := strings.ToLower(mf.GetType().String()); documented[mf.GetName()] != want {
			t.Errorf("README types %s as %q, the exporter as %q", mf.GetName(), documented[mf.GetName()], want)
		}
	}
	if len(registered) != 39 {
		t.Errorf("%d asana_* metrics registered: %v", len(registered), registered)
	}
}

// oauthExporterOptions are an exporter's options authenticating as an
// OAuth app of a simulated Asana.
// collectedWithin bounds collected's wait: the demo's audit log takes
// about 20 seconds to read at its request budget.
const collectedWithin = 2 * time.Minute

// collected runs the exporter in the background, as the binary does, until
// its /metrics satisfies done, and returns what it then exports.
func collected(t *testing.T, opts exporter.Options, done func(exposition.Families) bool) exposition.Families {
	t.Helper()
	e, err := exporter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	ctx, cancel := context.WithTimeout(context.Background(), collectedWithin)
	t.Cleanup(cancel)
	go e.Run(ctx, nil)
	for {
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		got, err := exposition.Parse(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		if done(got) {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the exporter did not export what the test waits for within %v; it exports %d families", collectedWithin, len(got))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func oauthExporterOptions(t *testing.T) exporter.Options {
	srv := asanatest.NewServer(asanatest.Generate(1, asanatest.Acme), asanatest.Config{})
	t.Cleanup(srv.Close)
	srv.SetOAuthApp(&asanatest.OAuthApp{ClientID: "1", ClientSecret: "secret"})
	dir := t.TempDir()
	secret, refresh := filepath.Join(dir, "secret"), filepath.Join(dir, "refresh")
	writeFile(t, secret, "secret")
	writeFile(t, refresh, srv.IssueRefreshToken())
	return exporter.Options{AsanaURL: srv.BaseURL, RefreshInterval: time.Minute,
		OAuth: exporter.OAuthOptions{ClientID: "1", ClientSecretFile: secret, RefreshTokenFile: refresh}}
}

// TestREADMEDescribesEveryPanelAndAlert: the README's alert table names
// every alert, and its dashboard tables every panel.
func TestREADMEDescribesEveryPanelAndAlert(t *testing.T) {
	raw, err := os.ReadFile(repoPath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	rules, err := os.ReadFile(repoPath("alerts", "asana_rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+- alert: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		if !strings.Contains(readme, "| `"+m[1]+"` |") {
			t.Errorf("the README's alert table lacks %s", m[1])
		}
	}
	all, err := allDashboards()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		for _, p := range d.Panels {
			if p.Type != "row" && !strings.Contains(readme, "| "+p.Title+" |") {
				t.Errorf("the README's table for %s lacks panel %q", d.File, p.Title)
			}
		}
	}
}

// oneRemoval is a reclaim journal holding one confirmed removal, so that
// the exporter exports every asana_reclaim_* metric.
func oneRemoval(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := reclaim.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	at := time.Now().UTC().Truncate(time.Second)
	price := 24.99
	row := &reclaim.Row{PlannedAt: at.Add(-time.Hour), WorkspaceGID: "1", MembershipGID: "2", UserGID: "3", UserEmail: "a@example.com",
		State: asana.Licensed, Reason: reclaim.ReasonIdle, IdleThresholdDays: 60, IdleDays: 90, ActivitySource: "audit_log",
		Domain: "inside", Action: reclaim.ActionRemove, MonthlyPrice: &price}
	if err := j.Append(reclaim.Entry{Time: at, Run: "r1", ActorGID: "9", Action: reclaim.ActionRemove, Result: reclaim.ResultDone,
		WorkspaceGID: "1", MembershipGID: "2", UserGID: "3", UserEmail: "a@example.com", PlanRow: row}); err != nil {
		t.Fatal(err)
	}
	return path
}
