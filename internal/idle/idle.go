// Package idle is the one rule by which a seat is idle. The metric
// asana_workspace_seats_idle, the roster's idle_days column, seats --idle
// and the reconciliation all judge with it, so that they never disagree.
package idle

import (
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Day is the unit of the idle thresholds.
const Day = 24 * time.Hour

// Seat is what the rule needs to know of one membership.
type Seat struct {
	State     asana.State
	CreatedAt time.Time // the membership's; zero when unknown
	// Since is the last activity known or, when the source saw none, when
	// the source's view begins (the audit log's history start, the
	// membership's creation for the console export): the seat has been
	// idle at least since then.
	Since  time.Time
	Paused bool // the licence is paused from billing: not billed, so not idle
}

// For returns how long the seat has been idle at now, and whether the rule
// judges it at all: only active licensed and view-only seats whose licence
// is not paused are. A membership younger than a threshold is not idle by
// it: it has not had the time, so the later of its creation and its last
// activity counts.
func For(s Seat, now time.Time) (time.Duration, bool) {
	if s.Paused || (s.State != asana.Licensed && s.State != asana.ViewOnly) {
		return 0, false
	}
	since := s.Since
	if s.CreatedAt.After(since) {
		since = s.CreatedAt
	}
	return max(now.Sub(since), 0), true
}

// Days is d in whole days, as the roster's idle_days shows it.
func Days(d time.Duration) int { return int(d / Day) }

// Is reports whether the seat is idle by a threshold of days at now:
// judged, and idle for at least that long.
func Is(s Seat, now time.Time, days int) bool {
	d, judged := For(s, now)
	return judged && d >= time.Duration(days)*Day
}
