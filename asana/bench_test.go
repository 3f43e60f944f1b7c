package asana_test

import (
	"context"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// BenchmarkCountSeats counts a 12,345-member workspace through the
// simulated API on loopback: 124 pages, HTTP and JSON included.
func BenchmarkCountSeats(b *testing.B) {
	spec := spread(12_345)
	srv := asanatest.NewServer(asanatest.Generate(1, spec), asanatest.Config{RequestsPerWindow: 1 << 30})
	defer srv.Close()
	gid := srv.WorkspaceGIDs()[0]
	c := srv.NewClient(func(o *asana.Options) { o.RequestsPerMinute = 1 << 30 })
	b.ReportAllocs()
	for b.Loop() {
		got, err := c.CountSeats(context.Background(), gid, asana.CountOptions{})
		if err != nil || got.Seats != spec.Seats() {
			b.Fatalf("%+v, %v", got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*12_345), "ns/record")
}
