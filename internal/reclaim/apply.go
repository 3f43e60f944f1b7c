package reclaim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/cell"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// Asana is what apply and undo ask of the Asana client.
type Asana interface {
	WorkspaceMembership(ctx context.Context, membershipGID string, detail asana.Detail) (asana.Membership, string, error)
	RemoveUser(ctx context.Context, workspaceGID, user string) error
	AddUser(ctx context.Context, workspaceGID, user string) (asana.User, error)
}

// Actor is who acts on a workspace: the client of a credential that may,
// and that credential's own user.
type Actor struct {
	Client Asana
	User   asana.User
}

// Actors gives the actor of a workspace: with several organisations, the
// credential of the one the workspace belongs to. Its error says why none
// may act on it.
type Actors func(workspaceGID string) (Actor, error)

// DefaultMax is --max: how many members one run removes or adds back at
// most, as the open-source deprovisioning scripts cap theirs, so that a
// wrong plan does bounded harm before a person looks again.
const DefaultMax = 10

// MaxPerRun bounds --max: a person reads a plan row by row before a run,
// which a thousand rows already stretch, and undo brings a wrong removal
// back one invitation at a time.
const MaxPerRun = 1000

// DefaultMaxAge is --max-age: a plan older than this is refused, since the
// people in it may have come back to work.
const DefaultMaxAge = 7 * 24 * time.Hour

// LongestMaxAge bounds --max-age: a plan is a person's review of named
// people, and after a quarter that review (who is a VIP, who left, who
// changed role) is itself out of date, whatever the re-check finds.
const LongestMaxAge = 90 * 24 * time.Hour

// actionTimeout bounds one removal or addition and its journal line once
// begun. A signal does not cut them short: the journal must say whether
// Asana acted, so the request in flight is seen to its answer.
const actionTimeout = 2 * time.Minute

// Run is what one apply or undo needs besides the plan and the journal.
type Run struct {
	ID string // this run's id in the journal
	// Actors says who acts on each workspace; the journal records the
	// actor's user.
	Actors Actors
	Yes    bool // act; without it, say what would be done
	Max    int  // actions at most; 0 is DefaultMax
	// Exclusions are checked at each action: a list updated after the plan
	// was made still protects the people added to it, and undo does not
	// add back someone an admin has since removed on purpose.
	Exclusions Exclusions
	Now        func() time.Time
	// Report gets one line for each row: what was done, or would be, and
	// why not. It names people: it goes only where the user asked.
	Report io.Writer
}

// Outcome counts what a run did, or would do without Yes.
type Outcome struct {
	Done, Skipped, Failed, Review int
	// Left are the rows not reached because the run stopped: at --max, at
	// a signal or at an error.
	Left int
	// Monthly is the summed monthly price of the seats removed, or that
	// would be.
	Monthly float64
}

// ApplyOptions are apply's own.
type ApplyOptions struct {
	Run
	MaxAge time.Duration // 0 is DefaultMaxAge
	// Current is each member as a roster listed it when the run started,
	// by membership gid, judged by the same idle rule as the plan. A
	// planned membership missing from it is skipped.
	Current map[string]roster.Entry
}

