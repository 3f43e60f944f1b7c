package reclaim

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/cell"
	"github.com/asana-exporter/asana_exporter/internal/excerpt"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
	"github.com/asana-exporter/asana_exporter/internal/privatefile"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// Reason is why a seat is in the plan: the reason column.
type Reason string

const (
	ReasonIdle    Reason = "idle"                 // idle for at least --idle
	ReasonOutside Reason = "outside_domains"      // licensed, email outside the organisation's domains
	ReasonBoth    Reason = "idle+outside_domains" // both
)

// Idle reports whether the reason includes idleness.
func (r Reason) Idle() bool { return r == ReasonIdle || r == ReasonBoth }

// Outside reports whether the reason includes an email outside the domains.
func (r Reason) Outside() bool { return r == ReasonOutside || r == ReasonBoth }

// Action is what is done to a seat: a plan row's action column, and a
// journal entry's action.
type Action string

const (
	ActionRemove Action = "remove" // POST /workspaces/{gid}/removeUser
	// ActionReview: only the Admin Console can act (pausing a licence, for
	// one); apply never acts on such a row.
	ActionReview Action = "review"
	ActionAdd    Action = "add" // undo: POST /workspaces/{gid}/addUser (journal only)
)

// Row is one seat of a plan.
type Row struct {
	// PlannedAt is when the plan was made, the same on every row.
	PlannedAt                   time.Time
	WorkspaceGID, WorkspaceName string
	MembershipGID, UserGID      string
	UserName, UserEmail         string
	State                       asana.State // Licensed or ViewOnly
	Reason                      Reason
	// IdleThresholdDays is the --idle threshold in days; 0 when the reason
	// is outside_domains only.
	IdleThresholdDays int
	// IdleDays is how many whole days the seat has been idle by the idle
	// rule, -1 when unknown.
	IdleDays int
	// LastActivity is the last activity known; zero when none is.
	LastActivity time.Time
	// ActivitySource is roster.SourceAuditLog, roster.SourceConsoleExport
	// or "".
	ActivitySource string
	// Domain is the email domain's verdict as the roster writes it
	// (asana.Domain's String).
	Domain string
	Action Action
	// MonthlyPrice is the seat's price from the config; nil when unknown.
	MonthlyPrice *float64
}

// PlanColumns is the plan's header, in order. New columns go only at the
// end.
var PlanColumns = [numPlanColumns]string{
	"planned_at", "workspace_gid", "workspace_name", "membership_gid", "user_gid", "user_name", "user_email",
	"state", "reason", "idle_threshold_days", "idle_days", "last_activity_at", "activity_source", "domain",
	"action", "monthly_price",
}

const (
	colPlannedAt = iota
	colWorkspaceGID
	colWorkspaceName
	colMembershipGID
	colUserGID
	colUserName
	colUserEmail
	colState
	colReason
	colIdleThresholdDays
	colIdleDays
	colLastActivityAt
	colActivitySource
	colDomain
	colAction
	colMonthlyPrice
	numPlanColumns
)

// planCells is a row as text, unescaped.
type planCells = [numPlanColumns]string

// Limits on a plan and its cells, and on the values the other files share.
const (
	// maxPlanRows bounds a plan, which is read whole into memory (a row
	// takes about 500 bytes: 50 MB at the limit). Apply acts on --max rows
	// a run (10 by default), so a longer plan is not one a person reviews
	// row by row; plan per workspace, or with a longer --idle.
	maxPlanRows = 100_000
	// maxPlanBytes bounds the file: a row is 200 to 400 bytes, so the
	// limit's rows take at most 40 MB. A larger file is the wrong one.
	maxPlanBytes = 64 << 20
	// maxTextBytes bounds a name, an answer or a reason: longer than any
	// person's or workspace's name. Names longer are cut when written.
	maxTextBytes = 1024
	// maxEmailBytes bounds an email: RFC 5321 allows 254 bytes in a path;
	// 320 is its 64-byte local part and 255-byte domain with the @.
	maxEmailBytes = 320
	// maxGIDDigits bounds a gid: Asana's are 16 digits today, and a gid is
	// text in its API, which leaves room for longer ones.
	maxGIDDigits = 24
	// maxIdleDays bounds a count of days: a hundred years, long before
	// Asana existed, so a larger number was not written by a plan.
	maxIdleDays = 36_500
	// maxMonthlyPrice is the bound the config puts on seat_price.
	maxMonthlyPrice = 1e9
	// maxHeaderBytes is how much of the file is looked at to find the
	// header: the header is under 300 bytes.
	maxHeaderBytes = 4096
)

