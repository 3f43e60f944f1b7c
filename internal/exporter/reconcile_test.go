package exporter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/reconcile"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

func exitCode(err error) int {
	var exit *exporter.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	}
	return -1
}

// TestReconcileExplainsTheSimulatedConsole: the simulated Admin Console
// export of Acme differs from the API as the forum post's did; reconcile
// finds each difference, picks Acme among the workspaces the token sees,
// and exits 1. The same export written with semicolons reads the same.
func TestReconcileExplainsTheSimulatedConsole(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.Acme, asanatest.Globex)
	var export bytes.Buffer
	if err := p.srv.ConsoleExport(p.gids[0], &export); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{
		"commas":     export.String(),
		"semicolons": strings.ReplaceAll(export.String(), ",", ";"),
	} {
		t.Run(name, func(t *testing.T) {
			path := p.write(t, "console-"+name+".csv", file)
			out, errOut, err := p.seats(t, exporter.SeatsOptions{Reconcile: path, Format: roster.CSV, FormatSet: true})
			if code := exitCode(err); code != 1 {
				t.Fatalf("exit %d (%v), want 1: they differ\n%s", code, err, errOut)
			}
			if !strings.Contains(errOut, "comparing with workspace "+p.gids[0]) {
				t.Errorf("stderr does not say which workspace it chose: %q", errOut)
			}
			recs := readRecords(t, out, len(reconcile.Columns))
			if strings.Join(recs[0], ",") != strings.Join(reconcile.Columns, ",") {
				t.Fatalf("header %q", recs[0])
			}
			found := map[string]int{}
			for _, r := range recs[1:] {
				if r[0] != p.gids[0] {
					t.Errorf("a finding for workspace %s", r[0])
				}
				found[r[1]]++
			}
			acme := asanatest.Acme
			want := map[string]int{
				"disagree":        acme.LicensedOutside,
				"only_in_api":     acme.Pending,
				"only_in_console": 1,
				"match":           acme.Licensed + acme.ViewOnly + acme.Guests - acme.Pending - acme.LicensedOutside,
			}
			if fmt.Sprint(found) != fmt.Sprint(want) {
				t.Errorf("findings %v, want %v", found, want)
			}
		})
	}

	out, _, err := p.seats(t, exporter.SeatsOptions{Reconcile: p.write(t, "c.csv", export.String()), Workspaces: []string{p.gids[0]}})
	if exitCode(err) != 1 {
		t.Fatalf("table: %v", err)
	}
	for _, want := range []string{
		fmt.Sprintf("API memberships: %d = %d of people in the console + %d only in the API + %d inactive and not in the console",
			asanatest.Acme.Seats().Total(), asanatest.Acme.Seats().Total()-asanatest.Acme.Pending-(asanatest.Acme.Inactive-asanatest.Acme.Readded),
			asanatest.Acme.Pending, asanatest.Acme.Inactive-asanatest.Acme.Readded),
		fmt.Sprintf("in both: %d agree, %d disagree; %d re-added", asanatest.Acme.Licensed+asanatest.Acme.ViewOnly+asanatest.Acme.Guests-asanatest.Acme.Pending-asanatest.Acme.LicensedOutside,
			asanatest.Acme.LicensedOutside, asanatest.Acme.Readded),
		"a pending invite? The Members tab leaves invitees out",
		"outside the organisation's domains",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}

