package reconcile

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/cell"
)

// Columns of the csv and json output: one row per finding. The last
// activity is the console's, in RFC 3339, "never", or empty when unknown;
// idle_days is empty (null in JSON) where the idle rule does not judge.
var Columns = []string{"workspace_gid", "finding", "email", "name", "api_state", "console_type", "console_line", "membership_gid", "note",
	"console_last_activity", "idle_days"}

// activityText is a finding's last activity as the records and the
// table write it.
func activityText(f Finding) string {
	switch {
	case !f.ActivityKnown:
		return ""
	case f.LastActivity.IsZero():
		return "never"
	}
	return f.LastActivity.Format(time.RFC3339)
}

// WriteRecords writes every finding of the reports, matches included, as
// CSV (safe to open in a spreadsheet, and on a terminal) or, when asJSON,
// one JSON object per line with the same keys.
func WriteRecords(out io.Writer, reports []*Report, asJSON bool) error {
	buf := bufio.NewWriter(out)
	enc := json.NewEncoder(buf)
	cw := csv.NewWriter(buf)
	escape := cell.ForCSV(out)
	if !asJSON {
		cw.Write(Columns)
	}
	for _, r := range reports {
		err := r.Findings(func(f Finding) error {
			line, idleDays := "", ""
			if f.ConsoleLine > 0 {
				line = strconv.Itoa(f.ConsoleLine)
			}
			if f.IdleJudged {
				idleDays = strconv.Itoa(f.IdleDays)
			}
			rec := []string{r.Workspace.GID, string(f.Kind), f.Email, f.Name, f.APIState, f.ConsoleType, line, f.MembershipGID, f.Note,
				activityText(f), idleDays}
			if asJSON {
				obj := make(map[string]any, len(Columns))
				for i, k := range Columns {
					obj[k] = rec[i]
				}
				obj["console_line"], obj["idle_days"] = f.ConsoleLine, nil
				if f.IdleJudged {
					obj["idle_days"] = f.IdleDays
				}
				return enc.Encode(obj)
			}
			for i := range rec {
				rec[i] = escape(rec[i])
			}
			return cw.Write(rec)
		})
		if err != nil {
			return err
		}
	}
	if cw.Flush(); cw.Error() != nil {
		return cw.Error()
	}
	return buf.Flush()
}

// WriteTable writes, for a person, each report's summary and its
// differences, with what explains them.
func WriteTable(out io.Writer, reports []*Report, console *Console, file string) error {
	w := bufio.NewWriter(out)
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeSummary(w, r, console, file)
		for _, s := range []struct {
			title string
			kind  Kind
		}{
			{"DISAGREE: in both, in different states", Disagree},
			{"ONLY IN THE API: active memberships the console does not list", OnlyAPI},
			{"ONLY IN THE CONSOLE", OnlyConsole},
		} {
			if err := section(w, s.title, r, s.kind); err != nil {
				return err
			}
		}
		if r.Differences() == 0 {
			fmt.Fprintln(w, "\nThe API and the console agree.")
		}
	}
	return w.Flush()
}

func writeSummary(w io.Writer, r *Report, console *Console, file string) {
	typeCol := "no type column"
	if console.TypeColumn != "" {
		typeCol = fmt.Sprintf("type column %q", console.TypeColumn)
	}
	fmt.Fprintf(w, "Workspace %s (%s) against %s (email column %q, %s)\n\n",
		r.Workspace.GID, cell.Terminal(r.Workspace.Name), cell.Terminal(file), cell.Terminal(console.EmailColumn), cell.Terminal(typeCol))
	fmt.Fprintf(w, "  %-14s %8s %8s\n", "", "API", "console")
	for _, st := range asana.States {
		console := strconv.Itoa(r.ConsoleByKind[st.String()])
		if st == asana.Inactive && console == "0" {
			console = "-"
		}
		fmt.Fprintf(w, "  %-14s %8d %8s\n", st, r.APIByState[st], console)
	}
	if n := r.ConsoleByKind["unknown"]; n > 0 {
		fmt.Fprintf(w, "  %-14s %8s %8d\n", "type unknown", "-", n)
	}
	fmt.Fprintf(w, "  %-14s %8d %8d\n\n", "total", r.APIMemberships, r.ConsoleMembers)
	fmt.Fprintf(w, "  API memberships: %d = %d of people in the console + %d only in the API + %d inactive and not in the console (as expected)\n",
		r.APIMemberships, r.MatchedMemberships, r.OnlyAPI, r.InactiveAbsent)
	fmt.Fprintf(w, "  console members: %d = %d in the API + %d only in the console\n", r.ConsoleMembers, r.Matched, r.OnlyConsole)
	fmt.Fprintf(w, "  in both: %d agree, %d disagree; %d re-added (an old inactive membership beside the active one, not a difference)\n",
		r.Agree, r.Disagree, r.Readded)
	writeIdle(w, r, console)
}

