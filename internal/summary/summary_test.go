package summary

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

var (
	now     = time.Date(2027, 1, 1, 9, 30, 0, 0, time.UTC)
	renewal = time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC) // 88 days and 14.5 hours after now
)

// entry is a roster entry in workspace gid.
func entry(gid string, st asana.State, idleDays int, mods ...func(*roster.Entry)) roster.Entry {
	e := roster.Entry{WorkspaceGID: gid, State: st, Domain: "inside", IdleDays: idleDays, UserName: "Someone", UserEmail: "someone@acme.example"}
	if idleDays >= 0 {
		e.ActivitySource = roster.SourceAuditLog
	}
	for _, m := range mods {
		m(&e)
	}
	return e
}

func paused(e *roster.Entry) {
	e.LicensePaused, e.IdleDays, e.ActivitySource = true, -1, roster.SourceAuditLog
}
func outside(e *roster.Entry) { e.Domain = "outside" }

func named(name string) func(*roster.Entry) {
	return func(e *roster.Entry) { e.UserName, e.UserEmail = name, strings.ToLower(name)+"@acme.example" }
}

// acme is a workspace with every setting and source; its answers are
// worked out by hand below.
var acme = Workspace{GID: "1", Name: "Acme Corp", Purchased: ptr(30), SeatPrice: ptr(24.99), Renewal: &renewal,
	Organization: true, Domains: true, PausedKnown: true, ActivityKnown: true, ActivitySince: now.Add(-90 * 24 * time.Hour)}

func acmeEntries() []roster.Entry {
	return []roster.Entry{
		entry("1", asana.Licensed, 3),
		entry("1", asana.Licensed, 29),
		entry("1", asana.Licensed, 30, named("Thirty")),          // idle at 30
		entry("1", asana.Licensed, 59, named("FiftyNine")),       // idle at 30
		entry("1", asana.Licensed, 60, named("Sixty")),           // idle at 30, 60: priced
		entry("1", asana.Licensed, 90, named("Ninety"), outside), // idle at 30, 60, 90: priced
		entry("1", asana.Licensed, -1, paused),
		entry("1", asana.Licensed, -1, paused, outside),
		entry("1", asana.Licensed, 0, outside),
		entry("1", asana.ViewOnly, 61, named("Viewer")), // idle at 30, 60; not priced
		entry("1", asana.ViewOnly, 1),
		entry("1", asana.Guest, -1, outside),
		entry("1", asana.Guest, -1),
		entry("1", asana.Guest, -1),
		entry("1", asana.Inactive, -1, outside),
	}
}

