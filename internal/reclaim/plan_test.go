package reclaim

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

var plannedAt = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

func price(p float64) *float64 { return &p }

// sampleRows is a plan with one row of each kind, and names a spreadsheet
// would take for formulas or a CSV reader for separators.
func sampleRows() []Row {
	return []Row{
		{
			PlannedAt: plannedAt, WorkspaceGID: "1200000000000001", WorkspaceName: "Acme, Inc.",
			MembershipGID: "1300000000000001", UserGID: "1400000000000001", UserName: "=HYPERLINK(\"http://evil\")",
			UserEmail: "ada@acme.example", State: asana.Licensed, Reason: ReasonIdle, IdleThresholdDays: 90,
			IdleDays: 120, LastActivity: time.Date(2026, 8, 7, 23, 59, 59, 999999999, time.UTC),
			ActivitySource: roster.SourceConsoleExport, Domain: "inside", Action: ActionRemove, MonthlyPrice: price(10.99),
		},
		{
			PlannedAt: plannedAt, WorkspaceGID: "1200000000000001", WorkspaceName: "Acme, Inc.",
			MembershipGID: "1300000000000002", UserGID: "1400000000000002", UserName: "'quoted\nover two lines",
			UserEmail: "bob@gmail.example", State: asana.Licensed, Reason: ReasonOutside, IdleDays: -1,
			Domain: "outside", Action: ActionReview,
		},
		{
			PlannedAt: plannedAt, WorkspaceGID: "1200000000000002", WorkspaceName: "-Second",
			MembershipGID: "1300000000000003", UserGID: "1400000000000003", UserName: "Zoë Ørsted 日本",
			UserEmail: "zoe@other.example", State: asana.ViewOnly, Reason: ReasonBoth, IdleThresholdDays: 90,
			IdleDays: 400, ActivitySource: roster.SourceAuditLog, Domain: "outside", Action: ActionReview,
			MonthlyPrice: price(0),
		},
	}
}

func writeSample(t *testing.T, bom bool) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.csv")
	if err := WritePlan(path, sampleRows(), bom); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw
}

// TestWritePlanReadsBack: a plan written reads back as the same rows, with
// or without a byte-order mark, mode 0600, formulas neutralised in the file.
func TestWritePlanReadsBack(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	for _, bom := range []bool{false, true} {
		path, raw := writeSample(t, bom)
		got, err := ReadPlan(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, sampleRows()) {
			t.Errorf("bom=%v: read back\n%+v\nwant\n%+v", bom, got, sampleRows())
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("bom=%v: mode %v (%v), want 0600", bom, st.Mode().Perm(), err)
		}
		if bytes.HasPrefix(raw, []byte(byteOrderMark)) != bom {
			t.Errorf("bom=%v: the file starts %q", bom, raw[:8])
		}
		header := strings.Join(PlanColumns[:], ",") + "\n"
		if !bytes.Contains(raw, []byte(header)) {
			t.Errorf("no header line %q", header)
		}
		for _, want := range []string{`"'=HYPERLINK(""http://evil"")"`, `'-Second`, `"''quoted` + "\n" + `over two lines"`,
			"2026-12-05T14:00:00Z", "2026-08-07T23:59:59.999999999Z", ",10.99\n", ",idle+outside_domains,90,400,,audit_log,outside,review,0\n"} {
			if !bytes.Contains(raw, []byte(want)) {
				t.Errorf("the file lacks %q:\n%s", want, raw)
			}
		}
	}
}

// TestReadPlanAsASpreadsheetSavesIt: CRLF line ends, a byte-order mark,
// semicolons or tabs for commas, and a formula cell saved without its
// apostrophe all read.
func TestReadPlanAsASpreadsheetSavesIt(t *testing.T) {
	_, raw := writeSample(t, false)
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, comma := range []rune{',', ';', '\t'} {
		var b bytes.Buffer
		b.WriteString(byteOrderMark)
		w := csv.NewWriter(&b)
		w.Comma, w.UseCRLF = comma, true
		for _, rec := range recs {
			rec[colUserName] = strings.TrimPrefix(rec[colUserName], "'") // as a spreadsheet saves a text cell
			w.Write(rec)
		}
		w.Flush()
		got, err := readPlan(&b, "plan.csv")
		if err != nil {
			t.Fatalf("%q: %v", comma, err)
		}
		want := sampleRows()
		want[1].UserName = "quoted\nover two lines" // its one apostrophe was the escape
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: read\n%+v\nwant\n%+v", comma, got, want)
		}
	}
}

