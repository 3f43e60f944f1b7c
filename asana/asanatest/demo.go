package asanatest

import (
	"context"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// DemoWorkspace is one workspace of the demo organisation, with the seats
// its made-up contract says were bought (0: none configured) at what price
// a month, how its seats were used (organisations only: a plain workspace
// has no audit log), and how long after the demo starts its contract
// renews (0: no renewal date configured).
type DemoWorkspace struct {
	Spec           WorkspaceSpec
	SeatsPurchased int
	SeatPrice      float64
	Usage          UsageSpec
	RenewalIn      time.Duration
}

// DemoWorkspaces is a realistic organisation for the demo: Acme is the
// forum post that started this project (182 memberships in the API, 27
// licensed members in the Admin Console, which leaves out the 3 pending
// invites and shows the 4 members outside acme.example as guests), and it
// does not drift, so that its numbers stay those of the story; Globex uses
// more seats than it bought, and Initech is a plain workspace shared with
// partners. Globex renews within 90 days with idle seats, so that
// AsanaRenewalWithIdleSeats fires; Acme later.
var DemoWorkspaces = []DemoWorkspace{
	{WorkspaceSpec{Name: "Acme Corp", IsOrganization: true, EmailDomain: "acme.example", Steady: true,
		Licensed: 34, Admins: 2, Pending: 3, LicensedOutside: 4, ViewOnly: 6, Guests: 124, Inactive: 18, Readded: 2}, 30, 24.99,
		UsageSpec{Idle30: 2, Idle60: 1, Idle90: 2, IdleViewOnly: 1, Paused: 2, Deprovisioned: 10}, 200 * 24 * time.Hour},
	{WorkspaceSpec{Name: "Globex Engineering", IsOrganization: true, EmailDomain: "globex.example",
		Licensed: 412, Admins: 5, Pending: 9, LicensedOutside: 2, ViewOnly: 40, Guests: 85, Inactive: 63, Readded: 7}, 400, 13.49,
		UsageSpec{Idle30: 20, Idle60: 12, Idle90: 8, IdleViewOnly: 4, Paused: 6, Deprovisioned: 40}, 75 * 24 * time.Hour},
	{WorkspaceSpec{Name: "Initech Partners", EmailDomain: "initech.example",
		Licensed: 14, Admins: 1, Guests: 22, Inactive: 3}, 0, 0, UsageSpec{}, 0},
}

// DemoOrg generates the demo organisation, its audit logs ending now.
func DemoOrg(seed uint64) *Org {
	specs := make([]WorkspaceSpec, len(DemoWorkspaces))
	for i, d := range DemoWorkspaces {
		specs[i] = d.Spec
	}
	o := Generate(seed, specs...)
	now := time.Now()
	for i, d := range DemoWorkspaces {
		if d.Spec.IsOrganization {
			o.GenerateUsage(o.Workspaces[i], now, d.Usage)
		}
	}
	return o
}

// Drift makes the organisation's workspaces that are not Steady change
// every interval until ctx ends, so that dashboards show trends: people join (some as pending invites), guests
// come and go, and members leave (their memberships turn inactive). Joining
// is a little more likely than leaving, as in a growing company.
func (a *API) Drift(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := a.now()
			a.Mutate(func(o *Org) {
				driftOnce(o, now)
				driftUsage(o, now, tick)
			})
		}
	}
}

func driftOnce(o *Org, now time.Time) {
	rng := o.Rand()
	for _, w := range o.Workspaces {
		if w.Steady {
			continue
		}
		switch p := rng.Float64(); {
		case p < 0.30:
			m := o.AddMember(w, Membership{IsActive: true, Pending: rng.Float64() < 0.3, CreatedAt: now})
			if w.IsOrganization {
				o.AddAuditEvent(w, AuditEvent{CreatedAt: now, Type: asana.EventInvited, User: &m.User})
			}
		case p < 0.50:
			o.AddMember(w, Membership{IsActive: true, IsGuest: true})
		case p < 0.55:
			o.AddMember(w, Membership{IsActive: true, IsViewOnly: true})
		case p < 0.90:
			// Someone leaves: an active, non-admin membership turns inactive.
			m := w.Memberships[rng.IntN(len(w.Memberships))]
			if m.IsActive && !m.IsAdmin {
				m.IsActive, m.Pending = false, false
				if w.IsOrganization {
					o.AddAuditEvent(w, AuditEvent{CreatedAt: now, Type: asana.EventDeprovisioned, User: &m.User})
				}
			}
		}
	}
}
