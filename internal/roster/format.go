package roster

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
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

// rowWriter writes a header and rows in one format.
type rowWriter interface {
	header() error
	row(*Cells) error
	flush() error
}

func newRowWriter(f Format, out io.Writer, widths [numColumns]int) rowWriter {
	buf := bufio.NewWriterSize(out, 64<<10)
	switch f {
	case JSON:
		return &jsonWriter{buf: buf, enc: json.NewEncoder(buf)}
	case Table:
		for i, c := range Columns {
			widths[i] = max(widths[i], len(c))
		}
		return &tableWriter{buf: buf, widths: widths}
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

// jsonRow is a row as JSON, keys in the roster's column order.
type jsonRow struct {
	WorkspaceGID  string `json:"workspace_gid"`
	WorkspaceName string `json:"workspace_name"`
	MembershipGID string `json:"membership_gid"`
	UserGID       string `json:"user_gid"`
	UserName      string `json:"user_name"`
	UserEmail     string `json:"user_email"`
	State         string `json:"state"`
	IsAdmin       bool   `json:"is_admin"`
	Domain        string `json:"domain"`
	CreatedAt     string `json:"created_at"`
	LastLoginAt   string `json:"last_login_at"`
	LicencePaused *bool  `json:"licence_paused"` // null without the audit log
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
		IsAdmin: c[colIsAdmin] == "true", Domain: c[colDomain], CreatedAt: c[colCreatedAt],
		LastLoginAt: c[colLastLoginAt], LicencePaused: optionalBool(c[colLicencePaused]),
	})
}

func optionalBool(s string) *bool {
	if s == "" {
		return nil
	}
	b := s == "true"
	return &b
}

func (w *jsonWriter) flush() error { return w.buf.Flush() }

type tableWriter struct {
	buf    *bufio.Writer
	widths [numColumns]int
}

func (w *tableWriter) header() error {
	var c Cells
	for i, name := range Columns {
		c[i] = strings.ToUpper(name)
	}
	return w.row(&c)
}

func (w *tableWriter) row(c *Cells) error {
	for i := range c {
		if i == numColumns-1 {
			w.buf.WriteString(cell.Pad(c[i], 0))
			break
		}
		w.buf.WriteString(cell.Pad(c[i], w.widths[i]+2))
	}
	return w.buf.WriteByte('\n')
}

func (w *tableWriter) flush() error { return w.buf.Flush() }
