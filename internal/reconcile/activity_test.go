package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// endOf is the end of the UTC day y-m-d, as a date alone is stored.
func endOf(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, int(time.Second-1), time.UTC)
}

// secondEnd is the end of the second t falls in, as a time is stored.
func secondEnd(t time.Time) time.Time { return t.UTC().Truncate(time.Second).Add(time.Second - 1) }

// parseActivity reads a cell as the first of its column.
func parseActivity(cell string) activityCell {
	var p activityParser
	return p.parse(cell)
}

func TestParseActivityReadsEachFormat(t *testing.T) {
	never := time.Time{}
	for _, c := range []struct {
		cell  string
		want  time.Time // zero: never
		order dateOrder
	}{
		{"2025-03-04", endOf(2025, 3, 4), 0},
		{" 2025-3-4 ", endOf(2025, 3, 4), 0},
		{"2025/03/04", endOf(2025, 3, 4), 0},
		{"2025-03-04T15:04:05Z", secondEnd(time.Date(2025, 3, 4, 15, 4, 5, 0, time.UTC)), 0},
		{"2025-03-04T15:04:05.123456+02:00", secondEnd(time.Date(2025, 3, 4, 13, 4, 5, 0, time.UTC)), 0},
		{"2025-03-04T23:30:00-05:00", secondEnd(time.Date(2025, 3, 5, 4, 30, 0, 0, time.UTC)), 0},
		{"2025-03-04T15:04:05", secondEnd(time.Date(2025, 3, 4, 15, 4, 5, 0, time.UTC)), 0},
		{"2025-03-04 15:04:05", secondEnd(time.Date(2025, 3, 4, 15, 4, 5, 0, time.UTC)), 0},
		{"2025-03-04 15:04", secondEnd(time.Date(2025, 3, 4, 15, 4, 0, 0, time.UTC)), 0},
		{"Mar 4, 2025", endOf(2025, 3, 4), 0},
		{"march 4, 2025", endOf(2025, 3, 4), 0},
		{"MAR 4 2025", endOf(2025, 3, 4), 0},
		{"4 Mar 2025", endOf(2025, 3, 4), 0},
		{"4 March 2025", endOf(2025, 3, 4), 0},
		{"4-Mar-25", endOf(2025, 3, 4), 0},
		{"03/04/2025", endOf(2025, 3, 4), monthFirst | dayFirst},
		{"3/4/25", endOf(2025, 3, 4), monthFirst | dayFirst},
		{"12/31/2025", endOf(2025, 12, 31), monthFirst},
		{"31/12/2025", endOf(2025, 12, 31), dayFirst},
		{"04/04/2025", endOf(2025, 4, 4), 0},
		{"3/4/2025 14:05", secondEnd(time.Date(2025, 3, 4, 14, 5, 0, 0, time.UTC)), monthFirst | dayFirst},
		{"3/4/2025 2:05:09 PM", secondEnd(time.Date(2025, 3, 4, 14, 5, 9, 0, time.UTC)), monthFirst | dayFirst},
		{"04.03.2025", endOf(2025, 3, 4), 0},
		{"", never, 0},
		{"Never", never, 0},
		{" N/A ", never, 0},
		{"-", never, 0},
		{"NONE", never, 0},
		{"Not yet logged in", never, 0},
	} {
		got := parseActivity(c.cell)
		at, _ := (&Console{members: []member{{activity: got.at}}}).LastActivity(0)
		if !got.ok || !at.Equal(c.want) || got.order != c.order {
			t.Errorf("%q: %v (understood %v, order %b), want %v (order %b)", c.cell, at, got.ok, got.order, c.want, c.order)
		}
	}
	for _, bad := range []string{"yesterday", "2025-02-30", "31/04/2025", "13/13/2025", "2025-13-01", "1999-12-31", "2106-01-01",
		"03/04/125", "3/4", "3/4/2025/1", "+3/4/2025", "3/-4/2025", "3/4/2025 25:00", "3/4/2025 noon", "0/4/2025",
		"2025-03-04T15:04:05 PST", "31.04.2025", "2025-03-04" + strings.Repeat(" ", maxActivityBytes), "Jane Doe", "jane@acme.example"} {
		if got := parseActivity(bad); got.ok {
			t.Errorf("%q understood as %d", bad, got.at)
		}
	}
}

// activityFile is an export with a last-activity column holding cells, one
// member each.
func activityFile(header string, cells ...string) string {
	var b strings.Builder
	b.WriteString("Name,Email,License," + header + "\n")
	for i, cell := range cells {
		fmt.Fprintf(&b, "Jane Doe %d,jane.%d@acme.example,Member,%s\n", i, i, cell)
	}
	return b.String()
}

