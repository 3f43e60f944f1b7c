package asanatest

import (
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// UsageSpec says how a workspace's members used their seats over the 90
// days its audit log keeps. Every other active licensed or view-only
// member logs in once a day; guests are not judged and log nothing.
type UsageSpec struct {
	// Licensed members (neither admins nor pending) whose last login is
	// 30-59 days old, 60-89 days old, or not in the log at all.
	Idle30, Idle60, Idle90 int
	// IdleViewOnly view-only members have no login in the log.
	IdleViewOnly int
	// Paused licensed members were paused from billing 10 days ago and
	// have not logged in since.
	Paused int
	// Deprovisioned inactive members were removed within the 90 days.
	Deprovisioned int
}

// Idle is what asana_workspace_seats_idle must say of licensed seats for
// a threshold of 30, 60 or 90 days.
func (s UsageSpec) Idle(days int) int {
	switch {
	case days <= 30:
		return s.Idle30 + s.Idle60 + s.Idle90
	case days <= 60:
		return s.Idle60 + s.Idle90
	}
	return s.Idle90
}

// GenerateUsage writes w's audit log for the 90 days before now, as spec
// says, and dates the pending invitations within them (each with its
// user_invited event), so that they are in their grace period.
func (o *Org) GenerateUsage(w *Workspace, now time.Time, spec UsageSpec) {
	rng := o.rng
	day := 24 * time.Hour
	var events []AuditEvent
	add := func(e AuditEvent) { events = append(events, e) }
	defer func() { o.addAuditEvents(w, events) }()
	// at is a random time on the day that is `ago` days before now.
	at := func(ago float64) time.Time {
		return now.Add(-time.Duration(ago*float64(day)) - time.Duration(rng.Int64N(int64(12*time.Hour))))
	}
	logins := func(m *Membership, from, to float64) { // one a day, from..to days ago
		for ago := from; ago < to; ago++ {
			add(AuditEvent{CreatedAt: at(ago + 0.5), Type: asana.EventLoginSucceeded, User: &m.User})
		}
	}
	idle30, idle60, idle90, paused := spec.Idle30, spec.Idle60, spec.Idle90, spec.Paused
	viewOnlyIdle, deprovisioned := spec.IdleViewOnly, spec.Deprovisioned
	for _, m := range w.Memberships {
		judged := !m.IsViewOnly && !m.IsAdmin // a licensed member who may be idle or paused
		switch {
		case !m.IsActive:
			if deprovisioned > 0 {
				deprovisioned--
				add(AuditEvent{CreatedAt: at(float64(1 + rng.IntN(85))), Type: asana.EventDeprovisioned, User: &m.User})
			}
		case m.IsGuest:
		case m.Pending:
			m.CreatedAt = at(float64(1 + rng.IntN(20)))
			add(AuditEvent{CreatedAt: m.CreatedAt, Type: asana.EventInvited, User: &m.User})
		case m.IsViewOnly && viewOnlyIdle > 0:
			viewOnlyIdle--
		case judged && idle30 > 0:
			idle30--
			logins(m, 31+float64(rng.IntN(27)), 89)
		case judged && idle60 > 0:
			idle60--
			logins(m, 61+float64(rng.IntN(27)), 89)
		case judged && idle90 > 0:
			idle90--
		case judged && paused > 0:
			paused--
			logins(m, 12, 89)
			add(AuditEvent{CreatedAt: at(10), Type: asana.EventBillingPaused, User: &m.User})
		default:
			m.daily = true
			logins(m, 0, 89)
		}
	}
}

// driftUsage logs a few daily users in, and once makes an admin of the
// first organisation that drifts a super admin, so that the demo's alerts
// have something to show.
func driftUsage(o *Org, now time.Time, tick int) {
	rng := o.Rand()
	for _, w := range o.Workspaces {
		if !w.IsOrganization || len(w.Memberships) == 0 {
			continue
		}
		for range 3 {
			if m := w.Memberships[rng.IntN(len(w.Memberships))]; m.daily && m.IsActive {
				o.AddAuditEvent(w, AuditEvent{CreatedAt: now, Type: asana.EventLoginSucceeded, User: &m.User})
			}
		}
	}
	if tick != superAdminTick {
		return
	}
	for _, w := range o.Workspaces {
		for _, m := range w.Memberships {
			if w.IsOrganization && !w.Steady && m.IsActive && m.IsAdmin {
				o.AddAuditEvent(w, AuditEvent{CreatedAt: now, Type: asana.EventAdminRoleChanged, User: &m.User,
					OldValue: "domain_admin", NewValue: "super_admin"})
				return
			}
		}
	}
}

// superAdminTick is the drift tick at which the demo grants a super admin:
// after the first polls, so that it is news rather than history.
const superAdminTick = 12
