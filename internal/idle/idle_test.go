package idle

import (
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

func TestTheRule(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ago := func(days float64) time.Time { return now.Add(-time.Duration(days * float64(Day))) }
	for _, tc := range []struct {
		name   string
		seat   Seat
		judged bool
		days   int // whole days idle, when judged
		idle60 bool
	}{
		{"active 61 days ago", Seat{State: asana.Licensed, CreatedAt: ago(400), Since: ago(61)}, true, 61, true},
		{"active yesterday", Seat{State: asana.Licensed, CreatedAt: ago(400), Since: ago(1)}, true, 1, false},
		{"exactly 60 days", Seat{State: asana.ViewOnly, CreatedAt: ago(400), Since: ago(60)}, true, 60, true},
		{"59.9 days", Seat{State: asana.Licensed, CreatedAt: ago(400), Since: ago(59.9)}, true, 59, false},
		{"young membership, no activity", Seat{State: asana.Licensed, CreatedAt: ago(10), Since: ago(90)}, true, 10, false},
		{"unknown creation", Seat{State: asana.Licensed, Since: ago(90)}, true, 90, true},
		{"paused", Seat{State: asana.Licensed, CreatedAt: ago(400), Since: ago(90), Paused: true}, false, 0, false},
		{"guest", Seat{State: asana.Guest, CreatedAt: ago(400), Since: ago(90)}, false, 0, false},
		{"inactive", Seat{State: asana.Inactive, CreatedAt: ago(400), Since: ago(90)}, false, 0, false},
		{"activity in the future", Seat{State: asana.Licensed, CreatedAt: ago(400), Since: now.Add(Day)}, true, 0, false},
	} {
		d, judged := For(tc.seat, now)
		if judged != tc.judged || judged && Days(d) != tc.days {
			t.Errorf("%s: For = %v (%d days), judged %v; want %d days, judged %v", tc.name, d, Days(d), judged, tc.days, tc.judged)
		}
		if got := Is(tc.seat, now, 60); got != tc.idle60 {
			t.Errorf("%s: Is(60) = %v, want %v", tc.name, got, tc.idle60)
		}
	}
}