// TestReconcileAgrees: an export that lists exactly the active members,
// with their types, exits 0.
func TestReconcileAgrees(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.WorkspaceSpec{Name: "Agreeable", IsOrganization: true, Licensed: 40, Admins: 2, ViewOnly: 5, Guests: 12, Inactive: 6, Readded: 2})
	var b strings.Builder
	b.WriteString("Email,Type\n")
	p.srv.Mutate(func(o *asanatest.Org) {
		for _, m := range o.Workspaces[0].Memberships {
			switch {
			case !m.IsActive:
			case m.IsGuest:
				fmt.Fprintf(&b, "%s,Guest\n", m.User.Email)
			case m.IsViewOnly:
				fmt.Fprintf(&b, "%s,View-only\n", m.User.Email)
			case m.IsAdmin:
				fmt.Fprintf(&b, "%s,Super admin\n", strings.ToUpper(m.User.Email))
			default:
				fmt.Fprintf(&b, " %s ,Member\n", m.User.Email)
			}
		}
	})
	out, errOut, err := p.seats(t, exporter.SeatsOptions{Reconcile: p.write(t, "console.csv", b.String())})
	if err != nil || errOut != "" {
		t.Fatalf("exit %d (%v), stderr %q\n%s", exitCode(err), err, errOut, out)
	}
	if !strings.Contains(out, "The API and the console agree.") || !strings.Contains(out, "2 re-added") {
		t.Errorf("the table does not say they agree:\n%s", out)
	}
}

// TestReconcileTroubleExitsTwo: what stops a comparison exits 2 with a
// message that says what to fix.
func TestReconcileTroubleExitsTwo(t *testing.T) {
	p := newInProcess(t, setup{client: func(o *asana.Options) { o.MaxAttempts = 1 }}, asanatest.Acme, asanatest.Globex)
	good := p.write(t, "good.csv", "Email\nx@acme.example\n")
	fifo := p.dir + "/fifo.csv"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts exporter.SeatsOptions
		want string
	}{
		{"missing file", exporter.SeatsOptions{Reconcile: p.dir + "/nope.csv"}, "no such file"},
		{"no email column", exporter.SeatsOptions{Reconcile: p.write(t, "bad.csv", "Name;Dept\nJane;Sales\n")},
			`no email column among the headers "Name", "Dept" (separated by ';'); name it with --reconcile.email-column`},
		{"a stray quote", exporter.SeatsOptions{Reconcile: p.write(t, "stray.csv", "Email,Name\nx@acme.example,Jane\ny@acme.example,Jane \"JJ\" Doe\n")},
			"--reconcile: " + p.dir + "/stray.csv line 3: a quote inside an unquoted field (byte 21 of the line); re-export the file from the Admin Console"},
		{"a FIFO", exporter.SeatsOptions{Reconcile: fifo}, "--reconcile: " + fifo + " is a named pipe (FIFO), not a regular file"},
		{"state filter", exporter.SeatsOptions{Reconcile: good, States: []string{"licensed"}}, "--state and --output do not apply"},
		{"failed listing", exporter.SeatsOptions{Reconcile: good}, "could not be listed; nothing compared"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "failed listing" {
				p.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 3, Status: 500})
			}
			_, _, err := p.seats(t, c.opts)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("exit %d, error %v; want 2 and %q", exitCode(err), err, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), "@") || strings.Contains(err.Error(), "Jane")) {
				t.Errorf("the error quotes the file's rows: %v", err)
			}
		})
	}
}

// TestReconcileWarnsByLineOnly: the rows the reader skips or ignores are
// named by line on standard error, never by their cells.
func TestReconcileWarnsByLineOnly(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.Acme)
	var export bytes.Buffer
	if err := p.srv.ConsoleExport(p.gids[0], &export); err != nil {
		t.Fatal(err)
	}
	firstRow := strings.SplitN(export.String(), "\n", 3)[1] // line 2
	file := export.String() + "Jane Doe,,Member\n" + firstRow + "\n"
	lines := strings.Count(file, "\n")
	_, errOut, err := p.seats(t, exporter.SeatsOptions{Reconcile: p.write(t, "console.csv", file)})
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v), want 1", exitCode(err), err)
	}
	for _, want := range []string{fmt.Sprintf("line %d: no email; row skipped", lines-1), fmt.Sprintf("line %d: the same email as line 2", lines)} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if name, _, _ := strings.Cut(firstRow, ","); strings.Contains(errOut, "Jane") || strings.Contains(errOut, name) || strings.Contains(errOut, "@") {
		t.Errorf("a warning quotes a row's cells:\n%s", errOut)
	}
}

