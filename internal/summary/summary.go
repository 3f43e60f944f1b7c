// Package summary is the renewal summary of seats --summary: one page per
// workspace for whoever pays for Asana, built from the roster's entries and
// written as a table, CSV, JSON or a self-contained HTML page.
//
// Per workspace, from its roster (roster.Entry) and its configuration:
//
//   - purchased: seats_purchased from the config; unknown without it.
//   - licensed, view_only, guests: the memberships in each state.
//   - paused: licensed members whose licence is paused from billing; known
//     only with the audit log, the one source that tells it.
//   - billed = licensed − paused; unknown when paused is.
//   - licensed_outside_domains: licensed members whose email is outside the
//     workspace's email domains; unknown for a workspace without domains.
//   - idle at each threshold of n days (audit_log.idle_days): licensed and
//     view-only seats with IdleDays >= n, by the idle rule (package idle),
//     counted apart. Unknown without a source of last activity, and for a
//     threshold reaching back further than the source's history (as the
//     metric asana_workspace_seats_idle leaves such a threshold out).
//   - idle_monthly_cost = licensed seats idle at the priced threshold (60
//     days, or --idle) × seat_price. Only licensed seats are priced:
//     seat_price is what a full seat costs, as the dashboard prices them.
//     Unknown without seat_price or without the idle count.
//   - days_to_renewal = ⌈(00:00 UTC of renewal_date − now) ÷ 1 day⌉, 0
//     once that moment has passed; unknown without a renewal date.
//   - idle_cost_to_renewal = idle_monthly_cost × days_to_renewal ÷ (365/12),
//     the cost of keeping the idle seats until the renewal at an average
//     month's length; unknown when either factor is.
//   - reclaimed_seats, reclaimed_monthly_saving: the members reclaim apply
//     removed and undo has not added back, and their monthly price as the
//     plan priced them, from the reclaim journal; left out without one.
//
// Money is computed unrounded and shown rounded to the cent. The summary
// also names the idle seats' people, the idlest first, at most MaxPeople.
package summary

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// DefaultPricedDays is the idle threshold whose seats are priced unless
// --idle gives another: the dashboard's "idle seats cost a month" panel
// prices seats idle 60 days, and so does the alert on the renewal.
const DefaultPricedDays = 60

// MaxPeople bounds the idle seats the summary names: it keeps them in
// memory while a roster of any size streams by, and a page of 10,000 rows
// is a few megabytes that a browser still opens and prints. Beyond it the
// least idle are left out, and the summary says how many; seats --idle
// lists them all.
const MaxPeople = 10_000

// daysPerMonth is an average month: the cost of keeping a seat for d days
// is its monthly price × d ÷ daysPerMonth.
const daysPerMonth = 365.0 / 12

// Workspace is what the summary knows of a workspace besides its roster.
type Workspace struct {
	GID, Name string
	Purchased *int     // seats_purchased; nil when not configured
	SeatPrice *float64 // seat_price, a month; nil when not configured
	// Renewal is the day the contract renews (its date in UTC counts);
	// nil when not configured.
	Renewal *time.Time
	// Organization is whether the workspace is an organisation, which
	// alone has an audit log.
	Organization bool
	// Domains is whether the workspace has email domains to tell members
	// outside them by.
	Domains bool
	// PausedKnown is whether a source tells paused licences (the audit
	// log).
	PausedKnown bool
	// ActivityKnown is whether a source of last activity judged the
	// seats (the audit log or a console export).
	ActivityKnown bool
	// ActivitySince is how far back that source sees (the audit log's
	// history start); zero for no limit. A threshold reaching back further
	// is unknown.
	ActivitySince time.Time
	// Reclaimed is what reclaim freed in the workspace, by its journal;
	// nil without a journal.
	Reclaimed *reclaim.Reclaimed
}

