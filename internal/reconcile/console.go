// Package reconcile compares the seat roster from Asana's API with the
// members list exported from Asana's Admin Console, person by person, and
// explains each difference it can.
package reconcile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Member is one person of the Admin Console's export.
type Member struct {
	Line  int    // in the file, 1-based, the header being line 1
	Email string // as written
	Type  string // the licence or type cell as written; "" without a type column
	// Kind is what Type means in the API's terms; Known is false when the
	// type says nothing we can compare (or there is no type column).
	Kind  asana.State
	Known bool
	// Pending is true when the type says the person is invited, not yet a
	// member.
	Pending bool
}

// Console is the export, read.
type Console struct {
	EmailColumn, TypeColumn string // the headers used; TypeColumn "" if none
	Delimiter               rune
	// Members by normalised email (see NormaliseEmail), each once.
	Members map[string]*Member
	// Order is the normalised emails in file order.
	Order []string
	// Warnings are what was skipped and why, by line (never the cell's
	// content: a warning may end up in a terminal log).
	Warnings []string
}

// ReadOptions override the guessed columns.
type ReadOptions struct {
	EmailColumn string // header of the email column
	TypeColumn  string // header of the licence or type column
}

// Limits on outside input: an email is at most 254 bytes (RFC 5321); a
// type cell is a word or two.
const (
	maxEmailBytes = 320
	maxTypeBytes  = 200
	maxWarnings   = 20
	// sniffBytes is how much of the file is checked for UTF-8 and the
	// delimiter before reading it; later rows are checked cell by cell.
	sniffBytes = 64 << 10
)

// ReadConsole reads an Admin Console members export: UTF-8 with or without
// a byte-order mark, comma, semicolon or tab separated, a header row naming
// an email column and maybe a licence or type column. Its errors say what
// to fix.
func ReadConsole(r io.Reader, opts ReadOptions) (*Console, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(sniffBytes)
	switch {
	case len(head) == 0:
		return nil, errors.New("the file is empty; export the members list from the Admin Console as CSV")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, errors.New("the file is a spreadsheet workbook (xlsx), not CSV; save or export it as CSV UTF-8")
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		head = head[3:]
	}
	checked := head
	if len(head) == sniffBytes { // the last rune may be cut in two
		checked = head[:len(head)-utf8.UTFMax]
	}
	if !utf8.Valid(checked) || bytes.IndexByte(head, 0) >= 0 {
		return nil, errors.New("the file is not UTF-8 text; save or export it as CSV UTF-8")
	}
	c := &Console{Delimiter: sniffDelimiter(firstLine(head)), Members: map[string]*Member{}}
	cr := csv.NewReader(br)
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = c.Delimiter, -1, true, true

	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header row: %w", err)
	}
	header = append([]string(nil), header...)
	emailCol, typeCol, err := c.columns(header, opts)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the file is not valid CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		c.add(line, rec, emailCol, typeCol)
	}
	if len(c.Members) == 0 {
		return nil, fmt.Errorf("the file has no member with an email in column %q", c.EmailColumn)
	}
	return c, nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return b[:i]
	}
	return b
}