// TestReadPlanWithARowDeleted: a person deleting a row is the plan's use.
func TestReadPlanWithARowDeleted(t *testing.T) {
	path, raw := writeSample(t, false)
	lines := strings.SplitAfter(string(raw), "\n")
	edited := lines[0] + lines[1] + strings.Join(lines[4:], "") // rows 2 (two lines) go
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPlan(path)
	want := sampleRows()
	if err != nil || !reflect.DeepEqual(got, []Row{want[0], want[2]}) {
		t.Errorf("read %+v, %v; want rows 1 and 3", got, err)
	}
}

// TestReadPlanRefusesBrokenRules: a row changed or added by hand that
// breaks a rule is refused with the file, the line and the rule, and the
// error quotes nothing of the row.
func TestReadPlanRefusesBrokenRules(t *testing.T) {
	base := sampleRows()
	cellsOf := func(r Row) []string { c := r.cells(); return c[:] }
	set := func(row, col int, v string) func([][]string) [][]string {
		return func(recs [][]string) [][]string { recs[row][col] = v; return recs }
	}
	for _, c := range []struct {
		name string
		edit func([][]string) [][]string
		line int
		want string
	}{
		{"planned_at empty", set(1, colPlannedAt, ""), 2, "planned_at is empty"},
		{"planned_at not a time", set(1, colPlannedAt, "yesterday"), 2, "planned_at is not an RFC 3339 time"},
		{"planned_at differs", set(3, colPlannedAt, "2026-12-05T14:00:01Z"), 5, "planned_at differs from line 2's"},
		{"workspace gid with letters", set(1, colWorkspaceGID, "12ab"), 2, "workspace_gid is not an Asana gid (1 to 24 digits); a spreadsheet"},
		{"membership gid as a spreadsheet number", set(1, colMembershipGID, "1.3E+15"), 2, "membership_gid is not an Asana gid"},
		{"user gid empty", set(1, colUserGID, ""), 2, "user_gid is empty"},
		{"user gid too long", set(1, colUserGID, strings.Repeat("1", 25)), 2, "user_gid is not an Asana gid"},
		{"email without @", set(1, colUserEmail, "ada.acme.example"), 2, "user_email is not an email address"},
		{"email with a space", set(1, colUserEmail, "ada lovelace@acme.example"), 2, "user_email is not an email address"},
		{"guest", set(1, colState, "guest"), 2, "state is neither licensed nor view_only"},
		{"state unknown", set(1, colState, "Licensed"), 2, "state is neither"},
		{"reason unknown", set(1, colReason, "bored"), 2, "reason is none of idle, outside_domains, idle+outside_domains"},
		{"threshold on outside", set(2, colIdleThresholdDays, "90"), 3, "idle_threshold_days is set on a row whose reason is only outside_domains"},
		{"threshold missing", set(1, colIdleThresholdDays, ""), 2, "idle_threshold_days is not a whole number of days from 1 to 36500"},
		{"threshold zero", set(1, colIdleThresholdDays, "0"), 2, "idle_threshold_days is not a whole number"},
		{"idle days negative", set(1, colIdleDays, "-3"), 2, "idle_days is not a whole number of days from 0 to 36500"},
		{"idle days a fraction", set(1, colIdleDays, "120.5"), 2, "idle_days is not a whole number"},
		{"idle days too many", set(1, colIdleDays, "36501"), 2, "idle_days is not a whole number"},
		{"idle days below threshold", set(1, colIdleDays, "89"), 2, "idle_days is empty or below idle_threshold_days"},
		{"idle days empty on idle", set(1, colIdleDays, ""), 2, "idle_days is empty or below"},
		{"last activity not a time", set(1, colLastActivityAt, "2026-13-01T00:00:00Z"), 2, "last_activity_at is not an RFC 3339 time"},
		{"last activity after the plan", set(1, colLastActivityAt, "2026-12-06T00:00:00Z"), 2, "last_activity_at is after planned_at"},
		{"source unknown", set(1, colActivitySource, "gut"), 2, "activity_source is none of audit_log, console_export or empty"},
		{"source empty on idle", set(1, colActivitySource, ""), 2, "activity_source is empty on a row whose reason is idle"},
		{"domain unknown", set(1, colDomain, "elsewhere"), 2, "domain is none of inside, outside, unknown"},
		{"domain inside on outside", set(3, colDomain, "inside"), 5, "domain is not outside, or user_email is empty, on a row whose reason is outside_domains"},
		{"no email on outside", set(2, colUserEmail, ""), 3, "domain is not outside, or user_email is empty"},
		{"action unknown", set(1, colAction, "delete"), 2, "action is neither remove nor review"},
		{"review turned into remove", set(2, colAction, "remove"), 3, "action is remove on a row whose reason is only outside_domains"},
		{"threshold differs", set(3, colIdleThresholdDays, "60"), 5, "idle_threshold_days differs from line 2's"},
		{"price negative", set(1, colMonthlyPrice, "-1"), 2, "monthly_price is not a price from 0 up, below 1e+09"},
		{"price with exponent", set(1, colMonthlyPrice, "1e3"), 2, "monthly_price is not a price"},
		{"price NaN", set(1, colMonthlyPrice, "NaN"), 2, "monthly_price is not a price"},
		{"price too high", set(1, colMonthlyPrice, "1000000000"), 2, "monthly_price is not a price"},
		{"price with a comma", set(1, colMonthlyPrice, "10,99"), 2, "monthly_price is not a price"},
		{"name too long", set(1, colUserName, strings.Repeat("x", maxTextBytes+1)), 2, "user_name is longer than 1024 bytes"},
		{"gid cell too long", set(1, colWorkspaceGID, strings.Repeat("1", 65)), 2, "workspace_gid is longer than 64 bytes"},
		{"not UTF-8", set(1, colWorkspaceName, "Acme \xff"), 2, "workspace_name is not UTF-8 text: save the plan as CSV UTF-8"},
		{"membership twice", func(r [][]string) [][]string { return append(r, cellsOf(base[0])) }, 6, "membership_gid repeats line 2's"},
		{"user twice", func(r [][]string) [][]string {
			again := base[0]
			again.MembershipGID = "1300000000000009"
			return append(r, cellsOf(again))
		}, 6, "workspace_gid and user_gid repeat line 2's"},
		{"a cell missing", func(r [][]string) [][]string { r[2] = r[2][:15]; return r }, 3, "the row does not have the header's 16 cells"},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs := [][]string{PlanColumns[:]}
			for _, r := range base {
				recs = append(recs, cellsOf(r))
			}
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			w.WriteAll(c.edit(recs))
			_, err := readPlan(&b, "plan.csv")
			var e *Error
			if !errors.As(err, &e) || e.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want line %d: %s", err, c.line, c.want)
			}
			if want := "plan.csv line " + strconv.Itoa(c.line) + ": "; !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), fixRow) {
				t.Errorf("%q does not start %q and end with what to do", err, want)
			}
			for _, private := range []string{"ada", "1400000000000001", "1300000000000001", "HYPERLINK", "Acme"} {
				if strings.Contains(err.Error(), private) {
					t.Errorf("the error quotes %q: %v", private, err)
				}
			}
		})
	}
}

