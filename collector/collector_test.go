package collector_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// TestOrganizationsCollector: with several organisations, asana_up and
// asana_refresh_* are each one's, labelled with its name; the workspaces'
// series keep their labels and stay whole beside an organisation that is
// down; a workspace two organisations count is published once, by the
// first.
func TestOrganizationsCollector(t *testing.T) {
	counted := func(gid string, licensed int) collect.WorkspaceState {
		return collect.WorkspaceState{GID: gid, Name: "W" + gid, Listed: true, Success: true, LastSuccess: time.Unix(1e9, 0),
			Seats: &asana.SeatCounts{Licensed: licensed}}
	}
	acme := &collect.Snapshot{Organization: "acme", Up: true, Deadline: time.Minute, MinDuration: time.Second,
		Workspaces: []collect.WorkspaceState{counted("1", 30), counted("3", 7)}}
	globex := &collect.Snapshot{Organization: "globex", Up: false, Workspaces: []collect.WorkspaceState{counted("2", 400), counted("3", 99)}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.NewOrganizationsCollector(func() []*collect.Snapshot { return []*collect.Snapshot{acme, globex} }, ""))
	families, err := exposition.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"asana_up", []string{"organization=acme"}, 1},
		{"asana_up", []string{"organization=globex"}, 0},
		{"asana_refresh_deadline_seconds", []string{"organization=acme"}, 60},
		{"asana_refresh_falling_behind", []string{"organization=globex"}, 0},
		{"asana_workspace_members", []string{"workspace_gid=1", "state=licensed"}, 30},
		{"asana_workspace_members", []string{"workspace_gid=2", "state=licensed"}, 400},
		{"asana_workspace_members", []string{"workspace_gid=3", "state=licensed"}, 7},
	} {
		if v, ok := families.Sample(c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %t), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if n := len(families["asana_up"].GetMetric()); n != 2 {
		t.Errorf("%d asana_up series, want one per organisation", n)
	}
	if _, ok := families.Sample("asana_refresh_deadline_seconds", "organization=globex"); ok {
		t.Error("globex, whose cycle has not run, has a deadline")
	}
	for _, m := range families["asana_workspace_members"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "organization" {
				t.Fatalf("a seat series has the organization label: %v", m)
			}
		}
	}
	if n := len(families["asana_collection_success"].GetMetric()); n != 3 {
		t.Errorf("%d asana_collection_success series, want 3: workspace 3 once", n)
	}
}
