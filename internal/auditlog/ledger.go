// Package auditlog reads the seat events of Asana's audit log (logins,
// billing pauses, invites, deprovisions, admin role changes) into a Ledger
// per organisation, keeps the Ledgers across restarts, and judges from them
// which seats are idle or paused.
package auditlog

import (
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
)

// Roles a user_workspace_admin_role_changed event can give; any other
// new_value is counted as "other", so the label's values stay few.
var Roles = []string{"member", "domain_admin", "super_admin"}

// user is what the log says about one user, in Unix milliseconds (0: no
// such event). Judging needs only the latest of each kind.
type user struct {
	lastLogin, paused, unpaused int64
}

// billingPaused: the last billing event is a pause, and no login came after
// it (Asana restores billing when a paused member logs in).
func (u user) billingPaused() bool {
	return u.paused > max(u.unpaused, u.lastLogin)
}

// Ledger is what the audit log says about one organisation. Its methods are
// safe for concurrent use: the reader applies events while a membership
// listing judges seats.
type Ledger struct {
	mu sync.RWMutex
	// users by gid. Asana's gids are numeric strings; a uint64 key keeps a
	// million users well under 100 MB. A gid that is not a number is
	// skipped (GUESS: none exists).
	users   map[uint64]user
	streams map[string]*stream
	// historyStart is when the login history begins: the backfill's start,
	// or later if the log was not read for longer than Asana keeps it.
	historyStart time.Time
	lastEvent    time.Time
	// events and roleChanges count what arrived after each stream's
	// backfill: the backfill's own events describe the past, and counting
	// them at every restart would replay old admin grants as new ones.
	events      map[string]uint64
	roleChanges map[string]uint64
}

// newLedger starts an empty Ledger whose history begins at historyStart.
func newLedger(historyStart time.Time) *Ledger {
	l := &Ledger{users: map[uint64]user{}, streams: map[string]*stream{},
		historyStart: historyStart, events: map[string]uint64{}, roleChanges: map[string]uint64{}}
	for _, t := range asana.SeatEventTypes {
		l.streams[t] = &stream{EventType: t}
	}
	return l
}

// apply records a page of one stream's events, dropping those it already
// applied; it reports how many were new. An event applied twice (possible
// only beyond maxBoundary) leaves every user as it was, since each of a
// user's times is a maximum, pauses and unpauses alike; only the event and
// role-change counters count it again.
func (l *Ledger) apply(st *stream, events []asana.AuditEvent) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	fresh := 0
	for i := range events {
		e := &events[i]
		if !st.advance(e) {
			continue
		}
		fresh++
		at := e.CreatedAt.Time
		if at.After(l.lastEvent) {
			l.lastEvent = at
		}
		if st.CaughtUp() {
			l.events[e.EventType]++
			if e.EventType == asana.EventAdminRoleChanged {
				l.roleChanges[roleOf(e)]++
			}
		}
		gid, err := strconv.ParseUint(e.Resource.GID, 10, 64)
		if err != nil || e.Resource.ResourceType != "user" && e.Resource.ResourceType != "" {
			continue
		}
		ms := at.UnixMilli()
		u := l.users[gid]
		switch e.EventType {
		case asana.EventLoginSucceeded:
			u.lastLogin = max(u.lastLogin, ms)
		case asana.EventBillingPaused:
			u.paused = max(u.paused, ms)
		case asana.EventBillingUnpaused:
			u.unpaused = max(u.unpaused, ms)
		default:
			continue
		}
		l.users[gid] = u
	}
	return fresh
}

func roleOf(e *asana.AuditEvent) string {
	if v := e.Details.NewValue; v != nil {
		for _, r := range Roles {
			if *v == r {
				return r
			}
		}
	}
	return "other"
}

// Status is a Ledger's numbers for the metrics, copied under its lock.
type Status struct {
	HistoryStart time.Time
	LastEvent    time.Time
	// BackfillDone is true once every stream has caught up at least once.
	BackfillDone bool
	// Stalled holds the event types whose streams made no progress for
	// StallPolls polls in a row.
	Stalled     map[string]bool
	Events      map[string]uint64
	RoleChanges map[string]uint64
	Users       int
}

// Status copies the Ledger's numbers.
func (l *Ledger) Status() Status {
	l.mu.RLock()
	defer l.mu.RUnlock()
	done, stalled := true, map[string]bool{}
	for t, st := range l.streams {
		done = done && st.CaughtUp()
		if st.stalled() {
			stalled[t] = true
		}
	}
	return Status{HistoryStart: l.historyStart, LastEvent: l.lastEvent, BackfillDone: done, Stalled: stalled,
		Events: maps.Clone(l.events), RoleChanges: maps.Clone(l.roleChanges), Users: len(l.users)}
}

// Seat is what the log says about one user's seat, for the roster.
type Seat struct {
	LastLogin time.Time // zero: no login in the history
	Paused    bool
	// Idle is the seat as the idle rule judges it: since the last login
	// or, without one, since the history begins.
	Idle idle.Seat
}

// seat is u's membership in state, created at created, as the idle rule
// sees it. Call with l.mu held.
func (l *Ledger) seat(u user, state asana.State, created time.Time) idle.Seat {
	since := l.historyStart
	if u.lastLogin > 0 {
		since = time.UnixMilli(u.lastLogin)
	}
	return idle.Seat{State: state, CreatedAt: created, Since: since, Paused: u.billingPaused()}
}

// Seat looks up the membership of a user (by gid) in state, created at
// created.
func (l *Ledger) Seat(userGID string, state asana.State, created time.Time) (Seat, bool) {
	gid, err := strconv.ParseUint(userGID, 10, 64)
	if err != nil {
		return Seat{}, false
	}
	l.mu.RLock()
	u, ok := l.users[gid]
	s := Seat{Paused: u.billingPaused(), Idle: l.seat(u, state, created)}
	l.mu.RUnlock()
	if u.lastLogin > 0 {
		s.LastLogin = time.UnixMilli(u.lastLogin).UTC()
	}
	return s, ok
}
