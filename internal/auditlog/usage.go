package auditlog

import (
	"strconv"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
)

// Usage is how the seats of one complete membership listing were used, as
// the audit log tells it.
type Usage struct {
	// Idle has one entry per threshold the login history reaches back to,
	// ascending.
	Idle []Idle
	// Paused counts the active licensed members whose licence is paused
	// from billing: their last billing event is a pause, with no login
	// after it. They are counted in no Idle entry.
	Paused int
}

// Idle counts the active members of each billed state whose last login is
// older than Days days, or who have none in the history. A membership
// created less than Days days ago is not idle: it has not had the time.
type Idle struct {
	Days               int
	Licensed, ViewOnly int
}

// UsageCounter counts a listing's Usage: it judges each membership against
// the Ledger as the listing goes (it is an asana.Tally).
type UsageCounter struct {
	ledger *Ledger
	now    time.Time
	usage  Usage
}

// UsageCounter returns a UsageCounter judging seats at now with the
// thresholds in idleDays that the history covers, or nil while the login
// and billing streams have not caught up once: until then a login not yet
// read would make a seat look idle.
func (l *Ledger) UsageCounter(now time.Time, idleDays []int) *UsageCounter {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, t := range []string{asana.EventLoginSucceeded, asana.EventBillingPaused, asana.EventBillingUnpaused} {
		if !l.streams[t].CaughtUp() {
			return nil
		}
	}
	c := &UsageCounter{ledger: l, now: now}
	for _, d := range idleDays {
		if !l.historyStart.After(now.Add(-time.Duration(d) * idle.Day)) {
			c.usage.Idle = append(c.usage.Idle, Idle{Days: d})
		}
	}
	return c
}

// Reset starts the count over, for a listing that starts (or starts over).
func (c *UsageCounter) Reset() {
	c.usage.Paused = 0
	for i := range c.usage.Idle {
		c.usage.Idle[i].Licensed, c.usage.Idle[i].ViewOnly = 0, 0
	}
}

// Add judges a page of memberships, read with the user's gid and the
// membership's created_at (asana.WithUser).
func (c *UsageCounter) Add(page []asana.Membership) {
	c.ledger.mu.RLock()
	defer c.ledger.mu.RUnlock()
	for i := range page {
		m := &page[i]
		state := m.State()
		if state != asana.Licensed && state != asana.ViewOnly {
			continue
		}
		var u user
		if gid, err := strconv.ParseUint(m.User.GID, 10, 64); err == nil {
			u = c.ledger.users[gid]
		}
		if u.billingPaused() && state == asana.Licensed {
			c.usage.Paused++
		}
		seat := c.ledger.seat(u, state, m.CreatedAt)
		for j := range c.usage.Idle {
			count := &c.usage.Idle[j]
			if !idle.Is(seat, c.now, count.Days) {
				continue
			}
			if state == asana.Licensed {
				count.Licensed++
			} else {
				count.ViewOnly++
			}
		}
	}
}

// Usage is the count so far; after a complete listing, the listing's.
func (c *UsageCounter) Usage() Usage { return c.usage }
