package reconcile

import (
	"fmt"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
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
	// LastActivity and ActivityKnown are the console's, as Member has them.
	LastActivity  time.Time
	ActivityKnown bool
	// IdleDays is how many whole days the membership has been idle by the
	// console's last activity (internal/idle's rule), when IdleJudged: an
	// active licensed or view-only membership whose activity is known.
	IdleDays   int
	IdleJudged bool
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
// InactiveAbsent, and ConsoleMembers = Matched + OnlyConsole. Its findings
// wait in a temporary file: Close it when done.
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

	// Idle has, for each threshold of CompareOptions.IdleDays, the active
	// licensed and view-only memberships of people in the console idle by
	// its last-activity column; nil when the export has none. Judged counts
	// those memberships whose activity is known, ActivityUnknown those whose
	// cell was not understood, which are never idle. The console knows
	// nothing of paused licences, so a paused seat may count as idle.
	Idle                    []IdleSeats
	Judged, ActivityUnknown int
	SeatPrice               *float64 // CompareOptions.SeatPrice
	Now                     time.Time

	console *Console
	api     []apiSide // by console member
	// spool holds the memberships only in the API, in the roster's order,
	// then the one each matched member's finding shows.
	spool *spool
}

// apiSide is what the API says of one console member.
type apiSide struct {
	at               int64 // in the spool, + 1, of the membership its finding shows; 0 for none
	active, inactive uint8 // memberships, counted up to 2: more says nothing new
	disagree         bool
}

// CompareOptions are how Compare judges idle seats.
type CompareOptions struct {
	Now      time.Time
	IdleDays []int // thresholds, as the config's audit_log.idle_days
	// SeatPrice is what a licensed seat costs a month (the workspace's
	// seat_price); nil when not configured.
	SeatPrice *float64
}

// IdleSeats are the memberships idle for at least Days.
type IdleSeats struct {
	Days               int
	Licensed, ViewOnly int
}

// MonthlyCost is what the idle licensed seats cost a month, when the
// workspace has a seat_price. View-only seats are not priced: seat_price is
// a licensed seat's, as the dashboard's idle cost has it.
func (r *Report) MonthlyCost(s IdleSeats) (cost float64, priced bool) {
	if r.SeatPrice == nil {
		return 0, false
	}
	return float64(s.Licensed) * *r.SeatPrice, true
}

// Differences is what makes the two sides differ; 0 means they agree.
func (r *Report) Differences() int { return r.Disagree + r.OnlyAPI + r.OnlyConsole }

// Compare compares a workspace's roster with the console's export, and
// judges its idle seats when the export has a last-activity column. each
// reads the roster's rows, the same in the same order at every call (as a
// roster.Listing's Each does): Compare reads them twice, first to count
// each console member's memberships, then to keep the one its finding
// shows, so that it holds no membership in memory.
func Compare(w asana.Workspace, console *Console, each func(func(roster.Entry) error) error, opts CompareOptions) (*Report, error) {
	s, err := newSpool()
	if err != nil {
		return nil, err
	}
	r := &Report{Workspace: w, ConsoleMembers: console.Len(), ConsoleByKind: map[string]int{}, SeatPrice: opts.SeatPrice, Now: opts.Now,
		console: console, api: make([]apiSide, console.Len()), spool: s}
	if console.ActivityColumn != "" {
		r.Idle = make([]IdleSeats, len(opts.IdleDays))
		for i, d := range opts.IdleDays {
			r.Idle[i].Days = d
		}
	}
	if err := r.compare(each); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Report) compare(each func(func(roster.Entry) error) error) error {
	err := each(func(e roster.Entry) error {
		r.APIMemberships++
		r.APIByState[e.State]++
		if i := r.console.Find(e.UserEmail); i >= 0 {
			r.MatchedMemberships++
			a := &r.api[i]
			if e.State == asana.Inactive {
				a.inactive = min(a.inactive+1, 2)
			} else {
				a.active = min(a.active+1, 2)
			}
			r.countIdle(i, e)
			return nil
		}
		if e.State == asana.Inactive {
			r.InactiveAbsent++
			return nil
		}
		r.OnlyAPI++
		_, err := r.spool.add(e)
		return err
	})
	if err != nil {
		return err
	}
	for i, a := range r.api {
		kind := "unknown"
		if t := r.console.typeOf(i); t.known {
			kind = t.kind.String()
		}
		r.ConsoleByKind[kind]++
		switch {
		case a.active+a.inactive == 0:
			r.OnlyConsole++
		case a.active > 0 && a.inactive > 0:
			r.Readded++
		}
	}
	if r.Matched = r.ConsoleMembers - r.OnlyConsole; r.Matched == 0 {
		return nil
	}
	err = each(func(e roster.Entry) error {
		i := r.console.Find(e.UserEmail)
		if i < 0 {
			return nil
		}
		// The finding shows the first active membership, or the first
		// inactive one when none is active.
		a := &r.api[i]
		if a.at != 0 || (a.active > 0) == (e.State == asana.Inactive) {
			return nil
		}
		at, err := r.spool.add(e)
		a.at = at + 1
		if a.disagree = matched(r.console.Member(i), a, e).Kind == Disagree; a.disagree {
			r.Disagree++
		} else {
			r.Agree++
		}
		return err
	})
	if err == nil && r.Agree+r.Disagree != r.Matched {
		err = fmt.Errorf("the roster read back differently the second time (%d of %d people found again)", r.Agree+r.Disagree, r.Matched)
	}
	return err
}