func build(t *testing.T, opts Options, workspaces map[*Workspace][]roster.Entry, order ...*Workspace) *Summary {
	t.Helper()
	b := New(opts)
	for _, w := range order {
		adder := b.Workspace(*w)
		for _, e := range workspaces[w] {
			if err := adder.Add(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Summary()
}

var defaultOpts = Options{Thresholds: []int{30, 60, 90}, PricedDays: DefaultPricedDays, Now: now}

func value[T any](p *T) string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprint(*p)
}

// TestNumbersByHand: each number of a hand-built workspace, and the
// formulas of the package doc.
func TestNumbersByHand(t *testing.T) {
	s := build(t, defaultOpts, map[*Workspace][]roster.Entry{&acme: acmeEntries()}, &acme)
	n := s.Workspaces[0]
	got := fmt.Sprintf("licensed %d view-only %d guests %d paused %s billed %s outside %s priced %s",
		n.Licensed, n.ViewOnly, n.Guests, value(n.Paused), value(n.Billed), value(n.Outside), value(n.PricedIdle))
	if want := "licensed 9 view-only 2 guests 3 paused 2 billed 7 outside 3 priced 2"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var idle []string
	for _, i := range n.Idle {
		idle = append(idle, fmt.Sprintf("%d:%s+%s", i.Days, value(i.Licensed), value(i.ViewOnly)))
	}
	if got, want := strings.Join(idle, " "), "30:4+1 60:2+1 90:1+0"; got != want {
		t.Errorf("idle %s, want %s", got, want)
	}
	// 2 licensed seats idle 60 days × 24.99; 89 days to 00:00 UTC on 31
	// March (88 days and 14.5 hours, rounded up).
	if *n.MonthlyCost != 2*24.99 || *n.DaysToRenewal != 89 {
		t.Errorf("monthly cost %v, days to renewal %v; want 49.98 and 89", *n.MonthlyCost, *n.DaysToRenewal)
	}
	if want := 2 * 24.99 * 89 * 12 / 365; math.Abs(*n.CostToRenewal-want) > 1e-9 {
		t.Errorf("cost until the renewal %v, want %v", *n.CostToRenewal, want)
	}
	if got := Cents(*n.CostToRenewal); got != "146.24" {
		t.Errorf("cost until the renewal shows as %s, want 146.24", got)
	}
	var names []string
	for _, p := range s.People {
		names = append(names, fmt.Sprintf("%s:%d:%s", p.Name, p.IdleDays, value(p.MonthlyPrice)))
	}
	if got, want := strings.Join(names, " "), "Ninety:90:24.99 Viewer:61:unknown Sixty:60:24.99 FiftyNine:59:24.99 Thirty:30:24.99"; got != want {
		t.Errorf("people %s\nwant   %s", got, want)
	}
	if len(s.Notes) != 0 || s.PeopleLeftOut != 0 || s.ListDays != 30 {
		t.Errorf("notes %q, %d left out, listed from %d days; want none, 0, 30", s.Notes, s.PeopleLeftOut, s.ListDays)
	}
}

// TestPricedDays: --idle prices another threshold, one not among the
// thresholds too, and lists the people from it when it is the smaller.
func TestPricedDays(t *testing.T) {
	for _, tc := range []struct {
		days, priced, listed int
	}{{30, 4, 5}, {90, 1, 5}, {45, 3, 4}, {7, 5, 6}} {
		opts := defaultOpts
		opts.PricedDays = tc.days
		if tc.days == 45 {
			opts.Thresholds = []int{60, 90}
		}
		s := build(t, opts, map[*Workspace][]roster.Entry{&acme: acmeEntries()}, &acme)
		n := s.Workspaces[0]
		if *n.PricedIdle != tc.priced || *n.MonthlyCost != float64(tc.priced)*24.99 || len(s.People) != tc.listed {
			t.Errorf("priced at %d days: %d priced seats costing %v, %d people; want %d, %v, %d", tc.days, *n.PricedIdle, *n.MonthlyCost,
				len(s.People), tc.priced, float64(tc.priced)*24.99, tc.listed)
		}
	}
}

// TestDaysToRenewal: rounded up to whole days, counted to 00:00 UTC of the
// renewal's date, 0 from then on.
func TestDaysToRenewal(t *testing.T) {
	day := time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 89},
		{time.Date(2027, 3, 30, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(2027, 3, 30, 23, 59, 59, 0, time.UTC), 1},
		{time.Date(2027, 3, 29, 23, 59, 59, 0, time.UTC), 2},
		{day, 0},
		{day.Add(time.Hour), 0},
		{day.AddDate(1, 0, 0), 0},
		{time.Date(2027, 3, 30, 23, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)), 1}, // 21:00 UTC on the 30th
	} {
		if got := DaysTo(day, tc.now); got != tc.want {
			t.Errorf("DaysTo(%v, %v) = %d, want %d", day, tc.now, got, tc.want)
		}
	}
	// A renewal given at another time of day or in another zone counts
	// from 00:00 UTC of its date in UTC.
	if got := DaysTo(time.Date(2027, 3, 31, 15, 0, 0, 0, time.UTC), time.Date(2027, 3, 30, 12, 0, 0, 0, time.UTC)); got != 1 {
		t.Errorf("a renewal at 15:00 counts from its midnight: %d days, want 1", got)
	}
}

// TestCents: money shows rounded to the cent, halves away from zero.
func TestCents(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00", 74.97000000000001: "74.97", 0.125: "0.13", 0.375: "0.38", 1234.5: "1234.50", 10.994999: "10.99"} {
		if got := Cents(v); got != want {
			t.Errorf("Cents(%v) = %s, want %s", v, got, want)
		}
	}
	if got := CostUntil(30.4, 365); math.Abs(got-30.4*12) > 1e-9 {
		t.Errorf("a year of 30.40 a month costs %v, want %v", got, 30.4*12)
	}
}

