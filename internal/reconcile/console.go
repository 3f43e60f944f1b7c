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
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
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
	// LastActivity is the end of the last second (of the UTC day, for a
	// date without a time) in which the export says the person was active;
	// zero when it says never. ActivityKnown is false without a
	// last-activity column or when the cell was not understood.
	LastActivity  time.Time
	ActivityKnown bool
}

// Console is the export, read: its members in file order, each email once.
// It keeps of each only what a report shows, packed: about 30 bytes and
// the email, since an export may list 10^6 people.
type Console struct {
	// The headers used; TypeColumn and ActivityColumn "" if none.
	EmailColumn, TypeColumn, ActivityColumn string
	Headers                                 []string // the header row, as written
	Delimiter                               rune
	// Warnings are what was skipped and why, by line (never the cell's
	// content: a warning may end up in a terminal log).
	Warnings []string

	members []member
	// emails holds each member's normalised email, followed by the email
	// as written when that differs.
	emails []byte
	// index finds a member by normalised email: open addressing on its
	// hash, each slot a member's position + 1, 0 when free.
	index []uint32
	seed  maphash.Seed
	// types are the type cells met, each once; types[0] is "" (none).
	types   []consoleType
	typeIDs map[string]uint16
	// activity counts the last-activity cells, to judge the column.
	activity struct {
		dates, bad int // cells understood as a date, and not understood
		orders     orders
		parser     activityParser
	}
}

func newConsole(delimiter rune) *Console {
	return &Console{Delimiter: delimiter, index: make([]uint32, 1<<10), seed: maphash.MakeSeed(),
		types: []consoleType{{}}, typeIDs: map[string]uint16{"": 0}}
}

// member is one Member, packed in 20 bytes: offsets fit in 32 bits since
// the file is at most maxFileBytes.
type member struct {
	at              uint32 // of the normalised email in emails
	line            uint32
	activity        uint32 // see activityUnknown
	normLen, rawLen uint16 // rawLen 0: written as normalised
	typ             uint16 // in types
	// either: activity is the month-first reading of a numeric date that
	// could be day-first too, until the column's order is known.
	either bool
}

type consoleType struct {
	text           string
	kind           asana.State
	known, pending bool
}

// ReadOptions override the guessed columns.
type ReadOptions struct {
	EmailColumn    string // header of the email column
	TypeColumn     string // header of the licence or type column
	ActivityColumn string // header of the last-activity column
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
	// maxFileBytes bounds the file: an export of 10^6 members (name, email,
	// licence, date) is about 80 MB, and 1 GiB leaves room for wider rows.
	// The file is streamed, so its size costs time rather than memory; the
	// bound stops a wrong path (a log, a disk image) early.
	maxFileBytes = 1 << 30
	// maxRowBytes bounds a row, which the CSV reader holds whole: a row of
	// an export is a few hundred bytes, and 1 MiB leaves room for a long
	// list in one cell. A quote that never closes would otherwise make the
	// rest of the file one row.
	maxRowBytes = 1 << 20
	// maxMembers bounds the members held (about 30 bytes each and the
	// email, and 16 more for each workspace compared with): twice the 10^6
	// that make bench's reconcile-1M reads within 200 MB. More is not one
	// organisation's members export.
	maxMembers = 2_000_000
	// maxTypes bounds the different type cells kept: a licence or role
	// column has a handful (Member, Guest, View only, Admin...).
	maxTypes = 256
)