// TestReconcileCountsIdleSeatsAsTheMetricDoes: on the demo organisation's
// simulated usage, the idle seats that --reconcile counts from the
// simulator's Admin Console export are those asana_workspace_seats_idle
// publishes from the audit log, at every threshold, and its rows' idle_days
// say whose they are; the workspace with a seat_price has them priced.
func TestReconcileCountsIdleSeatsAsTheMetricDoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pricedGID, price = "1200000000000001", 24.99 // the first workspace's gid
		var specs []asanatest.WorkspaceSpec
		s := auditSetup(false)
		s.usage = nil
		s.config = auditOn + fmt.Sprintf("workspaces:\n  - gid: %q\n    seat_price: %v\n", pricedGID, price)
		for _, d := range asanatest.DemoWorkspaces {
			specs, s.usage = append(specs, d.Spec), append(s.usage, d.Usage)
		}
		p := newInProcess(t, s, specs...)
		if p.gids[0] != pricedGID {
			t.Fatalf("the first workspace is %s, not %s", p.gids[0], pricedGID)
		}
		p.cycle(t) // finds the organisations whose audit logs to read
		if err := p.poll(); err != nil {
			t.Fatal(err)
		}
		families, _ := p.cycle(t)
		organizations := 0
		for i, d := range asanatest.DemoWorkspaces {
			if !d.Spec.IsOrganization {
				continue
			}
			organizations++
			gid := p.gids[i]
			checkUsage(t, families, gid, d.Usage) // the metric, from the audit log
			var export bytes.Buffer
			if err := p.srv.ConsoleExport(gid, &export); err != nil {
				t.Fatal(err)
			}
			path := p.write(t, gid+".csv", export.String())

			out, errOut, err := p.seats(t, exporter.SeatsOptions{Reconcile: path, Workspaces: []string{gid}, Format: roster.JSON, FormatSet: true})
			if exitCode(err) != 1 || errOut != "" {
				t.Fatalf("%s: exit %d (%v), want 1; stderr %q", gid, exitCode(err), err, errOut)
			}
			idleRows := map[string][]int{} // by API state: idle_days
			for line := range strings.Lines(out) {
				var f struct {
					APIState string `json:"api_state"`
					IdleDays *int   `json:"idle_days"`
				}
				if err := json.Unmarshal([]byte(line), &f); err != nil {
					t.Fatal(err)
				}
				if f.IdleDays != nil {
					idleRows[f.APIState] = append(idleRows[f.APIState], *f.IdleDays)
				}
			}
			table, _, _ := p.seats(t, exporter.SeatsOptions{Reconcile: path, Workspaces: []string{gid}})
			for _, days := range []int{30, 60, 90} {
				licensed, viewOnly := atLeast(idleRows["licensed"], days), atLeast(idleRows["view_only"], days)
				if licensed != d.Usage.Idle(days) || viewOnly != d.Usage.IdleViewOnly {
					t.Errorf("%s: %d licensed and %d view-only rows idle %d days, want %d and %d", gid, licensed, viewOnly, days, d.Usage.Idle(days), d.Usage.IdleViewOnly)
				}
				want := fmt.Sprintf("  %-14s %8d %9d", fmt.Sprintf("%d days", days), d.Usage.Idle(days), d.Usage.IdleViewOnly)
				if gid == pricedGID {
					want += fmt.Sprintf("  %12.2f\n", float64(d.Usage.Idle(days))*price)
				} else {
					want += "\n"
				}
				if !strings.Contains(table, want) {
					t.Errorf("%s: the table lacks %q:\n%s", gid, want, table)
				}
			}
		}
		if organizations < 2 {
			t.Errorf("the demo has %d organisations", organizations)
		}
	})
}

// atLeast counts the values of days that are at least n.
func atLeast(days []int, n int) int {
	count := 0
	for _, d := range days {
		if d >= n {
			count++
		}
	}
	return count
}
