// Package exposition reads metrics back by name and labels, for the tests:
// from a scrape's text exposition or from a registry. client_golang's
// testutil compares whole expositions, or reads a collector of one series;
// these tests read one series among many.
package exposition

import (
	"io"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Parse reads a text exposition.
func Parse(r io.Reader) (Families, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}

// Gather reads what g gathers, as Parse reads a scrape.
func Gather(g prometheus.Gatherer) (Families, error) {
	mfs, err := g.Gather()
	f := Families{}
	for _, mf := range mfs {
		f[mf.GetName()] = mf
	}
	return f, err
}

// Sample returns the value of the first series of name whose labels include
// want ("k=v" pairs), and whether there is one.
func (f Families) Sample(name string, want ...string) (float64, bool) {
	for _, m := range f.series(name, want) {
		return value(m), true
	}
	return 0, false
}

// Sum adds up the series of name whose labels include want.
func (f Families) Sum(name string, want ...string) float64 {
	var sum float64
	for _, m := range f.series(name, want) {
		sum += value(m)
	}
	return sum
}

// Seats reads a workspace's seat counts back from asana_workspace_members
// and asana_workspace_admins, and whether it has any published.
func (f Families) Seats(gid string) (asana.SeatCounts, bool) {
	ws := "workspace_gid=" + gid
	var s asana.SeatCounts
	found := 0
	for state, n := range map[string]*int{"licensed": &s.Licensed, "view_only": &s.ViewOnly, "guest": &s.Guest, "inactive": &s.Inactive} {
		if v, ok := f.Sample("asana_workspace_members", ws, "state="+state); ok {
			*n, found = int(v), found+1
		}
	}
	admins, _ := f.Sample("asana_workspace_admins", ws)
	s.Admins = int(admins)
	return s, found > 0
}

func (f Families) series(name string, want []string) []*dto.Metric {
	var out []*dto.Metric
next:
	for _, m := range f[name].GetMetric() {
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if !hasLabel(m, k, v) {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}