// activities are the members' activities, as LastActivity gives them:
// "never", "unknown" or the time in RFC 3339.
func activities(c *Console) []string {
	var got []string
	for i := range c.Len() {
		at, known := c.LastActivity(i)
		m := c.Member(i)
		if !m.LastActivity.Equal(at) || m.ActivityKnown != known {
			panic(fmt.Sprintf("member %d: Member says %v %v, LastActivity %v %v", i, m.LastActivity, m.ActivityKnown, at, known))
		}
		switch {
		case !known:
			got = append(got, "unknown")
		case at.IsZero():
			got = append(got, "never")
		default:
			got = append(got, at.Format(time.RFC3339))
		}
	}
	return got
}

func TestReadConsoleReadsTheActivityColumn(t *testing.T) {
	for _, c := range []struct {
		name, file string
		opts       ReadOptions
		column     string
		want       string // activities, comma-separated
		warnings   []string
	}{
		{name: "the deprovisioning script's header, ISO dates, empty for never",
			file: "Name,Email Address,Date Joined Organization,First Login Date,Login Method,Last Activity,Internal,Number of Teams,Teams\n" +
				"Jane,jane@acme.example,2019-05-01,2019-05-02,Google,2025-03-04,true,2,\"Sales,Ops\"\n" +
				"Bob,bob@partner.example,2024-01-01,,Not yet logged in,,false,0,\n",
			column: "Last Activity", want: "2025-03-04T23:59:59Z,never"},
		{name: "times keep their time, in UTC", file: activityFile("Last active", "2025-03-04T15:04:05+02:00", "Never"),
			column: "Last active", want: "2025-03-04T13:04:05Z,never"},
		{name: "an ambiguous column is month first, with a warning", file: activityFile("Last activity date", "03/04/2025", "3/5/2025", "04/04/2025", "N/A"),
			column: "Last activity date", want: "2025-03-04T23:59:59Z,2025-03-05T23:59:59Z,2025-04-04T23:59:59Z,never",
			warnings: []string{`the 2 dates of the last-activity column "Last activity date" read either way, such as 03/04/2025: taken as month first`}},
		{name: "a day first column", file: activityFile("Last login", "03/04/2025", "13/04/2025", "-", "4/3/2025 09:30"),
			column: "Last login", want: "2025-04-03T23:59:59Z,2025-04-13T23:59:59Z,never,2025-03-04T09:30:00Z"},
		{name: "a month first column", file: activityFile("Last seen", "03/04/2025", "04/13/2025"),
			column: "Last seen", want: "2025-03-04T23:59:59Z,2025-04-13T23:59:59Z"},
		{name: "a column of both orders", file: activityFile("Last activity", "03/04/2025", "04/13/2025", "13/04/2025", "2025-01-02"),
			column: "Last activity", want: "unknown,2025-04-13T23:59:59Z,2025-04-13T23:59:59Z,2025-01-02T23:59:59Z",
			warnings: []string{`has dates written month first (1, such as 12/31/2025) and day first (1, such as 31/12/2025), so the 1 that read either way`,
				`1 of the 4 last-activity cells of column "Last activity" that are not empty or "never" are not dates the reader knows`}},
		{name: "cells not understood are unknown, by line", file: activityFile("Last activity", "2025-03-04", "Jane's birthday", "2025-03-05", "2025-03-06"),
			column: "Last activity", want: "2025-03-04T23:59:59Z,unknown,2025-03-05T23:59:59Z,2025-03-06T23:59:59Z",
			warnings: []string{`1 of the 4 last-activity cells of column "Last activity" that are not empty or "never" are not dates the reader knows: those members' activity is unknown`,
				"line 3: the last-activity cell is not a date in a format the reader knows; activity taken as unknown"}},
		{name: "a row that ends early", file: activityFile("Last activity", "2025-03-04", "2025-03-05") + "Jane,jane@x.example\n",
			column: "Last activity", want: "2025-03-04T23:59:59Z,2025-03-05T23:59:59Z,unknown",
			warnings: []string{"1 of the 3", "line 4: the row ends before the last-activity column"}},
		{name: "a column of nevers", file: activityFile("Last activity", "", "never", "NEVER"), column: "Last activity", want: "never,never,never",
			warnings: []string{`no cell of the last-activity column "Last activity" holds a date: every member is taken as never active`}},
		{name: "named by the flag", file: activityFile("Zuletzt aktiv", "04.03.2025", `"Jan 2, 2026"`), opts: ReadOptions{ActivityColumn: " zuletzt AKTIV"},
			column: "Zuletzt aktiv", want: "2025-03-04T23:59:59Z,2026-01-02T23:59:59Z"},
		{name: "bom and semicolons", file: "\ufeffName;E-mail;Licence;Letzte Aktivität;Last activity\r\nDoe, Jane;jane@acme.example;Member;x;2025-03-04\r\n",
			column: "Last activity", want: "2025-03-04T23:59:59Z"},
		{name: "no activity column", file: "Name,Email,Date joined,First login date\nJane,jane@acme.example,2019-01-01,2019-01-02\n", want: "unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadConsole(strings.NewReader(c.file), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.ActivityColumn != c.column || strings.Join(activities(got), ",") != c.want {
				t.Errorf("column %q, activities %s; want %q, %s", got.ActivityColumn, activities(got), c.column, c.want)
			}
			if len(got.Warnings) != len(c.warnings) {
				t.Errorf("warnings %q, want %d", got.Warnings, len(c.warnings))
			}
			for i, w := range c.warnings {
				if i >= len(got.Warnings) || !strings.Contains(got.Warnings[i], w) {
					t.Errorf("warning %d of %q, want one saying %q", i, got.Warnings, w)
				}
			}
			for _, w := range got.Warnings {
				if strings.Contains(w, "birthday") || strings.Contains(w, "@") {
					t.Errorf("a warning quotes a cell: %q", w)
				}
			}
			if err := got.RequireActivity(); (err == nil) != (c.column != "") {
				t.Errorf("RequireActivity = %v", err)
			}
		})
	}
}

