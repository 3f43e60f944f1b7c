package reconcile

import (
	"strings"
	"testing"

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
	})
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
	})
	if err == nil || !strings.Contains(err.Error(), "read back differently the second time (1 of 2 people found again)") {
		t.Errorf("Compare = %v", err)
	}
}
