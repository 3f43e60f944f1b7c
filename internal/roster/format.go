package roster

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/asana-exporter/asana_exporter/internal/cell"
)

// Format is how rows are written.
type Format string

const (
	CSV   Format = "csv"   // RFC 4180, safe to open in a spreadsheet (and on a terminal)
	JSON  Format = "json"  // one object per line, the columns as keys
	Table Format = "table" // aligned columns for a terminal
)

// Formats lists the formats, for the flag's help.
var Formats = []string{string(CSV), string(JSON), string(Table)}

// Unknown is how each format shows a cell nobody can tell (no audit log,
// no console export, no price configured): CSV leaves it empty, JSON has
// null, the table a dash.
var Unknown = map[Format]string{CSV: "", JSON: "null", Table: "-"}

// byteOrderMark starts a CSV file for spreadsheets that guess a file's
// encoding rather than assume UTF-8 (Excel on Windows, for one).
const byteOrderMark = "\ufeff"

// TableWidth is the terminal width the table fits unless asked to be wide:
// a common default of terminal emulators is 80, and 120 is what a
// maximised one on a laptop shows.
const TableWidth = 120

// tableDates are the columns the table shortens to the day, which is what
// a reader of a terminal table wants of a timestamp.
var tableDates = []int{colCreatedAt, colLastLoginAt}

// tableDropOrder is the order in which the table leaves columns out to fit
// its width: first what identifies a row only to a program, last who holds
// the seat and how idle it is.
var tableDropOrder = []int{
	colMembershipGID, colUserGID, colWorkspaceName, colCreatedAt, colDomain, colMonthlyPrice,
	colLicensePaused, colActivitySource, colLastLoginAt, colIsAdmin, colWorkspaceGID,
}

// WriteOptions say how rows are written.
type WriteOptions struct {
	Format Format
	// BOM starts a CSV with a UTF-8 byte-order mark.
	BOM bool
	// Width, when above 0, is the width a table fits by leaving columns
	// out; Width 0 keeps every column, each timestamp whole.
	Width int
	// Dropped, when set, is told which columns the table left out.
	Dropped func(columns []string)
}

// rowWriter writes a header and rows in one format.
type rowWriter interface {
	header() error
	row(*Cells) error
	flush() error
}

func newRowWriter(opts WriteOptions, out io.Writer, widths [numColumns]int) rowWriter {
	buf := bufio.NewWriterSize(out, 64<<10)
	switch opts.Format {
	case JSON:
		return &jsonWriter{buf: buf, enc: json.NewEncoder(buf)}
	case Table:
		return newTableWriter(buf, widths, opts)
	}
	if opts.BOM {
		buf.WriteString(byteOrderMark)
	}
	return &csvWriter{buf: buf, csv: csv.NewWriter(buf), cell: cell.ForCSV(out)}
}

type csvWriter struct {
	buf  *bufio.Writer
	csv  *csv.Writer
	cell func(string) string
}

func (w *csvWriter) header() error { return w.csv.Write(Columns[:]) }

func (w *csvWriter) row(c *Cells) error {
	var out Cells
	for i := range c {
		out[i] = w.cell(c[i])
	}
	return w.csv.Write(out[:])
}

func (w *csvWriter) flush() error {
	if w.csv.Flush(); w.csv.Error() != nil {
		return w.csv.Error()
	}
	return w.buf.Flush()
}

// jsonRow is a row as JSON, keys in the roster's column order; an unknown
// cell is null.
type jsonRow struct {
	WorkspaceGID   string       `json:"workspace_gid"`
	WorkspaceName  string       `json:"workspace_name"`
	MembershipGID  string       `json:"membership_gid"`
	UserGID        string       `json:"user_gid"`
	UserName       string       `json:"user_name"`
	UserEmail      string       `json:"user_email"`
	State          string       `json:"state"`
	IsAdmin        bool         `json:"is_admin"`
	Domain         string       `json:"domain"`
	CreatedAt      *string      `json:"created_at"`
	LastLoginAt    *string      `json:"last_login_at"`
	LicensePaused  *bool        `json:"licence_paused"`
	IdleDays       *json.Number `json:"idle_days"`
	ActivitySource *string      `json:"activity_source"`
	MonthlyPrice   *json.Number `json:"monthly_price"`
}

