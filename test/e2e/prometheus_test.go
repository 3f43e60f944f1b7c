package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// stackTimeout bounds TestPrometheusAlertmanagerLoop: with Prometheus 3.x it
// takes a few seconds, with Debian's 2.42 about ten.
const stackTimeout = 90 * time.Second

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// promQuery runs an instant query against the real Prometheus.
func promQuery(promURL, query string) ([]promSample, error) {
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s", body.Error)
	}
	var results []promSample
	err = json.Unmarshal(body.Data.Result, &results)
	return results, err
}

// webhook receives Alertmanager's notifications, by receiver (URL path).
type webhook struct {
	*httptest.Server
	mu       sync.Mutex
	received map[string][]amAlert
}

type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{received: map[string][]amAlert{}}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []amAlert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		w.mu.Lock()
		w.received[strings.TrimPrefix(r.URL.Path, "/")] = append(w.received[strings.TrimPrefix(r.URL.Path, "/")], msg.Alerts...)
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

// find returns the first alert received by receiver whose labels include
// want.
func (w *webhook) find(receiver string, want map[string]string) (amAlert, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.received[receiver] {
		match := true
		for k, v := range want {
			match = match && a.Labels[k] == v
		}
		if match {
			return a, true
		}
	}
	return amAlert{}, false
}