// writeIdle writes the idle seats by the console's last activity, or why
// there are none.
func writeIdle(w io.Writer, r *Report, console *Console) {
	if r.Idle == nil {
		fmt.Fprintln(w, "\n  No last-activity column in the export, so no idle seats; if it has one, name it with --reconcile.activity-column.")
		return
	}
	fmt.Fprintf(w, "\n  Idle seats of people in both, by the console's %q column at %s (the rule of asana_workspace_seats_idle):\n",
		cell.Terminal(console.ActivityColumn), r.Now.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "  %-14s %8s %9s", "idle for", "licensed", "view_only")
	if r.SeatPrice != nil {
		fmt.Fprintf(w, "  %s", "cost a month")
	}
	fmt.Fprintln(w)
	for _, s := range r.Idle {
		fmt.Fprintf(w, "  %-14s %8d %9d", fmt.Sprintf("%d days", s.Days), s.Licensed, s.ViewOnly)
		if cost, priced := r.MonthlyCost(s); priced {
			fmt.Fprintf(w, "  %12.2f", cost)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  judged: %d active licensed and view-only memberships of people in the export", r.Judged)
	if r.ActivityUnknown > 0 {
		fmt.Fprintf(w, "; %d more whose last activity was not understood are never counted idle", r.ActivityUnknown)
	}
	fmt.Fprintln(w, ".")
	if r.SeatPrice != nil {
		fmt.Fprintf(w, "  The cost is the idle licensed seats at the workspace's seat_price, %.2f a month; view-only seats are not priced.\n", *r.SeatPrice)
	} else {
		fmt.Fprintln(w, "  Set the workspace's seat_price in the config file to price them.")
	}
	fmt.Fprintln(w, "  The export says nothing of paused licences: a paused seat (not billed) whose member has not been active counts here as idle.")
}

// section lists the findings of one kind, reading them twice: once for
// the columns' widths, then to write them.
func section(w io.Writer, title string, r *Report, kind Kind) error {
	headers := [...]string{"EMAIL", "NAME", "API", "CONSOLE", "LINE", "NOTE"}
	cells := func(f Finding) [len(headers)]string {
		line := ""
		if f.ConsoleLine > 0 {
			line = strconv.Itoa(f.ConsoleLine)
		}
		return [...]string{f.Email, f.Name, f.APIState, f.ConsoleType, line, f.Note}
	}
	var widths [len(headers)]int
	for i, h := range headers {
		widths[i] = len(h)
	}
	rows := 0
	err := r.Each(kind, func(f Finding) error {
		rows++
		c := cells(f)
		for j := range len(headers) - 1 {
			widths[j] = max(widths[j], cell.Width(c[j]))
		}
		return nil
	})
	if err != nil || rows == 0 {
		return err
	}
	fmt.Fprintf(w, "\n%s (%d)\n", title, rows)
	row := func(c [len(headers)]string) error {
		for j, s := range c[:len(c)-1] {
			io.WriteString(w, "  "+cell.Pad(s, widths[j]))
		}
		_, err := io.WriteString(w, "  "+cell.Terminal(c[len(c)-1])+"\n")
		return err
	}
	row(headers)
	return r.Each(kind, func(f Finding) error { return row(cells(f)) })
}