// TestUnknowns: a renewal passed costs nothing more; without a date,
// price, audit log, domains or history the numbers that need them are
// unknown, and a note says why, naming the workspace.
func TestUnknowns(t *testing.T) {
	passed := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	late := acme
	late.GID, late.Name, late.Renewal = "2", "Late", &passed
	bare := Workspace{GID: "3", Name: "Bare", Organization: true} // nothing configured, no sources
	short := acme
	short.GID, short.Name, short.Renewal, short.SeatPrice = "4", "Short history", nil, nil
	short.ActivitySince = now.Add(-75 * 24 * time.Hour)
	plain := Workspace{GID: "5", Name: "Plain"}
	entries := map[*Workspace][]roster.Entry{&late: acmeEntries(), &bare: acmeEntries(), &short: acmeEntries(), &plain: {entry("5", asana.Licensed, -1)}}
	s := build(t, defaultOpts, entries, &late, &bare, &short, &plain)

	l := s.Workspaces[0]
	if *l.DaysToRenewal != 0 || *l.CostToRenewal != 0 || *l.MonthlyCost != 2*24.99 {
		t.Errorf("renewal passed: %d days, %v until then, %v a month; want 0, 0, 49.98", *l.DaysToRenewal, *l.CostToRenewal, *l.MonthlyCost)
	}
	b := s.Workspaces[1]
	if b.Purchased != nil || b.Paused != nil || b.Billed != nil || b.Outside != nil || b.PricedIdle != nil || b.MonthlyCost != nil ||
		b.DaysToRenewal != nil || b.CostToRenewal != nil || b.Idle[0].Licensed != nil || b.Idle[2].ViewOnly != nil || b.Licensed != 9 {
		t.Errorf("a workspace with nothing configured and no source: %+v", b)
	}
	sh := s.Workspaces[2]
	if value(sh.Idle[0].Licensed) != "4" || value(sh.Idle[1].Licensed) != "2" || sh.Idle[2].Licensed != nil || sh.Idle[2].ViewOnly != nil {
		t.Errorf("75 days of history: idle %s, %s, %s; want 4, 2 and the 90 days unknown",
			value(sh.Idle[0].Licensed), value(sh.Idle[1].Licensed), value(sh.Idle[2].Licensed))
	}
	if *sh.PricedIdle != 2 || sh.MonthlyCost != nil || sh.CostToRenewal != nil {
		t.Errorf("no price: %d priced idle seats cost %v; want 2 and unknown", *sh.PricedIdle, sh.MonthlyCost)
	}
	want := []string{
		"Seats purchased are unknown for Bare (3), Plain (5): set seats_purchased",
		"Paused and billed seats are unknown for Bare (3): only the audit log tells paused licences (audit_log.enabled",
		"Licensed members outside the email domains are unknown for Bare (3), Plain (5): the workspace has no email domains.",
		"Idle seats and their cost are unknown for Bare (3): no record of last activity: turn on audit_log.enabled",
		"The idle seats' cost is unknown for Bare (3), Short history (4), Plain (5): set seat_price",
		"Days to the renewal are unknown for Bare (3), Short history (4), Plain (5): set renewal_date",
		"Seats idle 90 days are unknown for Short history (4): the audit log's history reaches back only to 2026-10-18.",
		"Paused and billed seats are unknown for Plain (5): only the audit log tells paused licences, and a workspace that is not an organisation has none.",
		"Idle seats and their cost are unknown for Plain (5): a workspace that is not an organisation has no audit log",
	}
	if len(s.Notes) != len(want) {
		t.Fatalf("notes:\n%s", strings.Join(s.Notes, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(s.Notes[i], w) {
			t.Errorf("note %d:\n%s\nwant it to start\n%s", i, s.Notes[i], w)
		}
	}
}

// TestPeopleBounded: beyond MaxPeople the least idle are left out, the
// first come kept among equals, and the summary says how many.
func TestPeopleBounded(t *testing.T) {
	var entries []roster.Entry
	for i := range MaxPeople + 10 {
		entries = append(entries, entry("1", asana.Licensed, 30+i%7, named(fmt.Sprint(i))))
	}
	s := build(t, defaultOpts, map[*Workspace][]roster.Entry{&acme: entries}, &acme)
	if len(s.People) != MaxPeople || s.PeopleLeftOut != 10 {
		t.Fatalf("%d people, %d left out; want %d and 10", len(s.People), s.PeopleLeftOut, MaxPeople)
	}
	if *s.Workspaces[0].Idle[0].Licensed != MaxPeople+10 {
		t.Errorf("the counts left people out too: %d", *s.Workspaces[0].Idle[0].Licensed)
	}
	// 10,010 entries idle 30..36 days in turn: of the 1,430 idle 30 days,
	// the last 10 are left out.
	last := s.People[len(s.People)-1]
	if last.IdleDays != 30 || last.Name != fmt.Sprint(7*(1430-11)) {
		t.Errorf("the last person kept is %s, idle %d days; want %d, idle 30", last.Name, last.IdleDays, 7*(1430-11))
	}
	for i := 1; i < len(s.People); i++ {
		if s.People[i].IdleDays > s.People[i-1].IdleDays {
			t.Fatalf("people not the idlest first at %d", i)
		}
	}
	if n := s.Notes[len(s.Notes)-1]; n != fmt.Sprintf("The idle seats listed are the %d idlest of %d; seats --idle=30d lists them all.", MaxPeople, MaxPeople+10) {
		t.Errorf("note %q", n)
	}
}
