package exporter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/roster"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// demoAcme is the demo's Acme: the forum post's organisation.
const demoAcme = "1200000000000001"

func newDemo(t *testing.T) *exporter.Exporter {
	t.Helper()
	e, err := exporter.New(exporter.Options{Demo: true, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func demoSeats(t *testing.T, e *exporter.Exporter, opts exporter.SeatsOptions) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := e.Seats(ctx, opts, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestDemoTellsTheForumPostsStory: the demo's Acme, as its Admin Console
// export shows it, has 27 licensed members; the API lists 182 memberships,
// 34 of them licensed; --reconcile explains each of the 8 differences by
// name: 3 pending invites and 4 members outside acme.example make the API's
// 34, and a guest removed after the export is only in the console.
func TestDemoTellsTheForumPostsStory(t *testing.T) {
	e := newDemo(t)
	export := filepath.Join(t.TempDir(), "members.csv")
	if _, errOut, err := demoSeats(t, e, exporter.SeatsOptions{DemoConsoleExport: export}); err != nil {
		t.Fatalf("--demo.console-export: %v: %s", err, errOut)
	}
	table, errOut, err := demoSeats(t, e, exporter.SeatsOptions{Reconcile: export, Format: roster.Table})
	if exit := (*exporter.ExitError)(nil); !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("--reconcile: %v (want exit status 1: they differ): %s", err, errOut)
	}
	for _, want := range []string{`(?m)^\s+licensed\s+34\s+27$`, `(?m)^\s+total\s+182\s+162$`} {
		if !regexp.MustCompile(want).MatchString(table) {
			t.Errorf("the reconciliation has no line %s:\n%s", want, table)
		}
	}
	records, _, _ := demoSeats(t, e, exporter.SeatsOptions{Reconcile: export, Format: roster.JSON, FormatSet: true})
	kinds := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(records), "\n") {
		var f map[string]any
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		kind, note := f["finding"].(string), f["note"].(string)
		if kind == "match" {
			continue
		}
		kinds[kind] = append(kinds[kind], note)
		if note == "" || (f["name"] == "" && kind != "only_in_console") {
			t.Errorf("a %s finding without a name or a note: %s", kind, line)
		}
	}
	acme := asanatest.DemoWorkspaces[0].Spec
	for kind, want := range map[string]struct {
		n    int
		note string
	}{"disagree": {acme.LicensedOutside, "outside the organisation's domains"}, "only_in_api": {acme.Pending, "pending invite"},
		"only_in_console": {1, "removed since the export"}} {
		if notes := kinds[kind]; len(notes) != want.n || !strings.Contains(strings.Join(notes, "\n"), want.note) {
			t.Errorf("%s: %d findings %q, want %d explained as %q", kind, len(notes), notes, want.n, want.note)
		}
	}
	if len(kinds) != 3 {
		t.Errorf("findings of kinds %v, want disagree, only_in_api and only_in_console alone", kinds)
	}
}

// TestDemoRosterIsTheMetrics: on the demo's Acme the roster (seats --demo)
// and /metrics say the same, seat by seat and idle seat by idle seat.
func TestDemoRosterIsTheMetrics(t *testing.T) {
	e := newDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e.Collection().Refresh(ctx, nil)
	if err := e.ReadAuditLogs(ctx); err != nil {
		t.Fatal(err)
	}
	e.Collection().Refresh(ctx, nil)
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	families, err := exposition.Parse(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := demoSeats(t, e, exporter.SeatsOptions{Workspaces: []string{demoAcme}, Format: roster.CSV})
	if err != nil {
		t.Fatalf("seats: %v: %s", err, errOut)
	}
	states, idle := map[string]int{}, map[string]int{}
	for _, row := range readCSV(t, out) {
		states[row[6]]++
		for _, days := range []string{"30", "60", "90"} {
			if n, err := strconv.Atoi(row[12]); err == nil && n >= atoi(days) {
				idle[row[6]+" "+days]++
			}
		}
	}
	acme := asanatest.DemoWorkspaces[0]
	if states["licensed"] != acme.Spec.Licensed || states["licensed"]+states["view_only"]+states["guest"]+states["inactive"] != 182 {
		t.Errorf("the roster's states %v, want %d licensed of 182", states, acme.Spec.Licensed)
	}
	for st, n := range states {
		if got, _ := families.Sample("asana_workspace_members", "workspace_gid="+demoAcme, "state="+st); int(got) != n {
			t.Errorf("%s: the roster has %d, /metrics %v", st, n, got)
		}
	}
	for _, st := range []string{"licensed", "view_only"} {
		for _, days := range []string{"30", "60", "90"} {
			got, ok := families.Sample("asana_workspace_seats_idle", "workspace_gid="+demoAcme, "state="+st, "days="+days)
			if !ok || int(got) != idle[st+" "+days] {
				t.Errorf("idle %s %s days: the roster has %d, /metrics %v", st, days, idle[st+" "+days], got)
			}
		}
	}
	if idle["licensed 60"] != acme.Usage.Idle(60) {
		t.Errorf("%d licensed seats idle 60 days, want %d", idle["licensed 60"], acme.Usage.Idle(60))
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestDemoConsoleExportGivesIdleSeats: without the audit log, seats
// --console-export with the demo's export keeps Acme's idle seats as the
// metric's rule counts them, from the export; an export without a
// last-activity column is refused, naming the flag.
func TestDemoConsoleExportGivesIdleSeats(t *testing.T) {
	dir := t.TempDir()
	noAuditLog := filepath.Join(dir, "asana.yml")
	if err := os.WriteFile(noAuditLog, []byte("audit_log:\n  enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := exporter.New(exporter.Options{Demo: true, ConfigFile: noAuditLog, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	export := filepath.Join(dir, "members.csv")
	if _, errOut, err := demoSeats(t, e, exporter.SeatsOptions{DemoConsoleExport: export}); err != nil {
		t.Fatalf("--demo.console-export: %v: %s", err, errOut)
	}
	out, errOut, err := demoSeats(t, e, exporter.SeatsOptions{ConsoleExport: export, IdleDays: 60, Workspaces: []string{demoAcme}, Format: roster.CSV})
	if err != nil {
		t.Fatalf("--console-export: %v: %s", err, errOut)
	}
	usage := asanatest.DemoWorkspaces[0].Usage
	rows := readCSV(t, out)
	if len(rows) != usage.Idle(60)+usage.IdleViewOnly {
		t.Errorf("%d rows idle 60 days, want %d", len(rows), usage.Idle(60)+usage.IdleViewOnly)
	}
	for _, row := range rows {
		if row[13] != roster.SourceConsoleExport {
			t.Errorf("activity_source %q, want %s: %v", row[13], roster.SourceConsoleExport, row)
		}
	}
	bare := filepath.Join(dir, "bare.csv")
	if err := os.WriteFile(bare, []byte("Name,Email\nA,a@acme.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := demoSeats(t, e, exporter.SeatsOptions{ConsoleExport: bare, Format: roster.CSV}); err == nil ||
		!strings.Contains(err.Error(), "--console-export") || !strings.Contains(err.Error(), "--reconcile.activity-column") {
		t.Errorf("an export without a last-activity column: %v, want an error naming --console-export and --reconcile.activity-column", err)
	}
}
