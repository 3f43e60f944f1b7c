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
	var gid string
	srv.Mutate(func(o *asanatest.Org) { gid = o.Workspaces[0].GID })
	tr, _ := asana.BearerToken(asanatest.DefaultToken, nil)
	c, err := asana.New(asana.Options{BaseURL: srv.BaseURL, Transport: tr, RequestsPerMinute: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := c.CountSeats(context.Background(), gid)
		if err != nil || got.Seats != spec.Seats() {
			b.Fatalf("%+v, %v", got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*12_345), "ns/record")
}
