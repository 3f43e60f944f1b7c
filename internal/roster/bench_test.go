package roster_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// pages is a Lister of n memberships in pages of 100, built in memory, so
// that a benchmark measures the roster and not the API client.
type pages struct{ n int }

func (p pages) EachMembershipPage(_ context.Context, _ string, _ asana.Detail, start func() error, fn func(asana.MembershipPage) error) (int, error) {
	if err := start(); err != nil {
		return 0, err
	}
	items := make([]asana.Membership, 100)
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < p.n; i += len(items) {
		for j := range items {
			n := i + j
			items[j] = asana.Membership{GID: fmt.Sprint(1200000000000000 + n), IsActive: n%10 != 0, IsGuest: n%3 == 0, CreatedAt: created,
				User: asana.User{GID: fmt.Sprint(1300000000000000 + n), Name: fmt.Sprintf("User %06d", n), Email: fmt.Sprintf("user%06d@acme.example", n)}}
		}
		if err := fn(asana.MembershipPage{Index: i / len(items), Items: items}); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// BenchmarkRoster is the roster's own cost per membership, listing and
// writing, in each format, without the audit log: what seats adds to the
// API client's decoding (asana's benchmarks) in make bench's roster cases.
func BenchmarkRoster(b *testing.B) {
	const members = 10_000
	for _, f := range []roster.Format{roster.CSV, roster.JSON, roster.Table} {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				ls := roster.Listings{roster.List(context.Background(), pages{members}, asana.Workspace{GID: "1", Name: "Acme", EmailDomains: []string{"acme.example"}},
					roster.ListOptions{Now: time.Now(), Prices: map[string]float64{"1": 24.99}})}
				if err := ls.Write(io.Discard, roster.WriteOptions{Format: f, Width: roster.TableWidth}); err != nil || ls[0].Rows() != members {
					b.Fatal(err, ls[0].Rows())
				}
				ls.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*members)/1000, "µs/membership")
		})
	}
}