// TestReadPlanRefusesAWrongFile: what is not a plan says so.
func TestReadPlanRefusesAWrongFile(t *testing.T) {
	header := strings.Join(PlanColumns[:], ",")
	for in, want := range map[string]string{
		"":                               "plan.csv: the file is empty",
		byteOrderMark:                    "plan.csv: the file is empty",
		"name,email\nAda,ada@acme\n":     "plan.csv line 1: not a reclaim plan's header: it must be planned_at,workspace_gid,",
		header + ",seats_left\n":         "plan.csv line 1: the header has columns after monthly_price",
		header + "\n\"2026-12-05,a\n":    "plan.csv line 2: extraneous or missing \" in quoted-field: a quote is stray or missing",
		header + "\n2026\"-12-05,a\n":    "plan.csv line 2: bare \" in non-quoted-field: a quote is stray or missing",
		strings.ToUpper(header) + "\n":   "not a reclaim plan's header",
		strings.Repeat("x", 5000) + "\n": "not a reclaim plan's header",
	} {
		_, err := readPlan(strings.NewReader(in), "plan.csv")
		if err == nil || !strings.HasPrefix(err.Error(), want) && !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: got %v, want %q", in, err, want)
		}
	}
	if rows, err := readPlan(strings.NewReader(header+"\r\n"), "plan.csv"); err != nil || len(rows) != 0 {
		t.Errorf("a plan with every row deleted: %v, %v; want no rows", rows, err)
	}
	dir := t.TempDir()
	var notRegular *inputfile.NotRegularError
	if _, err := ReadPlan(dir); !errors.As(err, &notRegular) {
		t.Errorf("a directory: %v", err)
	}
	if _, err := ReadPlan(filepath.Join(dir, "absent.csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no file: %v", err)
	}
}