// byteOrderMark starts a CSV file for spreadsheets that guess a file's
// encoding rather than assume UTF-8, as the roster's does.
const byteOrderMark = "\ufeff"

// Error is a file of reclaim's (plan, exclude list, journal) that cannot be
// read: at a line of it (1-based), or with Line 0 the file as a whole. Its
// message says what to fix and never quotes the file's content.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// fixRow is what a person can do about a plan row this tool refuses.
const fixRow = "restore the row as the plan wrote it, delete it, or plan again"

// WritePlan writes rows to path as a plan: CSV, each cell safe to open in
// a spreadsheet (cell.ForCSV), a byte-order mark first if bom, mode 0600,
// whole or not at all. Rows that would not read back are refused; names
// longer than the limit are cut.
func WritePlan(path string, rows []Row, bom bool) error {
	if len(rows) > maxPlanRows {
		return &Error{Path: path, Msg: fmt.Sprintf("%d seats, more than the %d a plan holds: "+
			"plan per workspace, or with a longer --idle", len(rows), maxPlanRows)}
	}
	err := privatefile.Write(path, func(w io.Writer) error { return writePlan(w, rows, bom) })
	if err != nil {
		return fmt.Errorf("cannot write the plan %s: %w", path, err)
	}
	return nil
}

func writePlan(w io.Writer, rows []Row, bom bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if bom {
		bw.WriteString(byteOrderMark)
	}
	cw := csv.NewWriter(bw)
	escape := cell.ForCSV(w)
	cw.Write(PlanColumns[:])
	var check planCheck
	for i := range rows {
		c := rows[i].cells()
		row, err := parseRow(&c)
		if err == nil {
			err = check.add(i+2, &row)
		}
		if err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
		for j := range c {
			c[j] = escape(c[j])
		}
		cw.Write(c[:])
	}
	if cw.Flush(); cw.Error() != nil {
		return cw.Error()
	}
	return bw.Flush()
}

// cells is the row as text: what the plan's CSV holds before escaping, and
// what a journal entry's plan_row holds.
func (r *Row) cells() planCells {
	var c planCells
	c[colPlannedAt] = timeCell(r.PlannedAt)
	c[colWorkspaceGID], c[colWorkspaceName] = r.WorkspaceGID, fitText(r.WorkspaceName)
	c[colMembershipGID], c[colUserGID] = r.MembershipGID, r.UserGID
	c[colUserName], c[colUserEmail] = fitText(r.UserName), r.UserEmail
	c[colState], c[colReason] = r.State.String(), string(r.Reason)
	if r.IdleThresholdDays != 0 {
		c[colIdleThresholdDays] = strconv.Itoa(r.IdleThresholdDays)
	}
	if r.IdleDays != -1 {
		c[colIdleDays] = strconv.Itoa(r.IdleDays)
	}
	c[colLastActivityAt], c[colActivitySource] = timeCell(r.LastActivity), r.ActivitySource
	c[colDomain], c[colAction] = r.Domain, string(r.Action)
	if r.MonthlyPrice != nil {
		c[colMonthlyPrice] = strconv.FormatFloat(*r.MonthlyPrice, 'f', -1, 64)
	}
	return c
}

// timeCell is t in RFC 3339, to the nanosecond so that it reads back
// exactly; "" for the zero time.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// fitText makes free text (a name, Asana's answer) fit a file: valid UTF-8,
// at most maxTextBytes.
func fitText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxTextBytes {
		return s
	}
	return excerpt.Cut(s, maxTextBytes-len("…"))
}

// ReadPlan reads and validates the plan at path: a regular file of at most
// maxPlanBytes, with or without a byte-order mark, lines ending in LF or
// CRLF, separated by commas (or the semicolons or tabs a spreadsheet may
// save). Rows a person deleted are simply absent; a row that breaks a rule
// is refused with its line and what to fix.
func ReadPlan(path string) ([]Row, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkSize(f, path, maxPlanBytes); err != nil {
		return nil, err
	}
	return readPlan(inputfile.LimitReader(f, path, maxPlanBytes), path)
}