// Apply removes the members of the plan's remove rows, each re-checked
// just before: against the current roster (still idle, still outside,
// not paused, not an admin) and by reading the membership from Asana. It
// journals every removal and every skip (with Yes) and stops at the first
// error that is not about one row, at o.Max actions, or when stop is
// closed (the removal in flight is finished and journalled first).
func Apply(ctx context.Context, j *Journal, rows []Row, o ApplyOptions) (Outcome, error) {
	o.Run = o.defaults()
	maxAge := o.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	if len(rows) > 0 {
		if age := o.Now().Sub(rows[0].PlannedAt); age > maxAge {
			return Outcome{}, fmt.Errorf("the plan was made %s ago, more than --max-age=%s: people may have come back since; make a new plan",
				age.Round(time.Hour), maxAge)
		} else if age < -time.Hour {
			return Outcome{}, fmt.Errorf("the plan's planned_at is %s in the future: it was not made by reclaim plan on this clock", (-age).Round(time.Minute))
		}
	}
	if err := o.settle(ctx, j); err != nil {
		return Outcome{}, err
	}
	removed := Removed(j.Entries())
	var out Outcome
	for i, row := range rows {
		line := i + 2 // the header is line 1
		where := fmt.Sprintf("plan line %d", line)
		if row.Action != ActionRemove {
			out.Review++
			o.say(where, row, "left for review in the Admin Console: "+reviewWhy(row))
			continue
		}
		// A removal journalled before the plan was made does not count: the
		// plan found the member again, so they were added back since.
		if e, ok := removed[Key{WorkspaceGID: row.WorkspaceGID, UserGID: row.UserGID}]; ok && !e.Time.Before(row.PlannedAt) {
			out.Skipped++
			o.say(where, row, fmt.Sprintf("already removed by run %s at %s (journal)", e.Run, e.Time.UTC().Format(time.RFC3339)))
			continue
		}
		if out.Done+out.Failed >= o.Max {
			out.Left = countRemove(rows[i:])
			break
		}
		if err := ctx.Err(); err != nil {
			out.Left = countRemove(rows[i:])
			return out, fmt.Errorf("stopped before plan line %d: %w; run apply again to go on", line, err)
		}
		why, actor, err := o.recheck(ctx, row)
		if err != nil {
			out.Left = countRemove(rows[i:])
			return out, fmt.Errorf("plan line %d: re-reading the membership: %s", line, brief(err))
		}
		if why != "" {
			out.Skipped++
			o.say(where, row, "skipped: "+why)
			if err := o.record(j, ActionRemove, ResultSkipped, row, &row, "", why); err != nil {
				return out, err
			}
			continue
		}
		if !o.Yes {
			out.Done++
			out.Monthly += row.monthly()
			o.say(where, row, "would remove: "+describe(row))
			continue
		}
		if err := room(j); err != nil {
			out.Left = countRemove(rows[i:])
			return out, err
		}
		if err := o.record(j, ActionRemove, ResultStarted, row, &row, "", ""); err != nil {
			out.Left = countRemove(rows[i:])
			return out, err
		}
		done, answer, err := o.remove(ctx, actor.Client, row)
		result := ResultDone
		if !done {
			result = ResultFailed
		}
		if jerr := o.record(j, ActionRemove, result, row, &row, answer, ""); jerr != nil {
			return out, fmt.Errorf("%w; the removal of plan line %d was asked for: the next run reads it back and journals how it ended", jerr, line)
		}
		if !done {
			out.Failed++
			out.Left = countRemove(rows[i+1:])
			o.say(where, row, "failed: "+answer)
			return out, fmt.Errorf("plan line %d: removing the member failed: %s; the journal has Asana's answer, and a rerun re-reads the member first", line, brief(err))
		}
		out.Done++
		out.Monthly += row.monthly()
		o.say(where, row, "removed: "+describe(row))
	}
	return out, nil
}