// TestPlanLimits: a plan of more rows or bytes than the limits is refused,
// by ReadPlan at the row or with TooLargeError, by WritePlan whole.
func TestPlanLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Join(PlanColumns[:], ",") + "\n")
	for i := range maxPlanRows + 1 {
		n := strconv.Itoa(1e9 + i)
		b.WriteString("2026-12-05T14:00:00Z,1,," + n + "," + n + ",,a@b,licensed,outside_domains,,,,,outside,review,\n")
	}
	_, err := readPlan(strings.NewReader(b.String()), "plan.csv")
	if want := "plan.csv line 100002: more than 100000 rows"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}

	path := filepath.Join(t.TempDir(), "plan.csv")
	if err := WritePlan(path, make([]Row, maxPlanRows+1), false); err == nil || !strings.Contains(err.Error(), "100001 seats, more than the 100000 a plan holds") {
		t.Errorf("WritePlan of too many rows: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WritePlan refused but left a file: %v", err)
	}

	// A file that grows past the limit while it is read is refused by the
	// limited reader; one larger from the start, before it is read.
	_, err = readPlan(inputfile.LimitReader(strings.NewReader(b.String()), "plan.csv", 1000), "plan.csv")
	var tooLarge *inputfile.TooLargeError
	if !errors.As(err, &tooLarge) {
		t.Errorf("a plan larger than the reader's limit: %v", err)
	}
	if err := os.WriteFile(path, []byte(b.String()[:1000]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, maxPlanBytes+1); err != nil { // sparse
		t.Fatal(err)
	}
	if _, err := ReadPlan(path); !errors.As(err, &tooLarge) || tooLarge.Limit != maxPlanBytes || tooLarge.Path != path {
		t.Errorf("a plan over %d bytes: %v", maxPlanBytes, err)
	}
}

// TestWritePlanRefusesARowThatWouldNotReadBack: whole or nothing; an old
// plan stays as it was.
func TestWritePlanRefusesARowThatWouldNotReadBack(t *testing.T) {
	path, before := writeSample(t, false)
	for _, c := range []struct {
		edit func(*Row)
		want string
	}{
		{func(r *Row) { r.State = asana.Guest }, "row 2: state is neither"},
		{func(r *Row) { r.PlannedAt = r.PlannedAt.Add(time.Second) }, "row 2: planned_at differs from line 2's"},
		{func(r *Row) { r.MembershipGID = "1300000000000001" }, "row 2: membership_gid repeats line 2's"},
		{func(r *Row) { r.MonthlyPrice = price(-1) }, "row 2: monthly_price is not a price"},
		{func(r *Row) { r.IdleDays = -2 }, "row 2: idle_days is not a whole number"},
	} {
		rows := sampleRows()
		c.edit(&rows[1])
		err := WritePlan(path, rows, false)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "cannot write the plan "+path) {
			t.Errorf("got %v, want %q", err, c.want)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Errorf("a refused plan changed the file")
		}
	}
}

// TestWritePlanCutsLongNames: a name longer than a plan holds is cut, not
// the plan refused.
func TestWritePlanCutsLongNames(t *testing.T) {
	rows := sampleRows()
	rows[0].UserName = strings.Repeat("é", maxTextBytes)
	path := filepath.Join(t.TempDir(), "plan.csv")
	if err := WritePlan(path, rows, false); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := got[0].UserName; len(n) > maxTextBytes || !strings.HasSuffix(n, "é…") {
		t.Errorf("the name read back is %d bytes, ends %q", len(n), n[len(n)-8:])
	}
}