// checkSize refuses a file larger than limit before reading it; one that
// grows while it is read meets inputfile.LimitReader.
func checkSize(f *os.File, path string, limit int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() > limit {
		return &inputfile.TooLargeError{Path: path, Limit: limit}
	}
	return nil
}

func readPlan(r io.Reader, path string) ([]Row, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(byteOrderMark)); string(head) == byteOrderMark {
		br.Discard(len(byteOrderMark))
	}
	head, err := br.Peek(maxHeaderBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(head) == 0 {
		return nil, &Error{Path: path, Msg: "the file is empty; a plan starts with its header line: plan again"}
	}
	cr := csv.NewReader(br)
	cr.Comma, err = planDelimiter(head)
	if err != nil {
		return nil, &Error{Path: path, Line: 1, Msg: err.Error()}
	}
	cr.FieldsPerRecord, cr.ReuseRecord = numPlanColumns, true
	if _, err := cr.Read(); err != nil {
		return nil, csvError(path, err)
	}
	var rows []Row
	var check planCheck
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rows) == maxPlanRows {
			return nil, &Error{Path: path, Line: line, Msg: fmt.Sprintf("more than %d rows, more than a plan holds: "+
				"plan per workspace, or with a longer --idle", maxPlanRows)}
		}
		var c planCells
		for i, s := range rec {
			c[i] = unescape(s)
		}
		row, err := parseRow(&c)
		if err == nil {
			err = check.add(line, &row)
		}
		if err != nil {
			return nil, &Error{Path: path, Line: line, Msg: err.Error() + "; " + fixRow}
		}
		rows = append(rows, row)
	}
}

// planDelimiter finds which separator the header line uses: a comma as
// written, or what a spreadsheet saved the plan with.
func planDelimiter(head []byte) (rune, error) {
	first, _, _ := strings.Cut(string(head), "\n")
	first = strings.TrimSuffix(first, "\r")
	for _, d := range []rune{',', ';', '\t'} {
		cr := csv.NewReader(strings.NewReader(first))
		cr.Comma = d
		if names, err := cr.Read(); err == nil && slices.Equal(names, PlanColumns[:]) {
			return d, nil
		}
	}
	if strings.HasPrefix(first, strings.Join(PlanColumns[:], ",")+",") {
		return 0, errors.New("the header has columns after monthly_price that this version does not know: " +
			"plan again with this version, or apply with the version that planned")
	}
	return 0, fmt.Errorf("not a reclaim plan's header: it must be %s, in this order; "+
		"restore the header line, or plan again", strings.Join(PlanColumns[:], ","))
}

// csvError says where the CSV reader stopped and why, never quoting a row.
func csvError(path string, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err // a read error or inputfile's TooLargeError, which name the file
	}
	msg := fmt.Sprintf("%v: a quote is stray or missing; a quote inside a cell must be doubled and the cell quoted; %s", pe.Err, fixRow)
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		msg = fmt.Sprintf("the row does not have the header's %d cells: a separator inside a name must be within quotes; %s",
			numPlanColumns, fixRow)
	}
	return &Error{Path: path, Line: pe.StartLine, Msg: msg}
}

// unescape undoes cell.Spreadsheet, which puts an apostrophe before a cell
// a spreadsheet would read as a formula (and before one that starts with an
// apostrophe). A cell a spreadsheet saved without it is taken as it is.
func unescape(s string) string {
	s, _ = strings.CutPrefix(s, "'")
	return s
}