// Error is why an export cannot be read, at a line of the file (the header
// being line 1) or, when Line is 0, the file as a whole. It names no cell's
// content: rows hold names and emails, and an error may end up in a log.
type Error struct {
	Line int
	Msg  string // what is wrong and what to do
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// ReadFile reads the export at path (a regular file: a FIFO or a device is
// refused at once) with ReadConsole. Its errors begin with the path.
func ReadFile(path string, opts ReadOptions) (*Console, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s: %w", path, tooLarge())
	}
	c, err := ReadConsole(f, opts)
	var e *Error
	switch {
	case errors.As(err, &e) && e.Line > 0:
		return nil, fmt.Errorf("%s line %d: %s", path, e.Line, e.Msg)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ReadConsole reads an Admin Console members export: UTF-8 with or without
// a byte-order mark, comma, semicolon or tab separated, a header row naming
// an email column and maybe a licence or type column. Quotes must be as
// RFC 4180 has them: a stray one is an error at its line, since read
// leniently it would swallow the rows after it. Its errors say what to fix.
func ReadConsole(r io.Reader, opts ReadOptions) (*Console, error) {
	br := bufio.NewReaderSize(&rowLimiter{r: r, line: 1, rowStart: 1}, 64<<10)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	full := len(head) == sniffBytes
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		head = head[3:]
	}
	switch {
	case len(head) == 0:
		return nil, &Error{Msg: "the file is empty; export the members list from the Admin Console as CSV"}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, &Error{Msg: "the file is a spreadsheet workbook (xlsx), not CSV; save or export it as CSV UTF-8"}
	}
	checked := head
	if full { // the last rune may be cut in two
		checked = head[:len(head)-utf8.UTFMax]
	}
	if !utf8.Valid(checked) || bytes.IndexByte(head, 0) >= 0 {
		return nil, &Error{Msg: "the file is not UTF-8 text; save or export it as CSV UTF-8"}
	}
	c := newConsole(sniffDelimiter(firstLine(head)))
	cr := csv.NewReader(br)
	cr.Comma, cr.FieldsPerRecord, cr.ReuseRecord = c.Delimiter, -1, true

	header, err := cr.Read()
	if err != nil {
		return nil, readError(err)
	}
	c.Headers = slices.Clone(header)
	cols, err := c.columns(opts)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, readError(err)
		}
		line, _ := cr.FieldPos(0)
		if err := c.add(line, rec, cols); err != nil {
			return nil, err
		}
	}
	if len(c.members) == 0 {
		return nil, &Error{Msg: fmt.Sprintf("the file has no member with an email in column %q", c.EmailColumn)}
	}
	if err := c.judgeActivity(); err != nil {
		return nil, err
	}
	return c, nil
}

// readError says what is wrong with the file where the CSV reader stopped,
// by line and byte, never quoting the row.
func readError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	const fix = "re-export the file from the Admin Console"
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return &Error{Line: pe.Line, Msg: fmt.Sprintf("a quote inside an unquoted field (byte %d of the line); "+
			"%s, or quote the field and double each quote inside it", pe.Column, fix)}
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		return &Error{Line: pe.StartLine, Msg: fmt.Sprintf("a quoted field in this row runs on to line %d: "+
			"a quote is stray or missing; %s, or fix the row's quotes", pe.Line, fix)}
	case errors.Is(pe.Err, csv.ErrQuote):
		return &Error{Line: pe.Line, Msg: fmt.Sprintf("a quoted field's quotes do not pair up (byte %d of the line): "+
			"a quote is stray or missing; %s, or double each quote inside the field", pe.Column, fix)}
	}
	return &Error{Line: pe.Line, Msg: fmt.Sprintf("%v; %s", pe.Err, fix)}
}

// rowLimiter passes the file through until it is longer than maxFileBytes
// or one of its rows longer than maxRowBytes. A line break ends a row
// unless a quoted field is open, as in CSV: an odd number of quotes so far
// in the row (a quote inside a quoted field is doubled).
type rowLimiter struct {
	r              io.Reader
	read           int64
	line, rowStart int // 1-based
	rowBytes       int
	quoted         bool
}

func (l *rowLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.read += int64(n); l.read > maxFileBytes {
		return 0, tooLarge()
	}
	for _, b := range p[:n] {
		switch b {
		case '"':
			l.quoted = !l.quoted
		case '\n':
			l.line++
			if !l.quoted {
				l.rowStart, l.rowBytes = l.line, -1
			}
		}
		if l.rowBytes++; l.rowBytes > maxRowBytes {
			return 0, l.tooLong()
		}
	}
	return n, err
}

