package collector_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// BenchmarkScrape is what a scrape costs in background mode: building the
// const metrics of 100 workspaces from the snapshot and gathering them.
func BenchmarkScrape(b *testing.B) {
	snap := &collect.Snapshot{Up: true}
	seats := 500
	for i := range 100 {
		snap.Workspaces = append(snap.Workspaces, collect.WorkspaceState{
			GID: fmt.Sprint(1200000000000000 + i), Name: fmt.Sprint("Workspace ", i), SeatsPurchased: &seats,
			Seats:   &asana.SeatCounts{Licensed: 480, ViewOnly: 20, Guest: 300, Inactive: 40, Admins: 5},
			Success: true, Duration: time.Second, LastSuccess: time.Now(),
		})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.NewCollector(func() *collect.Snapshot { return snap }, ""))
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		if n := membersSeries(mfs); n != 4*len(snap.Workspaces) {
			b.Fatalf("%d asana_workspace_members series, want 4 states for each of %d workspaces", n, len(snap.Workspaces))
		}
	}
}

func membersSeries(mfs []*dto.MetricFamily) int {
	for _, mf := range mfs {
		if mf.GetName() == "asana_workspace_members" {
			return len(mf.GetMetric())
		}
	}
	return 0
}
