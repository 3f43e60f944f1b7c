package exporter_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// TestReclaimApplyWithoutActivity: a plan's idle rows cannot be re-checked
// without the audit log or --console-export; apply says so, naming what
// to give, and has asked Asana for nothing but reads.
func TestReclaimApplyWithoutActivity(t *testing.T) {
	p := newInProcess(t, setup{}, plain)
	var m asanatest.Membership
	p.srv.Mutate(func(o *asanatest.Org) {
		for _, c := range o.Workspaces[0].Memberships {
			if c.IsActive && !c.IsAdmin && !c.IsGuest && !c.IsViewOnly {
				m = *c
				break
			}
		}
	})
	now := time.Now().UTC().Truncate(time.Second)
	plan := filepath.Join(p.dir, "plan.csv")
	err := reclaim.WritePlan(plan, []reclaim.Row{{PlannedAt: now, WorkspaceGID: p.gids[0], MembershipGID: m.GID, UserGID: m.User.GID,
		UserEmail: m.User.Email, State: asana.Licensed, Reason: reclaim.ReasonIdle, IdleThresholdDays: 60, IdleDays: 90,
		ActivitySource: roster.SourceConsoleExport, Domain: asana.DomainUnknown.String(), Action: reclaim.ActionRemove}}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, yes := range []bool{false, true} {
		var out, errOut bytes.Buffer
		err := p.exp.ReclaimApply(ctx, exporter.ReclaimOptions{Plan: plan, Journal: filepath.Join(p.dir, "journal.jsonl"), Yes: yes, Now: now},
			&out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "re-checking the plan's members (its idle rows were planned with --idle=60d)") ||
			!strings.Contains(err.Error(), "--console-export=FILE") {
			t.Errorf("--yes=%v: %v; want the re-check's need named", yes, err)
		}
	}
	if len(p.srv.Requests()) == 0 {
		t.Error("the simulator recorded no request")
	}
	for _, r := range p.srv.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("apply asked %s %s", r.Method, r.Route)
		}
	}
}
