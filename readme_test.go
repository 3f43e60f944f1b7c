package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/dashboards"
)

// TestREADMEMetricsTableMatchesTheCode keeps the README's metrics table and
// the exporter's registered asana_* metrics in step, types included.
func TestREADMEMetricsTableMatchesTheCode(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(asana_[a-z_]+)` \\| (gauge|counter|histogram) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]] = m[2]
	}

	reg := prometheus.NewPedanticRegistry()
	refresher := collector.NewRefresher(nil, collector.Options{})
	reload := newReloader("", "", refresher, nil, nil, nil)
	reg.MustRegister(exporterCollectors(refresher, collector.NewAPIMetrics(), reload, "")...)
	descs := make(chan *prometheus.Desc, 100)
	for _, c := range exporterCollectors(refresher, collector.NewAPIMetrics(), reload, "") {
		c.Describe(descs)
	}
	close(descs)
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	var registered []string
	for d := range descs {
		registered = append(registered, name.FindStringSubmatch(d.String())[1])
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
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if want := strings.ToLower(mf.GetType().String()); documented[mf.GetName()] != want {
			t.Errorf("README types %s as %q, the exporter as %q", mf.GetName(), documented[mf.GetName()], want)
		}
	}
	if len(registered) != 18 {
		t.Errorf("%d asana_* metrics registered: %v", len(registered), registered)
	}
}

// TestREADMEDescribesEveryPanelAndAlert: the README's alert table names
// every alert, and its dashboard tables every panel.
func TestREADMEDescribesEveryPanelAndAlert(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	rules, err := os.ReadFile(filepath.Join("alerts", "asana_rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+- alert: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		if !strings.Contains(readme, "| `"+m[1]+"` |") {
			t.Errorf("the README's alert table lacks %s", m[1])
		}
	}
	all, err := dashboards.All()
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
