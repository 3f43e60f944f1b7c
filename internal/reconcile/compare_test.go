package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// TestCompareExplainsEachDifferenceAndAddsUp covers every kind of finding
// on a small hand-made organisation, and the summary's arithmetic.
func TestCompareExplainsEachDifferenceAndAddsUp(t *testing.T) {
	console, err := ReadConsole(strings.NewReader(`Email,License
ann@acme.example,Member
bob@acme.example,Guest
cy@partner.example,Guest
dee@acme.example,Member
eve@acme.example,Member
fay@acme.example,Pending invite
gone@acme.example,Member
hal@acme.example,Astronaut
`), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(gid, email string, st asana.State, domain asana.Domain) roster.Entry {
		return roster.Entry{MembershipGID: gid, UserEmail: email, State: st, Domain: domain.String()}
	}
	api := []roster.Entry{
		entry("1", "ANN@acme.example", asana.Licensed, asana.Inside),     // agrees, whatever the case
		entry("2", "bob@partner.example", asana.Licensed, asana.Outside), // not the console's bob: only in the API
		entry("3", "cy@partner.example", asana.Licensed, asana.Outside),  // licensed outside the domains, a guest in the console
		entry("4", "dee@acme.example", asana.Inactive, asana.Inside),     // re-added: old membership...
		entry("5", "dee@acme.example", asana.Licensed, asana.Inside),     // ...and the active one
		entry("6", "eve@acme.example", asana.Inactive, asana.Inside),     // removed, the console still lists her
		entry("7", "fay@acme.example", asana.Licensed, asana.Inside),     // pending in both
		entry("8", "hal@acme.example", asana.ViewOnly, asana.Inside),     // the console's type is unknown: agrees
		entry("9", "old@acme.example", asana.Inactive, asana.Inside),     // inactive and absent: as expected
		entry("10", "new@acme.example", asana.Licensed, asana.Inside),    // a pending invite the Members tab leaves out
		entry("11", "", asana.Guest, asana.DomainUnknown),                // no email
		entry("12", "bob@acme.example", asana.Guest, asana.Inside),       // the console's bob
	}
	r, err := Compare(asana.Workspace{GID: "1"}, console, func(fn func(roster.Entry) error) error {
		for _, e := range api {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var findings []Finding
	if err := r.Findings(func(f Finding) error { findings = append(findings, f); return nil }); err != nil {
		t.Fatal(err)
	}
	want := Report{APIMemberships: 12, ConsoleMembers: 8, Matched: 7, MatchedMemberships: 8, Agree: 5, Disagree: 2,
		OnlyAPI: 3, OnlyConsole: 1, InactiveAbsent: 1, Readded: 1}
	got := *r
	got.Workspace, got.APIByState, got.ConsoleByKind = want.Workspace, want.APIByState, want.ConsoleByKind
	if got.APIMemberships != want.APIMemberships || got.ConsoleMembers != want.ConsoleMembers || got.Matched != want.Matched ||
		got.MatchedMemberships != want.MatchedMemberships || got.Agree != want.Agree || got.Disagree != want.Disagree ||
		got.OnlyAPI != want.OnlyAPI || got.OnlyConsole != want.OnlyConsole || got.InactiveAbsent != want.InactiveAbsent || got.Readded != want.Readded {
		t.Errorf("report %+v,\nwant   %+v", got, want)
	}
	if r.APIMemberships != r.MatchedMemberships+r.OnlyAPI+r.InactiveAbsent || r.ConsoleMembers != r.Matched+r.OnlyConsole || r.Matched != r.Agree+r.Disagree {
		t.Errorf("the summary does not add up: %+v", got)
	}
	if r.Differences() != 6 || len(findings) != r.Matched+r.OnlyAPI+r.OnlyConsole {
		t.Errorf("%d differences, %d findings", r.Differences(), len(findings))
	}
	notes := map[string]string{}
	for _, f := range findings {
		notes[string(f.Kind)+" "+f.MembershipGID] = f.Note
	}
	for key, want := range map[string]string{
		"disagree 3":       "outside the organisation's domains",
		"disagree 6":       "the API says the membership is inactive",
		"match 5":          "re-added",
		"match 7":          "pending invite in the console",
		"only_in_api 2":    "a pending invite?",
		"only_in_api 10":   "a pending invite? The Members tab leaves invitees out",
		"only_in_api 11":   "no email",
		"only_in_console ": "removed since the export",
		"match 8":          "",
		"match 1":          "",
	} {
		note, ok := notes[key]
		if !ok || want == "" && note != "" || !strings.Contains(note, want) {
			t.Errorf("%s: note %q (present %v), want %q", key, note, ok, want)
		}
	}
	// Differences first; the console's members in its order (bob is its
	// second line, the API's last membership), the API's in the API's.
	var order []string
	for _, f := range findings {
		order = append(order, string(f.Kind)+" "+f.MembershipGID)
	}
	if got, want := strings.Join(order, ", "), "disagree 3, disagree 6, only_in_api 2, only_in_api 10, only_in_api 11, only_in_console , "+
		"match 1, match 12, match 5, match 7, match 8"; got != want {
		t.Errorf("findings in the order\n%s, want\n%s", got, want)
	}
	if f := findings[0]; f.Email != "cy@partner.example" || f.ConsoleType != "Guest" || f.ConsoleLine != 4 || f.APIState != "licensed" {
		t.Errorf("the first finding %+v", f)
	}
}

// TestCompareNoticesARosterReadBackDifferently: Compare reads the roster
// twice; a second read that lacks someone is an error, not a finding
// without its membership.
func TestCompareNoticesARosterReadBackDifferently(t *testing.T) {
	console, err := ReadConsole(strings.NewReader("Email\nann@acme.example\nbob@acme.example\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	_, err = Compare(asana.Workspace{GID: "1"}, console, func(fn func(roster.Entry) error) error {
		reads++
		emails := []string{"ann@acme.example", "bob@acme.example"}
		if reads == 2 {
			emails = emails[:1]
		}
		for _, email := range emails {
			if err := fn(roster.Entry{UserEmail: email, State: asana.Licensed}); err != nil {
				return err
			}
		}
		return nil
	}, CompareOptions{})
	if err == nil || !strings.Contains(err.Error(), "read back differently the second time (1 of 2 people found again)") {
		t.Errorf("Compare = %v", err)
	}
}

// TestCompareCountsIdleSeatsByTheConsolesActivity: idle by internal/idle's
// rule, on the console's last activity and the API's states and creation
// dates; unknown activity, guests, inactive memberships and people only in
// the API are never idle.
func TestCompareCountsIdleSeatsByTheConsolesActivity(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	console, err := ReadConsole(strings.NewReader(`Email,License,Last activity
ann@acme.example,Member,2026-03-03
bob@acme.example,Member,2026-01-20
cy@acme.example,Member,Never
dee@acme.example,View only,2025-11-01
eve@acme.example,Member,Never
fay@acme.example,Guest,Never
gus@acme.example,Member,soon
hal@acme.example,Member,2025-06-01
ida@acme.example,Member,2025-12-01T10:00:00Z
jo@acme.example,Member,2025-06-01
`), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old := now.AddDate(-5, 0, 0)
	entry := func(gid, email string, st asana.State, created time.Time) roster.Entry {
		return roster.Entry{MembershipGID: gid, UserEmail: email, State: st, CreatedAt: created}
	}
	api := []roster.Entry{
		entry("1", "ann@acme.example", asana.Licensed, old),                    // active yesterday
		entry("2", "bob@acme.example", asana.Licensed, old),                    // 42 days
		entry("3", "cy@acme.example", asana.Licensed, old),                     // never
		entry("4", "dee@acme.example", asana.ViewOnly, old),                    // 123 days
		entry("5", "eve@acme.example", asana.Licensed, now.AddDate(0, 0, -12)), // never, but joined 12 days ago
		entry("6", "fay@acme.example", asana.Guest, old),                       // a guest is not judged
		entry("7", "gus@acme.example", asana.Licensed, old),                    // activity not understood
		entry("8", "hal@acme.example", asana.Inactive, old),                    // removed
		entry("9", "ida@acme.example", asana.Licensed, old),                    // 93 days
		entry("10", "new@acme.example", asana.Licensed, now),                   // only in the API
	}
	price := 10.0
	r, err := Compare(asana.Workspace{GID: "1"}, console, func(fn func(roster.Entry) error) error {
		for _, e := range api {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}, CompareOptions{Now: now, IdleDays: []int{30, 60, 90}, SeatPrice: &price})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []IdleSeats{{30, 3, 1}, {60, 2, 1}, {90, 2, 1}}
	if fmt.Sprint(r.Idle) != fmt.Sprint(want) || r.Judged != 6 || r.ActivityUnknown != 1 {
		t.Errorf("idle %v, judged %d, unknown %d; want %v, 6, 1", r.Idle, r.Judged, r.ActivityUnknown, want)
	}
	if cost, priced := r.MonthlyCost(r.Idle[0]); !priced || cost != 30 {
		t.Errorf("the 30 days' idle seats cost %v (priced %v), want 30", cost, priced)
	}

	idleDays := map[string]string{}
	err = r.Findings(func(f Finding) error {
		idleDays[f.Email] = fmt.Sprintf("%s %d %v", activityText(f), f.IdleDays, f.IdleJudged)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]string{
		"ann@acme.example": "2026-03-03T23:59:59Z 0 true",
		"bob@acme.example": "2026-01-20T23:59:59Z 42 true",
		"cy@acme.example":  "never 1826 true",
		"eve@acme.example": "never 12 true",
		"fay@acme.example": "never 0 false",
		"gus@acme.example": " 0 false",
		"hal@acme.example": "2025-06-01T23:59:59Z 0 false",
		"ida@acme.example": "2025-12-01T10:00:00Z 93 true",
		"jo@acme.example":  "2025-06-01T23:59:59Z 0 false", // only in the console
		"new@acme.example": " 0 false",
	} {
		if idleDays[email] != want {
			t.Errorf("%s: %q, want %q", email, idleDays[email], want)
		}
	}

	var table, records, jsonRecords strings.Builder
	if err := WriteTable(&table, []*Report{r}, console, "members.csv"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Idle seats of people in both, by the console's "Last activity" column at 2026-03-04 12:00 UTC`,
		"  idle for       licensed view_only  cost a month\n  30 days               3         1         30.00\n  60 days               2         1         20.00\n",
		"judged: 6 active licensed and view-only memberships of people in the export; 1 more whose last activity was not understood are never counted idle.",
		"seat_price, 10.00 a month",
		"paused",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if err := WriteRecords(&records, []*Report{r}, false); err != nil {
		t.Fatal(err)
	}
	if want := "1,match,bob@acme.example,,licensed,Member,3,2,,2026-01-20T23:59:59Z,42\n"; !strings.Contains(records.String(), want) {
		t.Errorf("the records lack %q:\n%s", want, records.String())
	}
	if err := WriteRecords(&jsonRecords, []*Report{r}, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"console_last_activity":"2026-01-20T23:59:59Z","console_line":3,"console_type":"Member","email":"bob@acme.example","finding":"match","idle_days":42`,
		`"console_last_activity":"","console_line":8,"console_type":"Member","email":"gus@acme.example","finding":"match","idle_days":null`} {
		if !strings.Contains(jsonRecords.String(), want) {
			t.Errorf("the JSON records lack %q:\n%s", want, jsonRecords.String())
		}
	}
}

// TestCompareWithoutAnActivityColumnSaysHowToGetOne: no idle seats, and
// the table says which flag names the column.
func TestCompareWithoutAnActivityColumnSaysHowToGetOne(t *testing.T) {
	console, err := ReadConsole(strings.NewReader("Email\nann@acme.example\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compare(asana.Workspace{GID: "1"}, console, func(fn func(roster.Entry) error) error {
		return fn(roster.Entry{UserEmail: "ann@acme.example", State: asana.Licensed})
	}, CompareOptions{Now: time.Now(), IdleDays: []int{30}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var table strings.Builder
	if err := WriteTable(&table, []*Report{r}, console, "members.csv"); err != nil {
		t.Fatal(err)
	}
	if r.Idle != nil || !strings.Contains(table.String(), "No last-activity column in the export, so no idle seats; if it has one, name it with --reconcile.activity-column.") {
		t.Errorf("idle %v; table:\n%s", r.Idle, table.String())
	}
}
