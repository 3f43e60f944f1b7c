package auditlog

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// sameInstant is n events of one type created in the same millisecond, with
// gids from first on, each on user 1200000000000000+i.
func sameInstant(eventType string, first, n int, at time.Time) []asana.AuditEvent {
	events := make([]asana.AuditEvent, n)
	for i := range events {
		e := &events[i]
		e.GID, e.EventType, e.CreatedAt.Time = strconv.Itoa(first+i), eventType, at
		e.Resource.GID, e.Resource.ResourceType = strconv.Itoa(1200000000000000+i), "user"
	}
	return events
}

// TestBoundaryIsBounded: a stream whose events all share one created_at
// keeps the newest maxBoundary gids, drops those it keeps when they come
// again, and takes the forgotten ones as new.
func TestBoundaryIsBounded(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	st := &stream{EventType: asana.EventLoginSucceeded}
	events := sameInstant(asana.EventLoginSucceeded, 1, 3*maxBoundary, at)
	for i := range events {
		if !st.advance(&events[i]) {
			t.Fatalf("event %d of %d new events taken as seen", i, len(events))
		}
	}
	want := make([]string, 0, maxBoundary)
	for _, e := range events[len(events)-maxBoundary:] {
		want = append(want, e.GID)
	}
	if !slices.Equal(st.Boundary, want) || len(st.inBoundary) != maxBoundary {
		t.Fatalf("boundary of %d gids (index %d), want the newest %d", len(st.Boundary), len(st.inBoundary), maxBoundary)
	}
	if st.advance(&events[len(events)-1]) || st.advance(&events[len(events)-maxBoundary]) {
		t.Error("a kept gid was taken as new")
	}
	if !st.advance(&events[0]) {
		t.Error("a forgotten gid was dropped; beyond the bound it is applied again")
	}

	// A state file of an exporter before the bound kept every gid.
	old := &stream{EventType: asana.EventLoginSucceeded, LastAt: at}
	for _, e := range events {
		old.Boundary = append(old.Boundary, e.GID)
	}
	if old.advance(&events[len(events)-1]) {
		t.Error("a gid kept in an older state file was taken as new")
	}
	if len(old.Boundary) != maxBoundary {
		t.Errorf("an older state file's boundary of %d gids kept %d, want %d", len(events), len(old.Boundary), maxBoundary)
	}
}

// TestEventAppliedTwiceLeavesSeatsAsTheyWere: beyond maxBoundary an event
// can be applied twice. The seats are judged the same (logins, pauses and
// unpauses are maxima); only the event counters count it again.
func TestEventAppliedTwiceLeavesSeatsAsTheyWere(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	l := newLedger(at.Add(-Retention))
	types := []string{asana.EventBillingPaused, asana.EventLoginSucceeded, asana.EventBillingUnpaused, asana.EventBillingPaused}
	apply := func() {
		for i, typ := range types { // pause, login, unpause, pause: paused at the end
			st := &stream{EventType: typ, CaughtUpAt: at} // a stream that forgot them
			l.apply(st, sameInstant(typ, 10*i, 3, at.Add(time.Duration(i)*time.Minute)))
		}
	}
	apply()
	before, _ := l.Seat("1200000000000001", asana.Licensed, time.Time{})
	counted := l.Status().Events[asana.EventBillingPaused]
	apply()
	after, _ := l.Seat("1200000000000001", asana.Licensed, time.Time{})
	if after != before || !before.Paused {
		t.Errorf("seat %+v after the events came twice, %+v before (paused)", after, before)
	}
	if got := l.Status().Events[asana.EventBillingPaused]; got != 2*counted {
		t.Errorf("pauses counted %d, then %d: the counters count a repeated event again", counted, got)
	}
}