// Options are what the summary is judged by.
type Options struct {
	// Thresholds are the idle thresholds in days (audit_log.idle_days).
	Thresholds []int
	// PricedDays is the threshold whose idle licensed seats are priced:
	// DefaultPricedDays, or --idle.
	PricedDays int
	// Now is when days are counted to.
	Now time.Time
	// Reclaim is whether the workspaces carry the reclaim journal's
	// numbers (Workspace.Reclaimed): without a journal the summary has no
	// such columns.
	Reclaim bool
}

// Idle is the seats idle at one threshold; nil counts are unknown.
type Idle struct {
	Days               int
	Licensed, ViewOnly *int
}

// Numbers are one workspace's summary; a nil pointer is unknown.
type Numbers struct {
	Workspace
	Licensed, ViewOnly, Guests int
	Paused, Billed, Outside    *int
	Idle                       []Idle // by Options.Thresholds, in order
	// PricedIdle are the licensed seats idle at Options.PricedDays.
	PricedIdle    *int
	MonthlyCost   *float64
	DaysToRenewal *int
	CostToRenewal *float64
}

// Person is an idle seat and who holds it.
type Person struct {
	WorkspaceGID, WorkspaceName string
	Name, Email                 string
	State                       asana.State
	IdleDays                    int
	Source                      string // roster.SourceAuditLog or roster.SourceConsoleExport
	// MonthlyPrice is seat_price for a licensed seat; nil for a view-only
	// one or without a price.
	MonthlyPrice *float64
}

// Summary is the whole summary, ready to write.
type Summary struct {
	Options
	Workspaces []Numbers
	// ListDays is how idle a seat is to be named in People: the smallest
	// threshold, or PricedDays if smaller.
	ListDays int
	// People are the seats idle ListDays or more, the idlest first.
	People []Person
	// PeopleLeftOut is how many idle seats MaxPeople left out of People.
	PeopleLeftOut int
	// Notes say why a number is unknown and what is left out, naming the
	// workspaces and never a person.
	Notes []string
}

// Builder adds up the workspaces' entries, keeping no more than the idle
// people (at most MaxPeople).
type Builder struct {
	opts       Options
	listDays   int // an entry idle this long is named in People
	workspaces []*counts
	people     peopleHeap
	idleSeen   int // idle seats found, kept or not
	seq        int
}

// counts are a workspace's running totals.
type counts struct {
	w                                           Workspace
	licensed, viewOnly, guests, paused, outside int
	idleLicensed, idleViewOnly                  []int // by Options.Thresholds
	pricedIdle                                  int
}

// New starts a summary judged by opts.
func New(opts Options) *Builder {
	opts.Thresholds = slices.Clone(opts.Thresholds)
	listDays := opts.PricedDays
	if len(opts.Thresholds) > 0 {
		listDays = min(listDays, slices.Min(opts.Thresholds))
	}
	return &Builder{opts: opts, listDays: listDays}
}

// WorkspaceAdder adds one workspace's roster entries to the summary.
type WorkspaceAdder struct {
	b *Builder
	c *counts
}

// Workspace starts w's part of the summary; give it every entry of w's
// roster.
func (b *Builder) Workspace(w Workspace) *WorkspaceAdder {
	c := &counts{w: w, idleLicensed: make([]int, len(b.opts.Thresholds)), idleViewOnly: make([]int, len(b.opts.Thresholds))}
	b.workspaces = append(b.workspaces, c)
	return &WorkspaceAdder{b: b, c: c}
}