func (l *rowLimiter) tooLong() *Error {
	if l.quoted {
		return &Error{Line: l.rowStart, Msg: fmt.Sprintf("a quoted field in this row has not ended %d bytes later: "+
			"a quote is stray or missing; re-export the file from the Admin Console, or fix the row's quotes", maxRowBytes)}
	}
	return &Error{Line: l.rowStart, Msg: fmt.Sprintf("the row is longer than %d bytes, more than a members export has; "+
		"check that the file is the Admin Console's members export", maxRowBytes)}
}

func tooLarge() *Error {
	return &Error{Msg: fmt.Sprintf("the file is larger than %d bytes, more than a members export of 10^6 people; "+
		"check that the file is the Admin Console's members export", maxFileBytes)}
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

func normalizeHeader(h string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, h)
}

// columnIndexes are where the columns used are in a row; -1 for none.
type columnIndexes struct{ email, typ, activity int }

func (c *Console) columns(opts ReadOptions) (cols columnIndexes, err error) {
	header := c.Headers
	// A file without its header row starts with a member, whose cells must
	// not reach an error message.
	if slices.ContainsFunc(header, func(h string) bool { return strings.Contains(h, "@") }) {
		return cols, &Error{Line: 1, Msg: "the first row holds an email address, not column names: " +
			"the header row (Name, Email, ...) is missing; re-export the file from the Admin Console"}
	}
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
				if normalizeHeader(h) == k {
					return i, nil
				}
			}
		}
		return -1, nil
	}
	if cols.email, err = find("reconcile.email-column", opts.EmailColumn, emailHeaders); err != nil {
		return cols, err
	}
	if cols.email < 0 {
		return cols, fmt.Errorf("no email column among the headers %s (separated by %q); name it with --reconcile.email-column",
			quoteAll(header), c.Delimiter)
	}
	if cols.typ, err = find("reconcile.type-column", opts.TypeColumn, typeHeaders); err != nil {
		return cols, err
	}
	if cols.activity, err = find("reconcile.activity-column", opts.ActivityColumn, activityHeaders); err != nil {
		return cols, err
	}
	c.EmailColumn = strings.TrimSpace(header[cols.email])
	if cols.typ >= 0 {
		c.TypeColumn = strings.TrimSpace(header[cols.typ])
	}
	if cols.activity >= 0 {
		c.ActivityColumn = strings.TrimSpace(header[cols.activity])
	}
	return cols, nil
}