type jsonWriter struct {
	buf *bufio.Writer
	enc *json.Encoder
}

func (w *jsonWriter) header() error { return nil }

func (w *jsonWriter) row(c *Cells) error {
	return w.enc.Encode(jsonRow{
		WorkspaceGID: c[colWorkspaceGID], WorkspaceName: c[colWorkspaceName], MembershipGID: c[colMembershipGID],
		UserGID: c[colUserGID], UserName: c[colUserName], UserEmail: c[colUserEmail], State: c[colState],
		IsAdmin: c[colIsAdmin] == "true", Domain: c[colDomain], CreatedAt: optional(c[colCreatedAt]),
		LastLoginAt: optional(c[colLastLoginAt]), LicensePaused: optionalBool(c[colLicensePaused]),
		IdleDays: optionalNumber(c[colIdleDays]), ActivitySource: optional(c[colActivitySource]),
		MonthlyPrice: optionalNumber(c[colMonthlyPrice]),
	})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalBool(s string) *bool {
	if s == "" {
		return nil
	}
	b := s == "true"
	return &b
}

// optionalNumber is a cell the roster wrote from a number (strconv), so a
// valid JSON number.
func optionalNumber(s string) *json.Number {
	if s == "" {
		return nil
	}
	n := json.Number(s)
	return &n
}

func (w *jsonWriter) flush() error { return w.buf.Flush() }

type tableWriter struct {
	buf     *bufio.Writer
	widths  [numColumns]int
	shown   []int // the columns shown, in order
	shorten bool  // timestamps to the day
}

func newTableWriter(buf *bufio.Writer, widths [numColumns]int, opts WriteOptions) *tableWriter {
	w := &tableWriter{buf: buf, shorten: opts.Width > 0}
	for i, c := range Columns {
		w.widths[i] = max(widths[i], len(c), len(Unknown[Table]))
		if w.shorten && slices.Contains(tableDates, i) {
			w.widths[i] = max(min(w.widths[i], len("2006-01-02")), len(c))
		}
		w.shown = append(w.shown, i)
	}
	if opts.Width <= 0 {
		return w
	}
	var dropped []string
	for _, col := range tableDropOrder {
		if w.width() <= opts.Width {
			break
		}
		w.shown = slices.DeleteFunc(w.shown, func(i int) bool { return i == col })
		dropped = append(dropped, Columns[col])
	}
	if len(dropped) > 0 && opts.Dropped != nil {
		opts.Dropped(dropped)
	}
	return w
}

// width is how many terminal columns a line of the table takes at most.
func (w *tableWriter) width() int {
	n := 0
	for _, i := range w.shown {
		n += w.widths[i] + 2
	}
	return n - 2
}

func (w *tableWriter) header() error {
	var c Cells
	for i, name := range Columns {
		c[i] = strings.ToUpper(name)
	}
	return w.write(&c)
}

func (w *tableWriter) row(c *Cells) error {
	out := *c
	for i := range out {
		switch {
		case out[i] == "":
			out[i] = Unknown[Table]
		case w.shorten && slices.Contains(tableDates, i) && len(out[i]) > len("2006-01-02"):
			out[i] = out[i][:len("2006-01-02")]
		}
	}
	return w.write(&out)
}

func (w *tableWriter) write(c *Cells) error {
	for n, i := range w.shown {
		if n == len(w.shown)-1 {
			w.buf.WriteString(cell.Pad(c[i], 0))
			break
		}
		w.buf.WriteString(cell.Pad(c[i], w.widths[i]+2))
	}
	return w.buf.WriteByte('\n')
}

func (w *tableWriter) flush() error { return w.buf.Flush() }