// Add counts one entry. It never fails; its error is for roster.Listing.Each.
func (a *WorkspaceAdder) Add(e roster.Entry) error {
	c := a.c
	switch e.State {
	case asana.Licensed:
		c.licensed++
		if e.LicensePaused {
			c.paused++
		}
		if e.Domain == asana.Outside.String() {
			c.outside++
		}
	case asana.ViewOnly:
		c.viewOnly++
	case asana.Guest:
		c.guests++
	}
	if e.IdleDays < 0 || (e.State != asana.Licensed && e.State != asana.ViewOnly) {
		return nil
	}
	for i, d := range a.b.opts.Thresholds {
		if e.IdleDays >= d {
			if e.State == asana.Licensed {
				c.idleLicensed[i]++
			} else {
				c.idleViewOnly[i]++
			}
		}
	}
	if e.State == asana.Licensed && e.IdleDays >= a.b.opts.PricedDays {
		c.pricedIdle++
	}
	if e.IdleDays >= a.b.listDays {
		p := Person{WorkspaceGID: c.w.GID, WorkspaceName: c.w.Name, Name: e.UserName, Email: e.UserEmail,
			State: e.State, IdleDays: e.IdleDays, Source: e.ActivitySource}
		if e.State == asana.Licensed {
			p.MonthlyPrice = c.w.SeatPrice
		}
		a.b.keep(p)
	}
	return nil
}

// keep adds p to the people named, leaving out the least idle beyond
// MaxPeople.
func (b *Builder) keep(p Person) {
	b.idleSeen++
	b.seq++
	k := kept{Person: p, seq: b.seq}
	switch {
	case len(b.people) < MaxPeople:
		heap.Push(&b.people, k)
	case b.people.less(b.people[0], k):
		b.people[0] = k
		heap.Fix(&b.people, 0)
	}
}

// kept is a person and the order they came in, so that ties keep Asana's
// order.
type kept struct {
	Person
	seq int
}

// peopleHeap has the person to leave out first at its root: the least
// idle, and of those the last to come.
type peopleHeap []kept

func (h peopleHeap) less(a, b kept) bool {
	if a.IdleDays != b.IdleDays {
		return a.IdleDays < b.IdleDays
	}
	return a.seq > b.seq
}
func (h peopleHeap) Len() int           { return len(h) }
func (h peopleHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h peopleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *peopleHeap) Push(x any)        { *h = append(*h, x.(kept)) }
func (h *peopleHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Summary is the summary of every workspace added, in the order added.
func (b *Builder) Summary() *Summary {
	s := &Summary{Options: b.opts, ListDays: b.listDays, PeopleLeftOut: b.idleSeen - len(b.people)}
	notes := &notes{}
	for _, c := range b.workspaces {
		s.Workspaces = append(s.Workspaces, b.numbers(c, notes))
	}
	people := slices.Clone(b.people)
	slices.SortFunc(people, func(x, y kept) int {
		if x.IdleDays != y.IdleDays {
			return y.IdleDays - x.IdleDays
		}
		return x.seq - y.seq
	})
	for _, k := range people {
		s.People = append(s.People, k.Person)
	}
	s.Notes = notes.lines()
	if s.PeopleLeftOut > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("The idle seats listed are the %d idlest of %d; seats --idle=%dd lists them all.",
			len(s.People), b.idleSeen, b.listDays))
	}
	return s
}

