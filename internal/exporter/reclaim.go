package exporter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// ReclaimOptions are the reclaim commands' flags.
type ReclaimOptions struct {
	// IdleDays proposes the seats idle that many days (--idle); 0: not.
	IdleDays int
	// OutsideDomains proposes licensed members outside the email domains.
	OutsideDomains bool
	Exclude        string   // --exclude: emails or user gids never to touch
	ConsoleExport  string   // --console-export: last activity where the audit log cannot tell
	Workspaces     []string // --workspace; none: those the exporter collects
	Output         string   // plan: the plan file to write
	BOM            bool
	Plan           string // apply: the plan file to read
	Journal        string // apply, undo: the journal
	Yes            bool   // apply, undo: act
	Max            int    // apply, undo: actions at most per run
	MaxAge         time.Duration
	Timeout        time.Duration // bounds the listings and the re-checks
	Now            time.Time     // zero: the time the command runs
}

func (o *ReclaimOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// ReclaimPlan is reclaim plan: it lists the workspaces' rosters, proposes
// the seats the criteria name, and writes them to the plan file, whole or
// not at all. It changes nothing in Asana. Its summary goes to errOut.
func (e *Exporter) ReclaimPlan(ctx context.Context, o ReclaimOptions, errOut io.Writer) error {
	switch {
	case o.IdleDays == 0 && !o.OutsideDomains:
		return errors.New("reclaim plan needs a criterion: --idle=DURATION (e.g. 60d), --outside-domains, or both")
	case o.Output == "":
		return errors.New("reclaim plan needs --output=FILE: the plan that a person reviews and reclaim apply reads")
	}
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	exclusions, err := readExclusions(o.Exclude)
	if err != nil {
		return err
	}
	targets, v, err := e.seatTargets(ctx, o.Workspaces)
	if err != nil {
		return err
	}
	var gids []string
	for _, w := range targets.all() {
		gids = append(gids, w.GID)
	}
	actors, err := e.actors(ctx, &v, gids)
	if err != nil {
		return err
	}
	listings, _, err := e.listSeats(ctx, targets, SeatsOptions{IdleDays: o.IdleDays, ConsoleExport: o.ConsoleExport, Now: o.Now},
		roster.ListOptions{}, errOut)
	if err != nil {
		return err
	}
	defer listings.Close()
	if failed := listings.Failed(); len(failed) > 0 {
		return fmt.Errorf("%d of %d workspace(s) could not be listed; %s was not written", len(failed), len(listings), o.Output)
	}
	plannedAt := o.now().UTC().Truncate(time.Second)
	var rows []reclaim.Row
	var totals reclaim.Totals
	for _, l := range listings {
		// Never the user of the token that would remove them.
		actor, err := actors(l.Workspace.GID)
		if err != nil {
			return err
		}
		criteria := reclaim.Criteria{IdleDays: o.IdleDays, OutsideDomains: o.OutsideDomains, Exclusions: exclusions, Self: actor.User.GID}
		w := reclaim.Workspace{GID: l.Workspace.GID, Name: l.Workspace.Name}
		if c := e.config.Get().Workspace(w.GID); c != nil {
			w.MonthlyPrice = c.SeatPrice
		}
		err = l.Each(func(entry roster.Entry) error {
			row, skip, ok := criteria.Judge(w, entry, plannedAt)
			totals.Add(row, skip, ok)
			if ok {
				rows = append(rows, row)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("workspace %s: reading its roster back: %w", w.GID, err)
		}
	}
	if err := reclaim.WritePlan(o.Output, rows, o.BOM); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	describePlan(errOut, totals, o)
	return nil
}

// describePlan says on errOut how many seats the plan proposes and why,
// which were kept and why, and what removing them saves.
func describePlan(errOut io.Writer, t reclaim.Totals, o ReclaimOptions) {
	reasons := map[reclaim.Reason]string{
		reclaim.ReasonIdle:    fmt.Sprintf("idle %d days or more", o.IdleDays),
		reclaim.ReasonBoth:    fmt.Sprintf("idle %d days or more and outside the email domains", o.IdleDays),
		reclaim.ReasonOutside: "outside the email domains, to review",
	}
	var why []string
	for _, r := range []reclaim.Reason{reclaim.ReasonIdle, reclaim.ReasonBoth, reclaim.ReasonOutside} {
		if n := t.ByReason[r]; n > 0 {
			why = append(why, fmt.Sprintf("%d %s", n, reasons[r]))
		}
	}
	fmt.Fprintf(errOut, "%s: the plan in %s proposes %d seat(s) to remove and %d to review in the Admin Console", Program, o.Output, t.Remove, t.Review)
	if len(why) > 0 {
		fmt.Fprintf(errOut, " (%s)", strings.Join(why, "; "))
	}
	fmt.Fprintln(errOut)
	var kept []string
	for _, s := range []reclaim.Skip{reclaim.SkipAdmin, reclaim.SkipSelf, reclaim.SkipExcluded, reclaim.SkipPaused, reclaim.SkipYoung} {
		if n := t.Kept[s]; n > 0 {
			kept = append(kept, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(errOut, "%s: kept although they meet a criterion: %s\n", Program, strings.Join(kept, ", "))
	}
	if t.Remove > 0 {
		fmt.Fprintf(errOut, "%s: removing them saves %.2f a month, %.2f a year", Program, t.Monthly, 12*t.Monthly)
		if t.ViewOnly > 0 {
			fmt.Fprintf(errOut, " (%d view-only seat(s) count as 0: seat_price is a full seat's)", t.ViewOnly)
		}
		if t.Unpriced > 0 {
			fmt.Fprintf(errOut, " (%d seat(s) have no seat_price in the config and count as 0)", t.Unpriced)
		}
		fmt.Fprintln(errOut)
	}
	fmt.Fprintf(errOut, "%s: review the plan, delete the rows of anyone to keep, then: %s reclaim apply --plan=%s --journal=FILE (a dry run; add --yes to act)\n",
		Program, Program, o.Output)
}

// ReclaimApply is reclaim apply: it re-checks and removes the members the
// plan still holds, at most --max, journalling each action. Without --yes
// it only says what it would do. What it did goes to out, its summary and
// errors to errOut.
func (e *Exporter) ReclaimApply(ctx context.Context, o ReclaimOptions, out, errOut io.Writer) error {
	if o.Plan == "" || o.Journal == "" {
		return errors.New("reclaim apply needs --plan=FILE (from reclaim plan) and --journal=FILE (where every action is recorded)")
	}
	rows, err := reclaim.ReadPlan(o.Plan)
	if err != nil {
		return err
	}
	listCtx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	// What each token sees, listed once for who acts and the re-check.
	v, err := e.visibility(listCtx)
	if err != nil {
		return err
	}
	j, run, err := e.begin(listCtx, o, &v, rows, out)
	if err != nil {
		return err
	}
	defer j.Close()
	current, err := e.currentMembers(listCtx, v, rows, o, errOut)
	if err != nil {
		return err
	}
	outcome, err := reclaim.Apply(ctx, j, rows, reclaim.ApplyOptions{Run: run, MaxAge: o.MaxAge, Current: current})
	describeRun(errOut, "remove", "removed", outcome, o)
	return err
}

// currentMembers lists the rosters of the plan's workspaces that a token
// sees (each on its organisation's), judged by the same idle rule as the
// plan, by membership gid. A workspace no token sees leaves its rows
// unlisted, and so skipped.
func (e *Exporter) currentMembers(ctx context.Context, v visibility, rows []reclaim.Row, o ReclaimOptions, errOut io.Writer) (map[string]roster.Entry, error) {
	targets := make(targets, len(v.orgs))
	for i, org := range v.orgs {
		targets[i].org = org
	}
	threshold, listed := 0, 0
	for _, r := range rows {
		threshold = max(threshold, r.IdleThresholdDays)
		org, w, ok := e.owner(v, r.WorkspaceGID)
		if !ok || r.Action != reclaim.ActionRemove {
			continue
		}
		t := &targets[slices.Index(v.orgs, org)]
		if !slices.ContainsFunc(t.workspaces, func(w asana.Workspace) bool { return w.GID == r.WorkspaceGID }) {
			t.workspaces = append(t.workspaces, w)
			listed++
		}
	}
	current := map[string]roster.Entry{}
	if listed == 0 {
		return current, nil
	}
	listings, _, err := e.listSeats(ctx, targets, SeatsOptions{IdleDays: threshold, ConsoleExport: o.ConsoleExport, Now: o.Now},
		roster.ListOptions{}, errOut)
	if err != nil {
		return nil, fmt.Errorf("re-checking the plan's members (its idle rows were planned with --idle=%dd): %w", threshold, err)
	}
	defer listings.Close()
	if failed := listings.Failed(); len(failed) > 0 {
		return nil, fmt.Errorf("%d of %d workspace(s) could not be listed, so their members cannot be re-checked; nothing was changed", len(failed), len(listings))
	}
	for _, l := range listings {
		if err := l.Each(func(entry roster.Entry) error { current[entry.MembershipGID] = entry; return nil }); err != nil {
			return nil, fmt.Errorf("workspace %s: reading its roster back: %w", l.Workspace.GID, err)
		}
	}
	return current, nil
}

// ReclaimUndo is reclaim undo: it adds back the members the journal says
// were removed, at most --max, journalling each action.
func (e *Exporter) ReclaimUndo(ctx context.Context, o ReclaimOptions, out, errOut io.Writer) error {
	if o.Journal == "" {
		return errors.New("reclaim undo needs --journal=FILE, the journal reclaim apply wrote")
	}
	j, run, err := e.begin(ctx, o, nil, nil, out)
	if err != nil {
		return err
	}
	defer j.Close()
	outcome, err := reclaim.Undo(ctx, j, run)
	describeRun(errOut, "add back", "added back", outcome, o)
	if outcome.Done > 0 {
		fmt.Fprintf(errOut, "%s: in an organisation Asana sends each person an invitation: the seat is taken again at once, and their access "+
			"returns when they accept it. Tasks and projects reassigned at the removal stay with their new owner.\n", Program)
	}
	return err
}

// begin starts an apply or undo run: its exclude list, its journal (only
// read for a dry run) and who acts in each workspace of the plan's rows
// and the journal: the user of the credential of its organisation, chosen
// by v (see actors). The caller closes the journal.
func (e *Exporter) begin(ctx context.Context, o ReclaimOptions, v *visibility, rows []reclaim.Row, report io.Writer) (*reclaim.Journal, reclaim.Run, error) {
	exclusions, err := readExclusions(o.Exclude)
	if err != nil {
		return nil, reclaim.Run{}, err
	}
	j, err := openJournal(o)
	if err != nil {
		return nil, reclaim.Run{}, err
	}
	actors, err := e.actors(ctx, v, journalled(rows, j))
	if err != nil {
		j.Close()
		return nil, reclaim.Run{}, err
	}
	return j, reclaim.Run{ID: runID(), Actors: actors, Yes: o.Yes, Max: o.Max, Exclusions: exclusions, Now: time.Now, Report: report}, nil
}

// journalled are the workspaces of the plan's rows and the journal's
// entries: those a run may act on.
func journalled(rows []reclaim.Row, j *reclaim.Journal) []string {
	var gids []string
	for _, r := range rows {
		gids = append(gids, r.WorkspaceGID)
	}
	for _, e := range j.Entries() {
		gids = append(gids, e.WorkspaceGID)
	}
	slices.Sort(gids)
	return slices.Compact(gids)
}

// describeRun says on errOut what an apply or undo did, or would do.
func describeRun(errOut io.Writer, verb, done string, r reclaim.Outcome, o ReclaimOptions) {
	if !o.Yes {
		fmt.Fprintf(errOut, "%s: dry run: would %s %d member(s) and skip %d", Program, verb, r.Done, r.Skipped)
	} else {
		fmt.Fprintf(errOut, "%s: %s %d member(s), skipped %d, failed %d", Program, done, r.Done, r.Skipped, r.Failed)
	}
	if r.Review > 0 {
		fmt.Fprintf(errOut, ", %d left for review in the Admin Console", r.Review)
	}
	if r.Monthly > 0 {
		fmt.Fprintf(errOut, "; their seats cost %.2f a month", r.Monthly)
	}
	fmt.Fprintln(errOut)
	if r.Left > 0 {
		fmt.Fprintf(errOut, "%s: %d member(s) not reached (at most --max=%d a run, or the run stopped): run it again to go on\n", Program, r.Left, maxOr(o.Max))
	}
	if !o.Yes && r.Done > 0 {
		fmt.Fprintf(errOut, "%s: nothing was changed; add --yes to act\n", Program)
	}
}

func maxOr(n int) int {
	if n <= 0 {
		return reclaim.DefaultMax
	}
	return n
}

// openJournal opens --journal for a run; for a dry run (no --yes) only
// reads it, since a dry run writes nothing.
func openJournal(o ReclaimOptions) (*reclaim.Journal, error) {
	if !o.Yes {
		return reclaim.ViewJournal(o.Journal)
	}
	return reclaim.OpenJournal(o.Journal)
}

func readExclusions(path string) (reclaim.Exclusions, error) {
	if path == "" {
		return reclaim.Exclusions{}, nil
	}
	x, err := reclaim.ReadExclusions(path)
	if err != nil {
		return x, fmt.Errorf("--exclude: %w", err)
	}
	return x, nil
}

// withTimeout bounds ctx by d, a command's --timeout; 0 is no bound.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// runID names one run in the journal.
func runID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
