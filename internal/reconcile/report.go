package reconcile

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/cell"
)

// Columns of the csv and json output: one row per finding.
var Columns = []string{"workspace_gid", "finding", "email", "name", "api_state", "console_type", "console_line", "membership_gid", "note"}

// WriteRecords writes every finding of the reports, matches included, as
// CSV (safe to open in a spreadsheet) or, when asJSON, one JSON object per
// line with the same keys.
func WriteRecords(out io.Writer, reports []*Report, asJSON bool) error {
	buf := bufio.NewWriter(out)
	enc := json.NewEncoder(buf)
	cw := csv.NewWriter(buf)
	if !asJSON {
		cw.Write(Columns)
	}
	for _, r := range reports {
		for _, f := range r.Findings {
			line := ""
			if f.ConsoleLine > 0 {
				line = strconv.Itoa(f.ConsoleLine)
			}
			rec := []string{r.Workspace.GID, string(f.Kind), f.Email, f.Name, f.APIState, f.ConsoleType, line, f.MembershipGID, f.Note}
			if asJSON {
				obj := make(map[string]any, len(Columns))
				for i, k := range Columns {
					obj[k] = rec[i]
				}
				obj["console_line"] = f.ConsoleLine
				if err := enc.Encode(obj); err != nil {
					return err
				}
				continue
			}
			for i := range rec {
				rec[i] = cell.Spreadsheet(rec[i])
			}
			cw.Write(rec)
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
		section(w, "DISAGREE: in both, in different states", r, Disagree)
		section(w, "ONLY IN THE API: active memberships the console does not list", r, OnlyAPI)
		section(w, "ONLY IN THE CONSOLE", r, OnlyConsole)
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
}

func section(w io.Writer, title string, r *Report, kind Kind) {
	var rows []Finding
	for _, f := range r.Findings {
		if f.Kind == kind {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s (%d)\n", title, len(rows))
	headers := []string{"EMAIL", "NAME", "API", "CONSOLE", "LINE", "NOTE"}
	cells := make([][]string, len(rows))
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = len(h)
	}
	for i, f := range rows {
		line := ""
		if f.ConsoleLine > 0 {
			line = strconv.Itoa(f.ConsoleLine)
		}
		cells[i] = []string{f.Email, f.Name, f.APIState, f.ConsoleType, line, f.Note}
		for j, c := range cells[i][:len(headers)-1] {
			widths[j] = max(widths[j], cell.Width(c))
		}
	}
	for _, row := range append([][]string{headers}, cells...) {
		for j, c := range row[:len(row)-1] {
			io.WriteString(w, "  "+cell.Pad(c, widths[j]))
		}
		io.WriteString(w, "  "+cell.Terminal(row[len(row)-1])+"\n")
	}
}