// numbers works out c's summary, and notes why a number is unknown.
func (b *Builder) numbers(c *counts, n *notes) Numbers {
	w := c.w
	out := Numbers{Workspace: w, Licensed: c.licensed, ViewOnly: c.viewOnly, Guests: c.guests}
	name := fmt.Sprintf("%s (%s)", w.Name, w.GID)
	if w.Purchased == nil {
		n.add("Seats purchased are unknown for %s: set seats_purchased for the workspace in the config file.", name)
	}
	switch {
	case w.PausedKnown:
		out.Paused, out.Billed = ptr(c.paused), ptr(c.licensed-c.paused)
	case !w.Organization:
		n.add("Paused and billed seats are unknown for %s: only the audit log tells paused licences, and a workspace that is "+
			"not an organisation has none.", name)
	default:
		n.add("Paused and billed seats are unknown for %s: only the audit log tells paused licences (audit_log.enabled in the config, "+
			"Enterprise+ with a service account).", name)
	}
	if w.Domains {
		out.Outside = ptr(c.outside)
	} else {
		n.add("Licensed members outside the email domains are unknown for %s: the workspace has no email domains.", name)
	}
	known := func(days int) bool {
		return w.ActivityKnown && (w.ActivitySince.IsZero() || !w.ActivitySince.After(b.opts.Now.Add(-time.Duration(days)*idle.Day)))
	}
	switch {
	case w.ActivityKnown:
	case !w.Organization:
		n.add("Idle seats and their cost are unknown for %s: a workspace that is not an organisation has no audit log; "+
			"--console-export=FILE (the Admin Console's members export) can give its members' last activity.", name)
	default:
		n.add("Idle seats and their cost are unknown for %s: no record of last activity: turn on audit_log.enabled in the config "+
			"(Enterprise+, with a service account) or give --console-export=FILE (the Admin Console's members export, every plan).", name)
	}
	for i, d := range b.opts.Thresholds {
		idle := Idle{Days: d}
		if known(d) {
			idle.Licensed, idle.ViewOnly = ptr(c.idleLicensed[i]), ptr(c.idleViewOnly[i])
		} else if w.ActivityKnown {
			n.add(fmt.Sprintf("Seats idle %d days are unknown for %%s: the audit log's history reaches back only to %s.",
				d, w.ActivitySince.UTC().Format(time.DateOnly)), name)
		}
		out.Idle = append(out.Idle, idle)
	}
	if known(b.opts.PricedDays) {
		out.PricedIdle = ptr(c.pricedIdle)
	} else if w.ActivityKnown && !slices.Contains(b.opts.Thresholds, b.opts.PricedDays) {
		n.add(fmt.Sprintf("Seats idle %d days, and so their cost, are unknown for %%s: the audit log's history reaches back only to %s.",
			b.opts.PricedDays, w.ActivitySince.UTC().Format(time.DateOnly)), name)
	}
	switch {
	case w.SeatPrice == nil:
		n.add("The idle seats' cost is unknown for %s: set seat_price for the workspace in the config file.", name)
	case out.PricedIdle != nil:
		out.MonthlyCost = ptr(float64(*out.PricedIdle) * *w.SeatPrice)
	}
	if w.Renewal == nil {
		n.add("Days to the renewal are unknown for %s: set renewal_date for the workspace in the config file.", name)
	} else {
		out.DaysToRenewal = ptr(DaysTo(*w.Renewal, b.opts.Now))
		if out.MonthlyCost != nil {
			out.CostToRenewal = ptr(CostUntil(*out.MonthlyCost, *out.DaysToRenewal))
		}
	}
	return out
}

// DaysTo is how many days are left at now until 00:00 UTC of day's date
// (in UTC), rounded up: 1 until the last moment of the day before, 0 from
// that midnight on.
func DaysTo(day, now time.Time) int {
	y, m, d := day.UTC().Date()
	left := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(now)
	if left <= 0 {
		return 0
	}
	return int((left + idle.Day - 1) / idle.Day)
}

// CostUntil is what monthly costs over days.
func CostUntil(monthly float64, days int) float64 { return monthly * float64(days) / daysPerMonth }

// Cents is a sum of money as the summary shows it: rounded to the cent,
// halves away from zero.
func Cents(v float64) string { return fmt.Sprintf("%.2f", roundCents(v)) }

func roundCents(v float64) float64 { return math.Round(v*100) / 100 }

func ptr[T any](v T) *T { return &v }

// notes gathers reasons, each with the workspaces it concerns, in the
// order first met.
type notes struct {
	reasons []string
	concern map[string][]string
}

// add notes reason (a format with one %s) for workspace name.
func (n *notes) add(reason, name string) {
	if n.concern == nil {
		n.concern = map[string][]string{}
	}
	if _, ok := n.concern[reason]; !ok {
		n.reasons = append(n.reasons, reason)
	}
	n.concern[reason] = append(n.concern[reason], name)
}

func (n *notes) lines() []string {
	var out []string
	for _, r := range n.reasons {
		out = append(out, fmt.Sprintf(r, strings.Join(n.concern[r], ", ")))
	}
	return out
}
