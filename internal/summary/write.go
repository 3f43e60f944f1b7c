package summary

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/internal/cell"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// HTML is the summary's own format: one self-contained page with charts.
const HTML roster.Format = "html"

// Formats lists the summary's formats, for the flag's help.
var Formats = []string{string(roster.Table), string(roster.CSV), string(roster.JSON), string(HTML)}

// unknownHTML is how the page shows an unknown number; the table, CSV and
// JSON show it as the roster does (roster.Unknown).
const unknownHTML = "—"

// WriteOptions say how the summary is written.
type WriteOptions struct {
	Format roster.Format
	// BOM starts a CSV with a UTF-8 byte-order mark.
	BOM bool
}

// Write writes the summary to out.
func (s *Summary) Write(out io.Writer, opts WriteOptions) error {
	buf := bufio.NewWriterSize(out, 64<<10)
	var err error
	switch opts.Format {
	case roster.CSV:
		err = s.writeCSV(buf, cell.ForCSV(out), opts.BOM)
	case roster.JSON:
		err = s.writeJSON(buf)
	case HTML:
		err = s.writeHTML(buf)
	default:
		err = s.writeTable(buf)
	}
	if err != nil {
		return err
	}
	return buf.Flush()
}

// stamp is when the summary was made, as every format shows it.
func (s *Summary) stamp() string { return s.Now.UTC().Format(time.RFC3339) }

func (s *Summary) writeCSV(out io.Writer, safe func(string) string, bom bool) error {
	if bom {
		io.WriteString(out, "\ufeff")
	}
	w := csv.NewWriter(out)
	fs := s.fields()
	row := make([]string, len(fs))
	for i, f := range fs {
		row[i] = f.key
	}
	w.Write(row)
	for i := range s.Workspaces {
		for j, f := range fs {
			v, _ := f.value(&s.Workspaces[i]) // unknown is ""
			row[j] = safe(v)
		}
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// jsonSummary is the JSON document: the numbers by workspace, each an
// object with the CSV's keys in order (null for unknown), and the idle
// seats' people.
type jsonSummary struct {
	GeneratedAt string            `json:"generated_at"`
	IdleDays    []int             `json:"idle_thresholds_days"`
	PricedDays  int               `json:"priced_idle_days"`
	Workspaces  []json.RawMessage `json:"workspaces"`
	IdleSeats   []jsonPerson      `json:"idle_seats"`
	IdleLeftOut int               `json:"idle_seats_left_out"`
	Notes       []string          `json:"notes"`
}

type jsonPerson struct {
	WorkspaceGID   string   `json:"workspace_gid"`
	WorkspaceName  string   `json:"workspace_name"`
	UserName       string   `json:"user_name"`
	UserEmail      string   `json:"user_email"`
	State          string   `json:"state"`
	IdleDays       int      `json:"idle_days"`
	ActivitySource string   `json:"activity_source"`
	MonthlyPrice   *float64 `json:"monthly_price"`
}

func (s *Summary) writeJSON(out io.Writer) error {
	doc := jsonSummary{GeneratedAt: s.stamp(), IdleDays: s.Thresholds, PricedDays: s.PricedDays,
		Workspaces: []json.RawMessage{}, IdleSeats: []jsonPerson{}, IdleLeftOut: s.PeopleLeftOut, Notes: s.Notes}
	if doc.IdleDays == nil {
		doc.IdleDays = []int{}
	}
	if doc.Notes == nil {
		doc.Notes = []string{}
	}
	fs := s.fields()
	for i := range s.Workspaces {
		doc.Workspaces = append(doc.Workspaces, jsonObject(fs, &s.Workspaces[i]))
	}
	for _, p := range s.People {
		var price *float64
		if p.MonthlyPrice != nil {
			price = ptr(roundCents(*p.MonthlyPrice))
		}
		doc.IdleSeats = append(doc.IdleSeats, jsonPerson{WorkspaceGID: p.WorkspaceGID, WorkspaceName: p.WorkspaceName,
			UserName: p.Name, UserEmail: p.Email, State: p.State.String(), IdleDays: p.IdleDays, ActivitySource: p.Source,
			MonthlyPrice: price})
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// jsonObject is n's fields as a JSON object, keys in order.
func jsonObject(fs []field, n *Numbers) json.RawMessage {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(f.key)
		b.Write(key)
		b.WriteByte(':')
		v, known := f.value(n)
		switch {
		case !known:
			b.WriteString("null")
		case f.number: // written by strconv or Cents: a JSON number
			b.WriteString(v)
		default:
			quoted, _ := json.Marshal(v)
			b.Write(quoted)
		}
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

func (s *Summary) writeTable(out io.Writer) error {
	fs := slices.DeleteFunc(s.fields(), func(f field) bool { return f.key == "workspace_name" })
	head := make([]string, 1, len(s.Workspaces)+1)
	for _, n := range s.Workspaces {
		head = append(head, n.Name)
	}
	rows := [][]string{head}
	for _, f := range fs {
		row := []string{f.label}
		for i := range s.Workspaces {
			v, known := f.value(&s.Workspaces[i])
			if !known {
				v = roster.Unknown[roster.Table]
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], cell.Width(c))
		}
	}
	fmt.Fprintf(out, "Seats on %s; idle seats are priced at %d days without activity; %s is unknown.\n\n",
		s.stamp(), s.PricedDays, roster.Unknown[roster.Table])
	for _, row := range rows {
		for i, c := range row {
			if i == len(row)-1 {
				io.WriteString(out, cell.Pad(c, 0))
				break
			}
			io.WriteString(out, cell.Pad(c, widths[i]+2))
		}
		io.WriteString(out, "\n")
	}
	if len(s.People) > 0 {
		fmt.Fprintf(out, "\n%d seat(s) idle %d days or more; --format=html or --format=json names them, seats --idle=%dd lists them.\n",
			len(s.People)+s.PeopleLeftOut, s.ListDays, s.ListDays)
	}
	return nil
}
