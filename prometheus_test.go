package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// lookPath finds the first of names on PATH; the test fails, never skips,
// without it: `make test` installs the Debian packages.
func lookPath(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("none of %v is installed: run `make test-deps`", names)
	return ""
}

// startDaemon runs a real Prometheus or Alertmanager until the test ends.
func startDaemon(t *testing.T, bin string, args ...string) {
	t.Helper()
	var out syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), out.String())
		}
	})
}

func waitUntil(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// promQuery runs an instant query against the real Prometheus.
func promQuery(t *testing.T, promURL, query string) (results []struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}, err error) {
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
	err = json.Unmarshal(body.Data.Result, &results)
	return results, err
}

// TestPrometheusAlertmanagerLoop runs the whole stack for real: simulated
// Asana -> built exporter -> Prometheus (with the shipped rules) ->
// Alertmanager -> webhook. Globex uses 412 seats of 400, so
// AsanaSeatsOverPurchased must arrive with the workspace's name. Every
// dashboard query must evaluate to data.
func TestPrometheusAlertmanagerLoop(t *testing.T) {
	prometheus := lookPath(t, "prometheus")
	alertmanager := lookPath(t, "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()

	s := newSimulated(t, asanatest.Config{})
	e := startExporter(t, nil, s.args("--asana.refresh-interval=2s")...)
	e.waitFor(t, "/-/ready")

	var mu sync.Mutex
	var notifications []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		notifications = append(notifications, string(b))
		mu.Unlock()
	}))
	defer hook.Close()

	amAddr := freeAddress(t)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, workspace_gid]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/alerts
`, hook.URL))
	startDaemon(t, alertmanager, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")

	// The shipped rules, with every `for:` cut to 0s: waiting an hour is
	// promtool's job (alerts/asana_rules_test.yml); this test proves the
	// expressions, labels and templates against live data.
	rules, err := os.ReadFile(filepath.Join("alerts", "asana_rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "rules.yml"), regexp.MustCompile(`(?m)^(\s+for:) .*$`).ReplaceAllString(string(rules), "$1 0s"))
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
	startDaemon(t, prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	promURL := "http://" + promAddr

	waitUntil(t, "the over-purchase alert at the webhook", 60*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range notifications {
			if strings.Contains(n, `"alertname":"AsanaSeatsOverPurchased"`) {
				return true
			}
		}
		return false
	})
	mu.Lock()
	var over string
	for _, n := range notifications {
		if strings.Contains(n, `"alertname":"AsanaSeatsOverPurchased"`) {
			over = n
		}
		if strings.Contains(n, s.gids[0]) && strings.Contains(n, "OverPurchased") {
			t.Errorf("Acme (27 of 30 seats) alerted as over-purchased: %s", n)
		}
	}
	mu.Unlock()
	for _, want := range []string{`"workspace_gid":"` + s.gids[1] + `"`, `"workspace_name":"Globex"`, `"severity":"warning"`,
		"Globex (" + s.gids[1] + ") has 412 licensed memberships"} {
		if !strings.Contains(over, want) {
			t.Errorf("alert lacks %s: %s", want, over)
		}
	}

	ratio, err := promQuery(t, promURL, `asana_workspace:seats_used_per_purchased:ratio{workspace_gid="`+s.gids[1]+`"}`)
	if err != nil || len(ratio) != 1 || ratio[0].Value[1] != "1.03" {
		t.Errorf("recorded seats_used_per_purchased for Globex = %+v, %v; want 412/400", ratio, err)
	}

	// Every dashboard query evaluates, with data, against the live stack.
	raw, err := os.ReadFile(filepath.Join("dashboards", "asana-seats.json"))
	if err != nil {
		t.Fatal(err)
	}
	exprs := regexp.MustCompile(`"expr": "((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(raw), -1)
	if len(exprs) < 10 {
		t.Fatalf("found %d dashboard queries", len(exprs))
	}
	vars := strings.NewReplacer("$workspace", ".*", "$job", ".*", "$__rate_interval", "10s")
	waitUntil(t, "rates to have two samples", 15*time.Second, func() bool {
		r, _ := promQuery(t, promURL, `rate(asana_api_requests_total[10s])`)
		return len(r) > 0
	})
	for _, m := range exprs {
		var expr string
		if err := json.Unmarshal([]byte(`"`+m[1]+`"`), &expr); err != nil {
			t.Fatal(err)
		}
		res, err := promQuery(t, promURL, vars.Replace(expr))
		if err != nil {
			t.Errorf("dashboard query %s: %v", expr, err)
		} else if len(res) == 0 {
			t.Errorf("dashboard query %s returned no data", expr)
		}
	}
}