// alertmanagerConfig is the shipped alerts/alertmanager.yml with every
// receiver turned into a webhook at hookURL/<receiver name>, and grouping
// waits cut to a second: the routing tree and inhibit rules are kept.
func alertmanagerConfig(t *testing.T, hookURL string) string {
	t.Helper()
	raw, err := os.ReadFile(repoPath("alerts", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "global") // SMTP settings for the e-mail receivers
	route := cfg["route"].(map[string]any)
	route["group_wait"], route["group_interval"] = "0s", "1s"
	receivers := cfg["receivers"].([]any)
	for i, r := range receivers {
		name := r.(map[string]any)["name"].(string)
		receivers[i] = map[string]any{"name": name, "webhook_configs": []any{map[string]any{"url": hookURL + "/" + name}}}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestPrometheusAlertmanagerLoop runs the whole stack for real: simulated
// Asana -> built exporter -> Prometheus with the shipped rules ->
// Alertmanager with the shipped routing -> webhook. Globex uses 412 seats
// of 400, so AsanaSeatsOverPurchased must reach the seat owners' receiver
// with Globex's name; Acme (27 of 30, growing) must not be over. Every query
// of every dashboard must return data, and every metric the rules and
// dashboards name must exist. The exporter authenticates as an OAuth app,
// so that the OAuth metrics exist too.
func TestPrometheusAlertmanagerLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stackTimeout)
	defer cancel()
	prometheus := needTool(t, "prometheus")
	alertmanager := needTool(t, "alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()

	s := newSimulated(t, asanatest.Config{})
	globexUsage := asanatest.UsageSpec{Idle30: 9, Idle60: 5, Idle90: 4, IdleViewOnly: 3, Paused: 2, Deprovisioned: 20}
	audit := s.withAuditLog(t, asanatest.DefaultToken, asanatest.UsageSpec{Idle30: 2, Idle60: 1, Idle90: 2, Paused: 1}, globexUsage)
	e := startExporter(t, nil, s.oauthArgs(t, append(audit, "--asana.refresh-interval=1s", "--reclaim.journal="+oneRemoval(t))...)...)
	e.waitFor(t, "/-/ready")
	// Prometheus starts once the audit log is read, so that billed seats
	// are what it sees from its first scrape.
	var text string
	waitUntil(ctx, t, "the audit log read", func() bool {
		var families exposition.Families
		text, families = e.scrape(t, "")
		return len(families["asana_workspace_seats_paused"].GetMetric()) == 2
	})

	hook := newWebhook(t)
	amAddr := freeAddress(t)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), alertmanagerConfig(t, hook.URL))
	launch(t, alertmanager, nil, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")

	// The shipped rules, with every `for:` cut to 0s: waiting an hour is
	// promtool's job (alerts/asana_rules_test.yml); this test proves the
	// expressions, labels and templates against live data.
	rules, err := os.ReadFile(repoPath("alerts", "asana_rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Likewise every group is evaluated every second, the hourly peaks too.
	live := regexp.MustCompile(`(?m)^(\s+for:) .*$`).ReplaceAllString(string(rules), "$1 0s")
	live = regexp.MustCompile(`(?m)^(\s+interval:) .*$`).ReplaceAllString(live, "$1 1s")
	writeFile(t, filepath.Join(dir, "rules.yml"), live)
	promAddr := freeAddress(t)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
  scrape_timeout: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: asana
    static_configs:
      - targets: [%q]
`, amAddr, e.addr))
	// --scrape.discovery-reload-interval makes 3.x scrape within 100 ms
	// instead of 5 s; 2.42 accepts it and keeps its 5 s.
	launch(t, prometheus, nil, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--scrape.discovery-reload-interval=100ms")
	promURL := "http://" + promAddr

	// Acme grows by a seat, so the forecast and "runs out in" panels have a
	// trend to show.
	waitUntil(ctx, t, "a first scrape", func() bool {
		r, _ := promQuery(promURL, `asana_workspace_members{state="licensed"}`)
		return len(r) == 2
	})
	s.addLicensed(1)

	globex := map[string]string{"alertname": "AsanaSeatsOverPurchased", "workspace_gid": s.gids[1]}
	waitUntil(ctx, t, "AsanaSeatsOverPurchased at the seat owners' webhook", func() bool {
		_, ok := hook.find("asana-admins", globex)
		return ok
	})
	over, _ := hook.find("asana-admins", globex)
	wantLabels := map[string]string{"alertname": "AsanaSeatsOverPurchased", "severity": "critical", "category": "seats",
		"job": "asana", "instance": e.addr, "workspace_gid": s.gids[1], "workspace_name": "Globex"}
	if fmt.Sprint(over.Labels) != fmt.Sprint(wantLabels) || over.Status != "firing" {
		t.Errorf("alert %s with labels\n%v\nwant\n%v", over.Status, over.Labels, wantLabels)
	}
	if got, want := over.Annotations["summary"], "Asana workspace Globex uses more seats than purchased"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// 412 licensed, 2 of them paused from billing (read from the audit log).
	if got, want := over.Annotations["description"], "Globex ("+s.gids[1]+") has 410 billed seats (licensed members and pending invites, less paused licences) but 400 purchased."; !strings.HasPrefix(got, want) {
		t.Errorf("description %q, want it to start %q", got, want)
	}
	if a, ok := hook.find("asana-admins", map[string]string{"alertname": "AsanaSeatsOverPurchased", "workspace_gid": s.gids[0]}); ok {
		t.Errorf("Acme (28 of 30 seats) alerted as over-purchased: %+v", a)
	}

	ratio, err := promQuery(promURL, `asana_workspace:seats_used_per_purchased:ratio{workspace_gid="`+s.gids[1]+`"}`)
	if err != nil || len(ratio) != 1 || ratio[0].Value[1] != "1.025" {
		t.Errorf("recorded seats_used_per_purchased for Globex = %+v, %v; want (412-2)/400", ratio, err)
	}
	idle, err := promQuery(promURL, `asana_workspace_seats_idle{state="licensed", days="60", workspace_gid="`+s.gids[1]+`"}`)
	if err != nil || len(idle) != 1 || idle[0].Value[1] != strconv.Itoa(globexUsage.Idle(60)) {
		t.Errorf("Globex's licensed seats idle 60 days = %+v, %v; want %d", idle, err, globexUsage.Idle(60))
	}

	// A super admin granted now reaches the security receiver.
	s.srv.Mutate(func(o *asanatest.Org) {
		w := o.Workspaces[1]
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: time.Now(), Type: asana.EventAdminRoleChanged,
			User: &w.Memberships[0].User, OldValue: "domain_admin", NewValue: "super_admin"})
	})
	waitUntil(ctx, t, "AsanaSuperAdminGranted at the security webhook", func() bool {
		_, ok := hook.find("security", map[string]string{"alertname": "AsanaSuperAdminGranted", "workspace_gid": s.gids[1]})
		return ok
	})

	// Globex renews within 90 days with idle seats; Acme in 200 days.
	renewing := map[string]string{"alertname": "AsanaRenewalWithIdleSeats", "workspace_gid": s.gids[1]}
	waitUntil(ctx, t, "AsanaRenewalWithIdleSeats at the seat owners' webhook", func() bool {
		_, ok := hook.find("asana-admins", renewing)
		return ok
	})
	renewal, _ := hook.find("asana-admins", renewing)
	// The date is 00:00 UTC, so fewer than renewalIn[1] whole days are
	// left: one fewer, or two once midnight passed since the config.
	want := regexp.MustCompile(fmt.Sprintf(`^Globex \(%s\) renews its Asana contract on %s, in (%d|%d) days, and %d of its licensed \(paid\) `+
		`members have not logged in for 60 days\. Keeping them until the renewal costs \d+ at seat_price\. List them`,
		s.gids[1], s.renewals[1], renewalIn[1]-1, renewalIn[1]-2, globexUsage.Idle(60)))
	if got := renewal.Annotations["description"]; !want.MatchString(got) {
		t.Errorf("renewal description %q, want it to match %s", got, want)
	}
	if a, ok := hook.find("asana-admins", map[string]string{"alertname": "AsanaRenewalWithIdleSeats", "workspace_gid": s.gids[0]}); ok {
		t.Errorf("Acme (renewing in %d days) alerted: %+v", renewalIn[0], a)
	}

	all, err := allDashboards()
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(ctx, t, "Acme's growth to show in Prometheus", func() bool {
		r, _ := promQuery(promURL, `deriv(asana_workspace_members{state="licensed", workspace_gid="`+s.gids[0]+`"}[1m]) > 0`)
		return len(r) == 1
	})
	for _, d := range all {
		checkWorkspaceVariable(t, promURL, d, s.gids)
		for _, p := range d.Panels {
			for _, q := range p.Targets {
				res, err := promQuery(promURL, expandQuery(q.Expr, 10*time.Second))
				if err != nil {
					t.Errorf("%s: panel %q query %s: %v", d.File, p.Title, q.RefID, err)
				} else if len(res) == 0 {
					t.Errorf("%s: panel %q query %s returned no data: %s", d.File, p.Title, q.RefID, q.Expr)
				}
			}
		}
	}
	checkMetricNames(t, text, string(rules), all)
}

// checkWorkspaceVariable renders the workspace variable's query the way
// Grafana's query_result() does, and applies the variable's regex: every
// workspace must come out with its gid as value and its name as text.
func checkWorkspaceVariable(t *testing.T, promURL string, d grafanaDashboard, gids []string) {
	t.Helper()
	v, _ := d.Variable("workspace")
	inner := strings.TrimSuffix(strings.TrimPrefix(v.QueryText(), "query_result("), ")")
	res, err := promQuery(promURL, expandQuery(inner, time.Minute))
	if err != nil {
		t.Fatalf("%s: workspace variable query %q: %v", d.File, inner, err)
	}
	re := regexp.MustCompile(strings.Trim(v.Regex, "/"))
	got := map[string]string{}
	for _, r := range res {
		keys := make([]string, 0, len(r.Metric))
		for k := range r.Metric {
			if k != "__name__" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var pairs []string
		for _, k := range keys {
			pairs = append(pairs, fmt.Sprintf("%s=%q", k, r.Metric[k]))
		}
		line := fmt.Sprintf("%s{%s} %v %v", r.Metric["__name__"], strings.Join(pairs, ","), r.Value[1], r.Value[0])
		if m := re.FindStringSubmatch(line); m != nil {
			got[m[re.SubexpIndex("value")]] = m[re.SubexpIndex("text")]
		}
	}
	want := map[string]string{gids[0]: "Acme Corp", gids[1]: "Globex"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: workspace variable options (value: text) %v, want %v", d.File, got, want)
	}
}

// checkMetricNames: every metric a rule or panel selects is exported by the
// exporter (or is Prometheus's `up`, or a recording rule), so a renamed
// metric cannot leave a panel or an alert silently empty.
func checkMetricNames(t *testing.T, exposition, rules string, all []grafanaDashboard) {
	t.Helper()
	known := map[string]bool{"up": true}
	for _, line := range strings.Split(exposition, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(name, " ")
			known[name] = true
			if typ == "histogram" {
				known[name+"_bucket"], known[name+"_sum"], known[name+"_count"] = true, true, true
			}
		}
	}
	var rf struct {
		Groups []struct {
			Rules []struct{ Record, Expr string } `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(rules), &rf); err != nil {
		t.Fatal(err)
	}
	type query struct{ where, expr string }
	var queries []query
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				known[r.Record] = true
			}
			queries = append(queries, query{"alerts/asana_rules.yml", r.Expr})
		}
	}
	for _, d := range all {
		for _, p := range d.Panels {
			for _, q := range p.Targets {
				queries = append(queries, query{d.File + " panel " + p.Title, expandQuery(q.Expr, time.Minute)})
			}
		}
	}
	var unknown []string
	for _, q := range queries {
		where, src := q.where, q.expr
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(src)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !known[vs.Name] {
				unknown = append(unknown, vs.Name+" in "+where)
			}
			return nil
		})
	}
	slices.Sort(unknown)
	for _, u := range unknown {
		t.Errorf("not exported: %s", u)
	}
}
