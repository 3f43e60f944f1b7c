package collect_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/testutil/pagetest"
)

// TestHostileListingsPublishNoWrongNumber: each of these listings was
// published as a success with a wrong count. Now a count is exact, or the
// workspace's collection fails and publishes nothing.
func TestHostileListingsPublishNoWrongNumber(t *testing.T) {
	m := pagetest.Member
	for _, c := range []struct {
		name     string
		pages    map[string]pagetest.Reply // offset -> page
		success  float64
		licensed float64 // published when success is 1
		dropped  float64
	}{
		{"an empty page before the last", map[string]pagetest.Reply{
			"": pagetest.Page("a", m("11")), "a": pagetest.Page("b"), "b": pagetest.Page("", m("12")),
		}, 1, 2, 0},
		{"a gid twice", map[string]pagetest.Reply{
			"": pagetest.Page("a", m("11"), m("12")), "a": pagetest.Page("", m("12"), m("13")),
		}, 1, 3, 1},
		{"compact records", map[string]pagetest.Reply{
			"": pagetest.Page("", `{"gid":"11","resource_type":"workspace_membership"}`),
		}, 0, 0, 0},
		{"offsets in a circle", map[string]pagetest.Reply{
			"": pagetest.Page("a", m("11")), "a": pagetest.Page("b", m("12")), "b": pagetest.Page("a", m("13")),
		}, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := pagetest.New(t)
			srv.On("/workspaces", "", pagetest.Page("", `{"gid":"1","name":"Acme","is_organization":false,"email_domains":[]}`))
			for offset, page := range c.pages {
				srv.On("/workspaces/1/workspace_memberships", offset, page)
			}
			reg := prometheus.NewPedanticRegistry()
			api := collector.NewAPIMetrics()
			reg.MustRegister(api)
			refresher := collect.New(srv.Client(t, api, nil), collect.Options{
				Config: func() *config.Config { return config.Default() }, Logger: slog.New(slog.DiscardHandler)})
			reg.MustRegister(collector.NewCollector(refresher.Snapshot, refresher.Freshness()))
			refresher.Refresh(context.Background(), nil)

			if got := sample(t, reg, "asana_collection_success", "workspace_gid", "1"); got == nil || *got != c.success {
				t.Errorf("asana_collection_success = %v, want %v", got, c.success)
			}
			licensed := sample(t, reg, "asana_workspace_members", "state", "licensed")
			switch {
			case c.success == 0 && licensed != nil:
				t.Errorf("a failed collection published %v licensed members", *licensed)
			case c.success == 1 && (licensed == nil || *licensed != c.licensed):
				t.Errorf("licensed members = %v, want %v", licensed, c.licensed)
			}
			got := sample(t, reg, "asana_api_duplicate_records_dropped_total", "endpoint", asana.EndpointWorkspaceMemberships)
			if got == nil || *got != c.dropped {
				t.Errorf("asana_api_duplicate_records_dropped_total = %v, want %v", got, c.dropped)
			}
		})
	}
}

// sample is the value of the series of name whose label is value, or nil.
func sample(t *testing.T, g prometheus.Gatherer, name, label, value string) *float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return valueOf(m)
				}
			}
		}
	}
	return nil
}

func valueOf(m *dto.Metric) *float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.Value
	case m.Counter != nil:
		return m.Counter.Value
	}
	return nil
}