// parseRow reads and validates a row's cells. Its errors name the column
// and the rule, never the value.
func parseRow(c *planCells) (Row, error) {
	for i, s := range c {
		if len(s) > maxCellBytes[i] {
			return Row{}, fmt.Errorf("%s is longer than %d bytes", PlanColumns[i], maxCellBytes[i])
		}
		if !utf8.ValidString(s) {
			return Row{}, fmt.Errorf("%s is not UTF-8 text: save the plan as CSV UTF-8", PlanColumns[i])
		}
	}
	r := Row{
		WorkspaceGID: c[colWorkspaceGID], WorkspaceName: c[colWorkspaceName], MembershipGID: c[colMembershipGID],
		UserGID: c[colUserGID], UserName: c[colUserName], UserEmail: c[colUserEmail], Reason: Reason(c[colReason]),
		ActivitySource: c[colActivitySource], Domain: c[colDomain], Action: Action(c[colAction]), IdleDays: -1,
	}
	var err error
	if r.PlannedAt, err = parseTime(c, colPlannedAt); err != nil {
		return Row{}, err
	}
	if r.PlannedAt.IsZero() {
		return Row{}, errors.New("planned_at is empty: every row holds the time the plan was made")
	}
	for _, col := range []int{colWorkspaceGID, colMembershipGID, colUserGID} {
		if err := checkGID(PlanColumns[col], c[col]); err != nil {
			return Row{}, err
		}
	}
	if r.UserEmail != "" && !validEmail(r.UserEmail) {
		return Row{}, errors.New("user_email is not an email address")
	}
	st, ok := asana.ParseState(c[colState])
	if !ok || st != asana.Licensed && st != asana.ViewOnly {
		return Row{}, fmt.Errorf("state is neither %s nor %s: a plan holds only seats that are paid for", asana.Licensed, asana.ViewOnly)
	}
	r.State = st
	if !r.Reason.Idle() && !r.Reason.Outside() {
		return Row{}, fmt.Errorf("reason is none of %s, %s, %s", ReasonIdle, ReasonOutside, ReasonBoth)
	}
	if err := r.parseIdle(c); err != nil {
		return Row{}, err
	}
	if err := r.parseEvidence(c); err != nil {
		return Row{}, err
	}
	if r.Action != ActionRemove && r.Action != ActionReview {
		return Row{}, fmt.Errorf("action is neither %s nor %s", ActionRemove, ActionReview)
	}
	if r.Action == ActionRemove && r.Reason == ReasonOutside {
		return Row{}, fmt.Errorf("action is %s on a row whose reason is only %s: a plan proposes such a member, who uses the seat, "+
			"for %s (made a guest in the Admin Console, they keep their access), never for removal", ActionRemove, ReasonOutside, ActionReview)
	}
	if s := c[colMonthlyPrice]; s != "" {
		p, ok := parsePrice(s)
		if !ok {
			return Row{}, fmt.Errorf("monthly_price is not a price from 0 up, below %g, such as 10.99", float64(maxMonthlyPrice))
		}
		r.MonthlyPrice = &p
	}
	return r, nil
}

// maxCellBytes bounds each cell: text at maxTextBytes, an email at
// maxEmailBytes, the rest at a size no valid value reaches.
var maxCellBytes = func() (m [numPlanColumns]int) {
	for i := range m {
		m[i] = 64
	}
	m[colWorkspaceName], m[colUserName], m[colUserEmail] = maxTextBytes, maxTextBytes, maxEmailBytes
	return m
}()

// parseIdle reads idle_threshold_days and idle_days, which the reason
// decides: an idle row was at least the threshold idle.
func (r *Row) parseIdle(c *planCells) error {
	threshold, days := c[colIdleThresholdDays], c[colIdleDays]
	if days != "" {
		n, ok := parseDays(days)
		if !ok {
			return fmt.Errorf("idle_days is not a whole number of days from 0 to %d", maxIdleDays)
		}
		r.IdleDays = n
	}
	if !r.Reason.Idle() {
		if threshold != "" {
			return fmt.Errorf("idle_threshold_days is set on a row whose reason is only %s", ReasonOutside)
		}
		return nil
	}
	n, ok := parseDays(threshold)
	if !ok || n == 0 {
		return fmt.Errorf("idle_threshold_days is not a whole number of days from 1 to %d, as a row idle by --idle holds", maxIdleDays)
	}
	r.IdleThresholdDays = n
	if r.IdleDays < n {
		return errors.New("idle_days is empty or below idle_threshold_days on a row whose reason is idle: the seat is not idle by the plan's rule")
	}
	return nil
}

