package exporter

import (
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// TestDemoRenewals: the demo's renewal dates are days counted from its
// start, so that Globex's falls within AsanaRenewalWithIdleSeats' 90 days
// and Acme's beyond them, and Initech, with no contract, has none.
func TestDemoRenewals(t *testing.T) {
	start := time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC)
	srv, cfg := startDemo(start)
	defer srv.Close()
	want := map[string]string{"Acme Corp": "2027-06-11", "Globex Engineering": "2027-02-06", "Initech Partners": ""}
	for i, gid := range srv.WorkspaceGIDs() {
		name := asanatest.DemoWorkspaces[i].Spec.Name
		got := ""
		if w := cfg.Workspace(gid); w != nil && w.RenewalDate != nil {
			got = w.RenewalDate.String()
		}
		if got != want[name] {
			t.Errorf("%s renews on %q, want %q", name, got, want[name])
		}
	}
	globex := cfg.Workspace(srv.WorkspaceGIDs()[1])
	if left := globex.RenewalDate.Sub(start); left <= 60*24*time.Hour || left > 90*24*time.Hour {
		t.Errorf("Globex renews %v after the start, want within the alert's 90 days", left)
	}
	if asanatest.DemoWorkspaces[1].Usage.Idle(60) == 0 {
		t.Error("Globex has no seats idle for 60 days: the renewal alert would not fire in the demo")
	}
}