// countIdle counts e, a membership of the console's member i, in the idle
// seats it is one of.
func (r *Report) countIdle(i int, e roster.Entry) {
	if r.Idle == nil || (e.State != asana.Licensed && e.State != asana.ViewOnly) {
		return
	}
	seat, known := r.seat(i, e)
	if !known {
		r.ActivityUnknown++
		return
	}
	r.Judged++
	for k := range r.Idle {
		switch s := &r.Idle[k]; {
		case !idle.Is(seat, r.Now, s.Days):
		case e.State == asana.Licensed:
			s.Licensed++
		default:
			s.ViewOnly++
		}
	}
}

// seat is e, a membership of the console's member i, as the idle rule sees
// it by the console's last activity; known is false when that is unknown.
// The console says nothing of paused licences.
func (r *Report) seat(i int, e roster.Entry) (s idle.Seat, known bool) {
	at, known := r.console.LastActivity(i)
	return idle.Seat{State: e.State, CreatedAt: e.CreatedAt, Since: at}, known
}

// order is the findings': differences first.
var order = [...]Kind{Disagree, OnlyAPI, OnlyConsole, Match}

// Findings calls fn with every finding, differences first.
func (r *Report) Findings(fn func(Finding) error) error {
	for _, kind := range order {
		if err := r.Each(kind, fn); err != nil {
			return err
		}
	}
	return nil
}

// Each calls fn with the findings of one kind: in the console's order for
// its members, in the roster's for memberships only in the API.
func (r *Report) Each(kind Kind, fn func(Finding) error) error {
	if kind == OnlyAPI {
		return r.spool.read(0, r.OnlyAPI, func(e roster.Entry) error {
			return fn(Finding{Kind: OnlyAPI, Email: e.UserEmail, Name: e.UserName, APIState: e.State.String(),
				MembershipGID: e.MembershipGID, Note: onlyAPINote(e)})
		})
	}
	for i, a := range r.api {
		var err error
		switch listed := a.at != 0; {
		case kind == OnlyConsole && !listed:
			m := r.console.Member(i)
			err = fn(Finding{Kind: OnlyConsole, Email: m.Email, ConsoleType: m.Type, ConsoleLine: m.Line,
				LastActivity: m.LastActivity, ActivityKnown: m.ActivityKnown,
				Note: "the API lists no membership for this email in this workspace: removed since the export, a different email, or another workspace"})
		case kind != OnlyConsole && listed && a.disagree == (kind == Disagree):
			err = r.spool.read(a.at-1, 1, func(e roster.Entry) error {
				f := matched(r.console.Member(i), &a, e)
				if seat, known := r.seat(i, e); known && r.Idle != nil {
					var d time.Duration
					d, f.IdleJudged = idle.For(seat, r.Now)
					f.IdleDays = idle.Days(d)
				}
				return fn(f)
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close removes the report's temporary file.
func (r *Report) Close() { r.spool.close() }

func onlyAPINote(e roster.Entry) string {
	switch {
	case e.UserEmail == "":
		return "the API gave no email for this member"
	case e.State == asana.Licensed:
		return "a pending invite? The Members tab leaves invitees out, the API counts them as active, and Asana bills them"
	}
	return ""
}

// matched is the finding for a console member the API has memberships
// for, e being the one it shows.
func matched(m Member, a *apiSide, e roster.Entry) Finding {
	f := Finding{Kind: Match, Email: e.UserEmail, Name: e.UserName, APIState: e.State.String(),
		ConsoleType: m.Type, ConsoleLine: m.Line, MembershipGID: e.MembershipGID,
		LastActivity: m.LastActivity, ActivityKnown: m.ActivityKnown}
	switch {
	case a.active == 0:
		f.Kind = Disagree
		f.Note = "the API says the membership is inactive (removed or deactivated) and the console lists them: an export older than the removal?"
	case m.Known && m.Kind != e.State:
		f.Kind = Disagree
		f.Note = disagreement(m.Kind, e.State, e.Domain)
	case m.Pending:
		f.Note = "a pending invite in the console; the API counts it as active"
	}
	switch {
	case a.active > 1:
		f.Note = join(f.Note, "two or more active memberships for one email")
	case a.active > 0 && a.inactive > 0:
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