// parseEvidence reads what the reason rests on: the last activity and its
// source, and the email domain's verdict.
func (r *Row) parseEvidence(c *planCells) error {
	var err error
	if r.LastActivity, err = parseTime(c, colLastActivityAt); err != nil {
		return err
	}
	if r.LastActivity.After(r.PlannedAt) {
		return errors.New("last_activity_at is after planned_at: a plan knows no activity after it was made")
	}
	switch r.ActivitySource {
	case "", roster.SourceAuditLog, roster.SourceConsoleExport:
	default:
		return fmt.Errorf("activity_source is none of %s, %s or empty", roster.SourceAuditLog, roster.SourceConsoleExport)
	}
	if r.Reason.Idle() && r.ActivitySource == "" {
		return errors.New("activity_source is empty on a row whose reason is idle: idleness is judged from a source")
	}
	if !slices.Contains(domains, r.Domain) {
		return fmt.Errorf("domain is none of %s", strings.Join(domains, ", "))
	}
	if r.Reason.Outside() && (r.Domain != asana.Outside.String() || r.UserEmail == "") {
		return fmt.Errorf("domain is not %s, or user_email is empty, on a row whose reason is %s: the reason is the email's domain",
			asana.Outside, ReasonOutside)
	}
	return nil
}

// domains are the email domain's verdicts as the roster writes them.
var domains = []string{asana.Inside.String(), asana.Outside.String(), asana.DomainUnknown.String()}

// parseTime reads an RFC 3339 cell, in UTC; zero for "".
func parseTime(c *planCells, col int) (time.Time, error) {
	if c[col] == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, c[col])
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time such as 2026-12-05T14:00:00Z", PlanColumns[col])
	}
	return t.UTC(), nil
}

// parseDays reads a count of days: digits only, 0 to maxIdleDays.
func parseDays(s string) (int, bool) {
	if !isDigits(s) || len(s) > 6 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= maxIdleDays
}

// parsePrice reads a plain decimal (10 or 10.99): no sign, exponent, hex
// or infinity, which a config's price never gives.
func parsePrice(s string) (float64, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if !isDigits(whole) || dot && !isDigits(frac) {
		return 0, false
	}
	p, err := strconv.ParseFloat(s, 64)
	return p, err == nil && p < maxMonthlyPrice
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// checkGID says what is wrong with a gid that is not one.
func checkGID(column, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", column)
	case !isDigits(s) || len(s) > maxGIDDigits:
		return fmt.Errorf("%s is not an Asana gid (1 to %d digits); a spreadsheet may have turned it into a number "+
			"such as 1.2E+15: edit the plan as text, or import it with that column as text", column, maxGIDDigits)
	}
	return nil
}

// validEmail is a loose check that s is an email address: something, an
// @, a domain; no space or control character.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return len(s) <= maxEmailBytes && at > 0 && at < len(s)-1 && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// planCheck holds what a plan's rows must agree on: one planned_at, one
// idle threshold, each membership once, each user once a workspace.
type planCheck struct {
	plannedAt   time.Time
	firstLine   int
	threshold   int               // the first idle row's idle_threshold_days
	idleLine    int               // its line; 0 before an idle row
	memberships map[string]int    // membership gid: its line
	users       map[[2]string]int // workspace and user gid: its line
}

func (p *planCheck) add(line int, r *Row) error {
	if p.memberships == nil {
		p.plannedAt, p.firstLine = r.PlannedAt, line
		p.memberships, p.users = map[string]int{}, map[[2]string]int{}
	}
	if !r.PlannedAt.Equal(p.plannedAt) {
		return fmt.Errorf("planned_at differs from line %d's: a plan is made at one time, so this row was not in it", p.firstLine)
	}
	if r.Reason.Idle() && p.idleLine == 0 {
		p.threshold, p.idleLine = r.IdleThresholdDays, line
	} else if r.Reason.Idle() && r.IdleThresholdDays != p.threshold {
		return fmt.Errorf("idle_threshold_days differs from line %d's: a plan is made with one --idle, so this row was changed or was not in it", p.idleLine)
	}
	if first, ok := p.memberships[r.MembershipGID]; ok {
		return fmt.Errorf("membership_gid repeats line %d's: each membership is planned once; delete one of the two rows", first)
	}
	user := [2]string{r.WorkspaceGID, r.UserGID}
	if first, ok := p.users[user]; ok {
		return fmt.Errorf("workspace_gid and user_gid repeat line %d's: a user has one membership a workspace; delete one of the two rows", first)
	}
	p.memberships[r.MembershipGID], p.users[user] = line, line
	return nil
}
