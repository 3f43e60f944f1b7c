package collector_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
)

// BenchmarkScrape is what a scrape costs in background mode: building the
// const metrics of 100 workspaces from the snapshot and gathering them.
func BenchmarkScrape(b *testing.B) {
	snap := &collector.Snapshot{Up: true}
	seats := 500
	for i := range 100 {
		snap.Workspaces = append(snap.Workspaces, collector.WorkspaceState{
			GID: fmt.Sprint(1200000000000000 + i), Name: fmt.Sprint("Workspace ", i), SeatsPurchased: &seats,
			Seats:   &asana.SeatCounts{Licensed: 480, ViewOnly: 20, Guest: 300, Inactive: 40, Admins: 5},
			Success: true, Duration: time.Second, LastSuccess: time.Now(),
		})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.NewCollector(func() *collector.Snapshot { return snap }, ""))
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 8 {
			b.Fatal(len(mfs), err)
		}
	}
}