func TestReadConsoleRefusesAnActivityColumnItCannotRead(t *testing.T) {
	_, err := ReadConsole(strings.NewReader(activityFile("Last activity", "2025-03-04", "Jane's birthday", "soon", "")), ReadOptions{})
	want := `2 of the 3 last-activity cells of column "Last activity" that are not empty or "never" are not dates the reader knows (it reads 2025-03-04;`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "name the right column with --reconcile.activity-column") {
		t.Errorf("error %v, want one saying %q and naming the flag", err, want)
	}
	if _, ok := err.(*Error); !ok || strings.Contains(err.Error(), "birthday") {
		t.Errorf("error %#v is not an *Error, or quotes a cell", err)
	}

	_, err = ReadConsole(strings.NewReader(activityFile("Last activity", "2025-03-04")), ReadOptions{ActivityColumn: "Last login"})
	if err == nil || !strings.Contains(err.Error(), `--reconcile.activity-column="Last login": no such column; the headers are "Name", "Email", "License", "Last activity"`) {
		t.Errorf("a named column that is missing: %v", err)
	}

	c, err := ReadConsole(strings.NewReader("Name,Email,Date joined\nJane,jane@acme.example,2019-01-01\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.RequireActivity()
	if err == nil || err.Error() != `the export has no last-activity column among the headers "Name", "Email", "Date joined"; name it with --reconcile.activity-column` {
		t.Errorf("RequireActivity = %v", err)
	}
}

// TestActivityCostsFourBytesAMember: the packed member grows by the 32-bit
// activity alone (and a flag in its padding), so that 10^6 members stay
// within reconcile-1M's 200 MB.
func TestActivityCostsFourBytesAMember(t *testing.T) {
	if size := unsafe.Sizeof(member{}); size != 20 {
		t.Errorf("a packed member is %d bytes, want 20", size)
	}
}

// FuzzParseActivity: any cell is understood or not, never a panic; what is
// understood is never, or a time in the years an activity can have, which
// reads back to the same day.
func FuzzParseActivity(f *testing.F) {
	for _, seed := range []string{"2025-03-04", "2025-03-04T15:04:05.999+14:00", "Mar 4, 2025", "4 March 2025", "03/04/2025 2:05 PM",
		"31/12/25", "04.03.2025", "Never", "", "2106-02-07", "1999-12-31T23:59:59-01:00", "29/02/2024", "29/02/2025"} {
		for last := range len(activityFormats) {
			f.Add(seed, uint8(last))
		}
	}
	f.Fuzz(func(t *testing.T, cell string, last uint8) {
		c := parseActivity(cell)
		// The format that read the column's last cell, tried first,
		// changes nothing: no two formats read a cell differently.
		p := activityParser{last: int(last) % len(activityFormats)}
		if again := p.parse(cell); again != c {
			t.Fatalf("%q: %+v, but %+v after a cell read in format %d", cell, c, again, int(last)%len(activityFormats))
		}
		switch {
		case !c.ok:
			if c.at != activityUnknown || c.order != 0 {
				t.Fatalf("%q: not understood, but %+v", cell, c)
			}
		case c.at == activityNever:
		default:
			at := time.Unix(int64(c.at), 0).UTC()
			if at.Year() < minActivityYear || at.Year() > maxActivityYear {
				t.Fatalf("%q: read as %v", cell, at)
			}
			if c.order == monthFirst|dayFirst && swapDayAndMonth(swapDayAndMonth(c.at)) != c.at {
				t.Fatalf("%q: swapping day and month twice gives %v, not %v", cell, swapDayAndMonth(swapDayAndMonth(c.at)), at)
			}
		}
	})
}
