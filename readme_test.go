package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/collector"
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
	reg.MustRegister(exporterCollectors(refresher, collector.NewAPIMetrics(), "")...)
	descs := make(chan *prometheus.Desc, 100)
	for _, c := range exporterCollectors(refresher, collector.NewAPIMetrics(), "") {
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
	if len(registered) != 13 {
		t.Errorf("%d asana_* metrics registered: %v", len(registered), registered)
	}
}