// recheck says why row must not be acted on now, or "", and who acts on
// it.
func (o *ApplyOptions) recheck(ctx context.Context, row Row) (string, Actor, error) {
	actor, err := o.Actors(row.WorkspaceGID)
	if err != nil {
		return err.Error(), actor, nil
	}
	cur, listed := o.Current[row.MembershipGID]
	switch {
	case row.UserGID == actor.User.GID:
		return string(SkipSelf), actor, nil
	case o.Exclusions.Excludes(row.UserGID, row.UserEmail) || listed && o.Exclusions.Excludes(cur.UserGID, cur.UserEmail):
		return string(SkipExcluded), actor, nil
	case !listed:
		return "the membership is not in its workspace's roster now (removed already, or not a member of this workspace)", actor, nil
	case cur.WorkspaceGID != row.WorkspaceGID || cur.UserGID != row.UserGID || !strings.EqualFold(cur.UserEmail, row.UserEmail):
		// The email is checked too: undo invites the journal's email back.
		return "the plan's workspace_gid, user_gid or user_email is not this membership's: the row was changed after the plan was made, " +
			"or the person's email has changed since", actor, nil
	}
	if why := stillHolds(row, cur); why != "" {
		return why, actor, nil
	}
	m, workspace, err := actor.Client.WorkspaceMembership(ctx, row.MembershipGID, asana.Roster)
	switch {
	case errors.Is(err, asana.ErrNotFound):
		return "Asana has no such membership", actor, nil
	case err != nil:
		return "", actor, err
	case workspace != row.WorkspaceGID || m.User.GID != row.UserGID || !strings.EqualFold(m.User.Email, row.UserEmail):
		return "Asana says the membership is another workspace's or another user's, or the user's email is not the plan's: " +
			"the row was changed after the plan was made, or the person's email has changed since", actor, nil
	}
	return stillHolds(row, roster.Entry{State: m.State(), IsAdmin: m.IsAdmin, IdleDays: cur.IdleDays, Domain: cur.Domain}), actor, nil
}

// stillHolds says why the plan's reason for row no longer holds for the
// member as cur shows them, or "".
func stillHolds(row Row, cur roster.Entry) string {
	switch {
	case cur.State == asana.Inactive:
		return "already removed (inactive)"
	case cur.State != row.State:
		return fmt.Sprintf("now %s, not %s as planned", cur.State, row.State)
	case cur.IsAdmin:
		return "now an admin"
	case cur.LicensePaused:
		return string(SkipPaused)
	case row.IdleThresholdDays > 0 && cur.IdleDays < 0:
		return "how long the seat has been idle is unknown now (no audit log, and no --console-export that lists the person)"
	case row.IdleThresholdDays > 0 && cur.IdleDays < row.IdleThresholdDays:
		return fmt.Sprintf("active since the plan: idle %d days now, under the %d-day threshold", cur.IdleDays, row.IdleThresholdDays)
	case (row.Reason == ReasonOutside || row.Reason == ReasonBoth) && cur.Domain != asana.Outside.String():
		return "the email is no longer outside the workspace's domains"
	}
	return ""
}

// settle journals how the removals that a stopped run began ended
// (Interrupted), read back from Asana: done when the membership reads
// inactive, failed when it reads active. Without it undo would not know of
// a removal made just before a crash. A dry run only says so.
func (r Run) settle(ctx context.Context, j *Journal) error {
	for _, e := range Interrupted(j.Entries()) {
		where := fmt.Sprintf("the removal begun by run %s at %s", e.Run, e.Time.UTC().Format(time.RFC3339))
		if !r.Yes {
			r.say(where, e.row(), "how it ended was never journalled: a run with --yes reads the membership back and journals it first")
			continue
		}
		actor, err := r.Actors(e.WorkspaceGID)
		if err != nil {
			return fmt.Errorf("%s: reading the membership back: %w", where, err)
		}
		m, _, err := actor.Client.WorkspaceMembership(ctx, e.MembershipGID, asana.SeatFlags)
		result, answer := ResultFailed, ""
		switch {
		case errors.Is(err, asana.ErrNotFound):
			answer = "unknown: Asana has no such membership now"
		case err != nil:
			return fmt.Errorf("%s: reading the membership back: %s", where, brief(err))
		case m.IsActive:
			answer = "not removed: the membership reads active"
		default:
			result, answer = ResultDone, "removed: the membership reads inactive"
		}
		if err := r.record(j, ActionRemove, result, e.row(), e.PlanRow, answer+" (the run that asked stopped before it journalled the end)", ""); err != nil {
			return err
		}
		r.say(where, e.row(), answer)
	}
	return nil
}

