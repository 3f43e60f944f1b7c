package reconcile

import (
	"slices"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// Finding is one person (or one membership without an email) and how the
// two sides see them.
type Finding struct {
	Kind          Kind
	Email         string // as the API gives it, or the console when only there
	Name          string // from the API
	APIState      string // "" when the API has no membership for them
	ConsoleType   string // as written in the console; "" when not there or no type column
	ConsoleLine   int    // 0 when not in the console
	MembershipGID string // the active membership (or the inactive one when none is active)
	Note          string // what explains the difference, when something does
}

// Kind of finding.
type Kind string

const (
	Match       Kind = "match"           // in both, and the types agree (or the console's is unknown)
	Disagree    Kind = "disagree"        // in both, with different states
	OnlyAPI     Kind = "only_in_api"     // an active membership the console does not list
	OnlyConsole Kind = "only_in_console" // a console member the API does not list
)

// Report is the comparison of one workspace with the console's export.
// Its counts add up: APIMemberships = MatchedMemberships + OnlyAPI +
// InactiveAbsent, and ConsoleMembers = Matched + OnlyConsole.
type Report struct {
	Workspace asana.Workspace

	APIMemberships int
	APIByState     [4]int // indexed by asana.State
	ConsoleMembers int
	ConsoleByKind  map[string]int // licensed, view_only, guest, inactive, unknown

	Matched            int // console members the API has a membership for
	MatchedMemberships int // their memberships (a re-added user has two)
	Agree, Disagree    int // Matched, split
	OnlyAPI            int // active memberships of people the console does not list
	OnlyConsole        int
	InactiveAbsent     int // inactive memberships of people the console does not list: as expected
	Readded            int // matched people with an inactive membership beside an active one

	Findings []Finding // every person, differences first
}

// Differences is what makes the two sides differ; 0 means they agree.
func (r *Report) Differences() int { return r.Disagree + r.OnlyAPI + r.OnlyConsole }

// person is what the API says of one console member.
type person struct {
	active, inactive []roster.Entry
}

// Compare compares a workspace's roster (each reads its rows) with the
// console's export.
func Compare(w asana.Workspace, console *Console, each func(func(roster.Entry) error) error) (*Report, error) {
	r := &Report{Workspace: w, ConsoleMembers: len(console.Members), ConsoleByKind: map[string]int{}}
	people := map[string]*person{}
	var onlyAPI []Finding
	err := each(func(e roster.Entry) error {
		r.APIMemberships++
		r.APIByState[e.State]++
		email := NormaliseEmail(e.UserEmail)
		if _, listed := console.Members[email]; listed && email != "" {
			p := people[email]
			if p == nil {
				p = &person{}
				people[email] = p
			}
			if e.State == asana.Inactive {
				p.inactive = append(p.inactive, e)
			} else {
				p.active = append(p.active, e)
			}
			return nil
		}
		if e.State == asana.Inactive {
			r.InactiveAbsent++
			return nil
		}
		r.OnlyAPI++
		onlyAPI = append(onlyAPI, Finding{Kind: OnlyAPI, Email: e.UserEmail, Name: e.UserName, APIState: e.State.String(),
			MembershipGID: e.MembershipGID, Note: onlyAPINote(e)})
		return nil
	})
	if err != nil {
		return nil, err
	}

	var disagree, onlyConsole, match []Finding
	for _, email := range console.Order {
		m := console.Members[email]
		kind := "unknown"
		if m.Known {
			kind = m.Kind.String()
		}
		r.ConsoleByKind[kind]++
		p := people[email]
		if p == nil {
			r.OnlyConsole++
			onlyConsole = append(onlyConsole, Finding{Kind: OnlyConsole, Email: m.Email, ConsoleType: m.Type, ConsoleLine: m.Line,
				Note: "the API lists no membership for this email in this workspace: removed since the export, a different email, or another workspace"})
			continue
		}
		r.Matched++
		r.MatchedMemberships += len(p.active) + len(p.inactive)
		f := matched(m, p)
		if len(p.active) > 0 && len(p.inactive) > 0 {
			r.Readded++
		}
		if f.Kind == Disagree {
			r.Disagree++
			disagree = append(disagree, f)
		} else {
			r.Agree++
			match = append(match, f)
		}
	}
	r.Findings = slices.Concat(disagree, onlyAPI, onlyConsole, match)
	return r, nil
}

func onlyAPINote(e roster.Entry) string {
	switch {
	case e.UserEmail == "":
		return "the API gave no email for this member"
	case e.State == asana.Licensed:
		return "a pending invite? The Members tab leaves invitees out, the API counts them as active, and Asana bills them"
	}
	return ""
}

// matched is the finding for a console member the API has memberships for.
func matched(m *Member, p *person) Finding {
	var e roster.Entry // p has at least one membership
	if len(p.active) > 0 {
		e = p.active[0]
	} else {
		e = p.inactive[0]
	}
	f := Finding{Kind: Match, Email: e.UserEmail, Name: e.UserName, APIState: e.State.String(),
		ConsoleType: m.Type, ConsoleLine: m.Line, MembershipGID: e.MembershipGID}
	api := e.State
	switch {
	case len(p.active) == 0:
		f.Kind = Disagree
		f.Note = "the API says the membership is inactive (removed or deactivated) and the console lists them: an export older than the removal?"
	case m.Known && m.Kind != api:
		f.Kind = Disagree
		f.Note = disagreement(m.Kind, api, e.Domain)
	case m.Pending:
		f.Note = "a pending invite in the console; the API counts it as active"
	}
	switch {
	case len(p.active) > 1:
		f.Note = join(f.Note, "two or more active memberships for one email")
	case len(p.active) > 0 && len(p.inactive) > 0:
		f.Note = join(f.Note, "re-added: an old inactive membership beside the active one, which the console does not show")
	}
	return f
}

func disagreement(console, api asana.State, domain string) string {
	switch {
	case api == asana.Licensed && console == asana.Guest && domain == asana.Outside.String():
		return "the email is outside the organisation's domains, so Asana should treat them as a guest, but the API says licensed: " +
			"report the is_guest flag to Asana with this row, or check the domain list"
	case api == asana.Licensed && console == asana.Guest:
		return "the API says licensed, the console guest: report the is_guest flag to Asana with this row"
	case api == asana.Guest && console == asana.Licensed:
		return "the API says guest, the console a licensed member: check the member's licence in the console"
	case api == asana.Inactive:
		return "the API says inactive; the console lists them"
	}
	return "the console says " + console.String() + ", the API " + api.String()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
