package reclaim

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

func TestJudgeProposesByTheCriteriaAndKeepsWhoMustStay(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	old := now.AddDate(-1, 0, 0)
	idle := roster.Entry{UserGID: "1", UserEmail: "a@example.com", State: asana.Licensed, Domain: "inside", CreatedAt: old,
		IdleDays: 90, ActivitySource: roster.SourceAuditLog, LastLogin: now.AddDate(0, 0, -90)}
	with := func(change func(*roster.Entry)) roster.Entry {
		e := idle
		change(&e)
		return e
	}
	excludes := filepath.Join(t.TempDir(), "exclude")
	if err := os.WriteFile(excludes, []byte("# VIPs\nvip@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exclusions, err := ReadExclusions(excludes)
	if err != nil {
		t.Fatal(err)
	}
	criteria := Criteria{IdleDays: 60, OutsideDomains: true, Exclusions: exclusions, Self: "9"}
	price := 24.99
	cases := []struct {
		name   string
		entry  roster.Entry
		reason Reason
		action Action
		skip   Skip
	}{
		{"idle", idle, ReasonIdle, ActionRemove, ""},
		{"idle view-only", with(func(e *roster.Entry) { e.State = asana.ViewOnly }), ReasonIdle, ActionRemove, ""},
		{"idle and outside", with(func(e *roster.Entry) { e.Domain = "outside" }), ReasonBoth, ActionRemove, ""},
		{"outside and active", with(func(e *roster.Entry) { e.Domain, e.IdleDays = "outside", 3 }), ReasonOutside, ActionReview, ""},
		{"active", with(func(e *roster.Entry) { e.IdleDays = 59 }), "", "", ""},
		{"activity unknown", with(func(e *roster.Entry) { e.IdleDays = -1 }), "", "", ""},
		{"guest", with(func(e *roster.Entry) { e.State = asana.Guest }), "", "", ""},
		{"inactive", with(func(e *roster.Entry) { e.State = asana.Inactive }), "", "", ""},
		{"view-only outside", with(func(e *roster.Entry) { e.State, e.Domain, e.IdleDays = asana.ViewOnly, "outside", 3 }), "", "", ""},
		{"admin", with(func(e *roster.Entry) { e.IsAdmin = true }), "", "", SkipAdmin},
		{"the token's user", with(func(e *roster.Entry) { e.UserGID = "9" }), "", "", SkipSelf},
		{"excluded by email", with(func(e *roster.Entry) { e.UserEmail = "VIP@example.com" }), "", "", SkipExcluded},
		{"paused", with(func(e *roster.Entry) { e.LicensePaused = true }), "", "", SkipPaused},
		{"young outsider", with(func(e *roster.Entry) { e.Domain, e.IdleDays, e.CreatedAt = "outside", 3, now.AddDate(0, 0, -3) }), "", "", SkipYoung},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row, skip, ok := criteria.Judge(Workspace{GID: "1", Name: "Acme", MonthlyPrice: &price}, c.entry, now)
			if skip != c.skip || ok != (c.reason != "") || row.Reason != c.reason || row.Action != c.action {
				t.Errorf("got %q %q skip %q ok %v; want %q %q skip %q", row.Reason, row.Action, skip, ok, c.reason, c.action, c.skip)
			}
			if ok && (row.PlannedAt != now || row.WorkspaceGID != "1" || row.UserGID != c.entry.UserGID) {
				t.Errorf("row %+v does not carry the plan's time and the member", row)
			}
			// seat_price is a full seat's: a view-only seat is not priced.
			if ok && (row.MonthlyPrice != nil) != (c.entry.State == asana.Licensed) {
				t.Errorf("a %s seat priced %v", c.entry.State, row.MonthlyPrice)
			}
			if ok && row.Reason != ReasonOutside && (row.IdleThresholdDays != 60 || row.LastActivity != idle.LastLogin) {
				t.Errorf("row %+v lacks the evidence: threshold 60 and the last login", row)
			}
		})
	}
}

func TestTotalsAddUpThePlan(t *testing.T) {
	ten := 10.0
	var totals Totals
	totals.Add(Row{Reason: ReasonIdle, Action: ActionRemove, MonthlyPrice: &ten}, "", true)
	totals.Add(Row{Reason: ReasonBoth, Action: ActionRemove}, "", true)
	totals.Add(Row{Reason: ReasonIdle, Action: ActionRemove, State: asana.ViewOnly}, "", true)
	totals.Add(Row{Reason: ReasonOutside, Action: ActionReview, MonthlyPrice: &ten}, "", true)
	totals.Add(Row{}, SkipAdmin, false)
	totals.Add(Row{}, "", false)
	if totals.Remove != 3 || totals.Review != 1 || totals.Monthly != 10 || totals.Unpriced != 1 || totals.ViewOnly != 1 || totals.Kept[SkipAdmin] != 1 ||
		totals.ByReason[ReasonIdle] != 2 || totals.ByReason[ReasonOutside] != 1 {
		t.Errorf("totals %+v", totals)
	}
}
