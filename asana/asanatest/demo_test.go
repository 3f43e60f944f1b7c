package asanatest

import (
	"slices"
	"testing"
	"time"
)

// TestDemoAcmeDoesNotDrift: however long the demo runs, Acme keeps the
// forum post's numbers, while Globex drifts; the super admin the demo's
// alert shows is granted in a workspace that drifts.
func TestDemoAcmeDoesNotDrift(t *testing.T) {
	o := DemoOrg(2026)
	snapshot := func(w *Workspace) []Membership {
		var ms []Membership
		for _, m := range w.Memberships {
			ms = append(ms, *m)
		}
		return ms
	}
	acme, globex := snapshot(o.Workspaces[0]), snapshot(o.Workspaces[1])
	now := time.Now()
	for tick := 1; tick <= 500; tick++ {
		now = now.Add(15 * time.Second)
		driftOnce(o, now)
		driftUsage(o, now, tick)
	}
	if !slices.Equal(acme, snapshot(o.Workspaces[0])) {
		t.Error("Acme's memberships changed in 500 drift ticks")
	}
	if slices.Equal(globex, snapshot(o.Workspaces[1])) {
		t.Error("Globex did not drift in 500 ticks")
	}
	if o.Workspaces[0].AuditEvents("user_workspace_admin_role_changed") != nil ||
		len(o.Workspaces[1].AuditEvents("user_workspace_admin_role_changed")) != 1 {
		t.Error("the demo's super admin was not granted once, in Globex")
	}
}