// RequireActivity says what to do when the export has no last-activity
// column.
func (c *Console) RequireActivity() error {
	if c.ActivityColumn != "" {
		return nil
	}
	return fmt.Errorf("the export has no last-activity column among the headers %s; name it with --reconcile.activity-column",
		quoteAll(c.Headers))
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

func (c *Console) add(line int, rec []string, cols columnIndexes) error {
	if cols.email >= len(rec) || strings.TrimSpace(rec[cols.email]) == "" {
		if !blank(rec) {
			c.warn("line %d: no email; row skipped", line)
		}
		return nil
	}
	raw := strings.TrimSpace(rec[cols.email])
	email := normalizeEmail(raw)
	if len(raw) > maxEmailBytes || !strings.Contains(email, "@") || !utf8.ValidString(raw) {
		c.warn("line %d: the email cell is not an email address; row skipped", line)
		return nil
	}
	first, slot := c.lookup(email)
	if first >= 0 {
		c.warn("line %d: the same email as line %d; the later row is ignored", line, c.members[first].line)
		return nil
	}
	if len(c.members) == maxMembers {
		return &Error{Line: line, Msg: fmt.Sprintf("more than %d members, more than one organisation's members export has; "+
			"check that the file is the Admin Console's members export", maxMembers)}
	}
	m := member{at: uint32(len(c.emails)), line: uint32(line), normLen: uint16(len(email))}
	c.emails = append(c.emails, email...)
	if raw != email {
		m.rawLen = uint16(len(raw))
		c.emails = append(c.emails, raw...)
	}
	if cols.typ >= 0 && cols.typ < len(rec) {
		typ := strings.TrimSpace(rec[cols.typ])
		if len(typ) > maxTypeBytes || !utf8.ValidString(typ) {
			c.warn("line %d: the type cell is %d bytes long; type taken as unknown", line, len(typ))
			typ = ""
		}
		var err error
		if m.typ, err = c.typeID(line, typ); err != nil {
			return err
		}
	}
	if cols.activity >= 0 {
		c.readActivity(line, rec, cols.activity, &m)
	}
	c.members = append(c.members, m)
	c.index[slot] = uint32(len(c.members))
	if 2*len(c.members) > len(c.index) {
		c.grow()
	}
	return nil
}

// typeID interns a type cell: an export repeats a handful of them.
func (c *Console) typeID(line int, typ string) (uint16, error) {
	if id, ok := c.typeIDs[typ]; ok {
		return id, nil
	}
	if len(c.types) == maxTypes {
		return 0, &Error{Line: line, Msg: fmt.Sprintf("the type column %q has more than %d different values, so it is not a licence or type column; "+
			"name the right one with --reconcile.type-column", c.TypeColumn, maxTypes)}
	}
	t := consoleType{text: strings.Clone(typ)} // not the row's memory
	t.kind, t.known, t.pending = classify(typ)
	c.typeIDs[t.text] = uint16(len(c.types))
	c.types = append(c.types, t)
	return uint16(len(c.types) - 1), nil
}

// lookup finds a normalised email: the member's position, or -1 and the
// free slot of the index where it would go.
func (c *Console) lookup(email string) (i, slot int) {
	mask := len(c.index) - 1
	for slot = int(maphash.String(c.seed, email)) & mask; ; slot = (slot + 1) & mask {
		j := c.index[slot]
		if j == 0 {
			return -1, slot
		}
		if m := &c.members[j-1]; string(c.emails[m.at:m.at+uint32(m.normLen)]) == email {
			return int(j - 1), slot
		}
	}
}

// grow doubles the index, which is kept at most half full.
func (c *Console) grow() {
	c.index = make([]uint32, 2*len(c.index))
	mask := len(c.index) - 1
	for i, m := range c.members {
		slot := int(maphash.Bytes(c.seed, c.emails[m.at:m.at+uint32(m.normLen)])) & mask
		for c.index[slot] != 0 {
			slot = (slot + 1) & mask
		}
		c.index[slot] = uint32(i + 1)
	}
}

// Len is how many members the export lists.
func (c *Console) Len() int { return len(c.members) }

// Find is the position of the member with this email (in any case), or -1.
func (c *Console) Find(email string) int {
	i, _ := c.lookup(normalizeEmail(email))
	return i
}

func (c *Console) typeOf(i int) *consoleType { return &c.types[c.members[i].typ] }

// Member is the member at position i, in file order.
func (c *Console) Member(i int) Member {
	m, t := &c.members[i], c.typeOf(i)
	email := c.emails[m.at : m.at+uint32(m.normLen)]
	if m.rawLen > 0 {
		end := m.at + uint32(m.normLen)
		email = c.emails[end : end+uint32(m.rawLen)]
	}
	at, known := c.LastActivity(i)
	return Member{Line: int(m.line), Email: string(email), Type: t.text, Kind: t.kind, Known: t.known, Pending: t.pending,
		LastActivity: at, ActivityKnown: known}
}

// LastActivity is when the member at position i was last active, by the
// export: the end of the last second (of the UTC day, for a date without a
// time) in which they were. known is false without a last-activity column
// or when the cell was not understood; known with a zero time means never
// active.
func (c *Console) LastActivity(i int) (at time.Time, known bool) {
	switch a := c.members[i].activity; a {
	case activityUnknown:
		return time.Time{}, false
	case activityNever:
		return time.Time{}, true
	default:
		return time.Unix(int64(a), int64(time.Second-1)).UTC(), true
	}
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// normalizeEmail is how emails are matched: trimmed, case-insensitive.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// classify maps the console's licence or type wording to a state. The
// console's wording is not documented (GUESS from its help pages: "Member",
// "Guest", "View only" licences, "Admin"/"Super admin" roles, pending
// invites), so anything else is unknown rather than guessed.
func classify(typ string) (st asana.State, known, pending bool) {
	t := normalizeHeader(typ)
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