// sniffDelimiter picks the separator the header row uses most, outside
// quotes: a spreadsheet in many locales writes semicolons.
func sniffDelimiter(header []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, r := range string(header) {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// Headers the email and type columns go by, normalised (lower case,
// letters only), most likely first.
var (
	emailHeaders = []string{"email", "emailaddress", "useremail", "workemail", "primaryemail", "mail"}
	typeHeaders  = []string{"license", "licence", "licensetype", "licencetype", "membertype", "usertype", "seattype",
		"membershiptype", "type", "role", "accesslevel", "status"}
)

func normaliseHeader(h string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, h)
}

func (c *Console) columns(header []string, opts ReadOptions) (emailCol, typeCol int, err error) {
	find := func(flag, name string, known []string) (int, error) {
		if name != "" {
			for i, h := range header {
				if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(name)) {
					return i, nil
				}
			}
			return -1, fmt.Errorf("--%s=%q: no such column; the headers are %s", flag, name, quoteAll(header))
		}
		for _, k := range known {
			for i, h := range header {
				if normaliseHeader(h) == k {
					return i, nil
				}
			}
		}
		return -1, nil
	}
	if emailCol, err = find("reconcile.email-column", opts.EmailColumn, emailHeaders); err != nil {
		return 0, 0, err
	}
	if emailCol < 0 {
		return 0, 0, fmt.Errorf("no email column among the headers %s (separated by %q); name it with --reconcile.email-column",
			quoteAll(header), c.Delimiter)
	}
	if typeCol, err = find("reconcile.type-column", opts.TypeColumn, typeHeaders); err != nil {
		return 0, 0, err
	}
	c.EmailColumn = strings.TrimSpace(header[emailCol])
	if typeCol >= 0 {
		c.TypeColumn = strings.TrimSpace(header[typeCol])
	}
	return emailCol, typeCol, nil
}

func quoteAll(header []string) string {
	q := make([]string, len(header))
	for i, h := range header {
		if len(h) > 60 {
			h = h[:60] + "…"
		}
		q[i] = fmt.Sprintf("%q", h)
	}
	return strings.Join(q, ", ")
}

func (c *Console) warn(format string, args ...any) {
	switch {
	case len(c.Warnings) < maxWarnings:
		c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
	case len(c.Warnings) == maxWarnings:
		c.Warnings = append(c.Warnings, "further warnings left out")
	}
}

func (c *Console) add(line int, rec []string, emailCol, typeCol int) {
	if emailCol >= len(rec) || strings.TrimSpace(rec[emailCol]) == "" {
		if !blank(rec) {
			c.warn("line %d: no email; row skipped", line)
		}
		return
	}
	raw := strings.TrimSpace(rec[emailCol])
	email := NormaliseEmail(raw)
	if len(raw) > maxEmailBytes || !strings.Contains(email, "@") || !utf8.ValidString(raw) {
		c.warn("line %d: the email cell is not an email address; row skipped", line)
		return
	}
	if first, dup := c.Members[email]; dup {
		c.warn("line %d: the same email as line %d; the later row is ignored", line, first.Line)
		return
	}
	m := &Member{Line: line, Email: raw}
	if typeCol >= 0 && typeCol < len(rec) {
		m.Type = strings.TrimSpace(rec[typeCol])
		if len(m.Type) > maxTypeBytes || !utf8.ValidString(m.Type) {
			c.warn("line %d: the type cell is %d bytes long; type taken as unknown", line, len(m.Type))
			m.Type = ""
		}
		m.Kind, m.Known, m.Pending = classify(m.Type)
	}
	c.Members[email] = m
	c.Order = append(c.Order, email)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// NormaliseEmail is how emails are matched: trimmed, case-insensitive.
func NormaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// classify maps the console's licence or type wording to a state. The
// console's wording is not documented (GUESS from its help pages: "Member",
// "Guest", "View only" licences, "Admin"/"Super admin" roles, pending
// invites), so anything else is unknown rather than guessed.
func classify(typ string) (st asana.State, known, pending bool) {
	t := normaliseHeader(typ)
	switch {
	case t == "":
		return 0, false, false
	case strings.Contains(t, "guest"):
		return asana.Guest, true, false
	case strings.Contains(t, "view") || strings.Contains(t, "readonly"):
		return asana.ViewOnly, true, false
	case strings.Contains(t, "pending") || strings.Contains(t, "invite"):
		return asana.Licensed, true, true
	case strings.Contains(t, "deactivat") || strings.Contains(t, "deprovision") || strings.Contains(t, "removed") || t == "inactive":
		return asana.Inactive, true, false
	case strings.Contains(t, "member") || strings.Contains(t, "admin") || strings.Contains(t, "owner") ||
		strings.Contains(t, "licen") || strings.Contains(t, "full") || strings.Contains(t, "paid") ||
		strings.Contains(t, "enterprise") || t == "active":
		return asana.Licensed, true, false
	}
	return 0, false, false
}