// remove asks Asana to remove row's member. When the answer is lost (a 5xx
// or a reset after the request left), it reads the membership back: an
// inactive membership means Asana acted.
func (o *ApplyOptions) remove(ctx context.Context, client Asana, row Row) (done bool, answer string, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actionTimeout)
	defer cancel()
	err = client.RemoveUser(ctx, row.WorkspaceGID, row.UserGID)
	if err == nil {
		return true, "removed", nil
	}
	if !errors.Is(err, asana.ErrOutcomeUnknown) {
		return false, err.Error(), err
	}
	m, _, rerr := client.WorkspaceMembership(ctx, row.MembershipGID, asana.SeatFlags)
	if rerr == nil && !m.IsActive {
		return true, "removed (the answer was lost; reading the membership back shows it inactive)", nil
	}
	return false, err.Error(), err
}

// room refuses to act when the journal could not record the action.
func room(j *Journal) error {
	if j.Full() {
		return errors.New("the journal is nearly full, so nothing more is done: keep it for undo, and give --journal a new file for new runs")
	}
	return nil
}

// record appends one action or skip to the journal; a dry run records
// nothing.
func (r Run) record(j *Journal, action Action, result Result, row Row, plan *Row, answer, reason string) error {
	actor, err := r.Actors(row.WorkspaceGID)
	if !r.Yes || err != nil {
		// A row that no credential may act on is only reported: the
		// journal records what a credential's user did or passed over.
		return nil
	}
	err = j.Append(Entry{
		Time: r.Now(), Run: r.ID, ActorGID: actor.User.GID, Action: action, Result: result,
		WorkspaceGID: row.WorkspaceGID, MembershipGID: row.MembershipGID, UserGID: row.UserGID,
		UserEmail: row.UserEmail, UserName: row.UserName, Answer: answer, Reason: reason, PlanRow: plan,
	})
	if err != nil {
		return fmt.Errorf("writing the journal, so stopping before the next action: %w", err)
	}
	return nil
}

func (r Run) defaults() Run {
	if r.Max <= 0 {
		r.Max = DefaultMax
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Report == nil {
		r.Report = io.Discard
	}
	return r
}

// say reports what happened to one plan row. Names and emails are anyone's
// to choose, so they are escaped for the terminal.
func (r Run) say(where string, row Row, what string) {
	fmt.Fprintf(r.Report, "%s: %s <%s> in %s: %s\n", where, cell.Terminal(row.UserName), cell.Terminal(row.UserEmail),
		cell.Terminal(row.WorkspaceName), what)
}

// brief describes err without Asana's own messages, which may quote the
// person acted on: an error goes to standard error and logs, the answer in
// full only to the journal and the report.
func brief(err error) string {
	var apiErr *asana.Error
	if !errors.As(err, &apiErr) {
		return err.Error()
	}
	s := string(apiErr.Kind)
	if apiErr.StatusCode != 0 {
		s = fmt.Sprintf("%d %s", apiErr.StatusCode, s)
	}
	if apiErr.Hint != "" {
		s += " - " + apiErr.Hint
	}
	return s
}

func describe(row Row) string {
	switch row.Reason {
	case ReasonIdle:
		return fmt.Sprintf("idle %d days (threshold %d)", row.IdleDays, row.IdleThresholdDays)
	case ReasonBoth:
		return fmt.Sprintf("idle %d days (threshold %d), email outside the domains", row.IdleDays, row.IdleThresholdDays)
	}
	return "email outside the domains"
}

func reviewWhy(row Row) string {
	if row.Reason == ReasonOutside {
		return "a member outside the email domains who uses the seat; making them a guest frees it and keeps their access"
	}
	return describe(row)
}

// monthly is the row's seat price, 0 when unknown.
func (r Row) monthly() float64 {
	if r.MonthlyPrice == nil {
		return 0
	}
	return *r.MonthlyPrice
}

func countRemove(rows []Row) int {
	n := 0
	for _, r := range rows {
		if r.Action == ActionRemove {
			n++
		}
	}
	return n
}
