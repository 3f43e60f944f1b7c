package reclaim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Undo adds back, by email, the members the journal says were removed and
// not added back since, oldest removal first, at most r.Max. In an
// organization Asana sends each an invitation: the seat is taken again at
// once, the person's access returns when they accept it. Each is re-read
// first: a member already back is skipped, and so is anyone in
// r.Exclusions (someone an admin removed again on purpose after adding
// them back by hand: the journal cannot tell that from the removal).
func Undo(ctx context.Context, j *Journal, r Run) (Outcome, error) {
	r = r.defaults()
	if err := r.settle(ctx, j); err != nil {
		return Outcome{}, err
	}
	removed := slices.SortedFunc(maps.Values(Removed(j.Entries())), func(a, b Entry) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.MembershipGID, b.MembershipGID))
	})
	var out Outcome
	for i, e := range removed {
		row := e.row()
		line := i + 1
		where := fmt.Sprintf("removal %d of the journal", line)
		if out.Done+out.Failed >= r.Max {
			out.Left = len(removed) - i
			break
		}
		if err := ctx.Err(); err != nil {
			out.Left = len(removed) - i
			return out, fmt.Errorf("stopped before removal %d of the journal: %w; run undo again to go on", line, err)
		}
		if r.Exclusions.Excludes(e.UserGID, e.UserEmail) {
			out.Skipped++
			r.say(where, row, "skipped: "+string(SkipExcluded))
			if err := r.record(j, ActionAdd, ResultSkipped, row, e.PlanRow, "", string(SkipExcluded)); err != nil {
				return out, err
			}
			continue
		}
		actor, err := r.Actors(e.WorkspaceGID)
		if err != nil {
			out.Left = len(removed) - i
			return out, fmt.Errorf("removal %d of the journal: %w", line, err)
		}
		m, _, err := actor.Client.WorkspaceMembership(ctx, e.MembershipGID, asana.SeatFlags)
		switch {
		case err != nil && !errors.Is(err, asana.ErrNotFound):
			out.Left = len(removed) - i
			return out, fmt.Errorf("removal %d of the journal: re-reading the membership: %s", line, brief(err))
		case err == nil && m.IsActive:
			out.Skipped++
			r.say(where, row, "skipped: already back in the workspace")
			if err := r.record(j, ActionAdd, ResultSkipped, row, e.PlanRow, "", "already back in the workspace"); err != nil {
				return out, err
			}
			continue
		}
		if !r.Yes {
			out.Done++
			r.say(where, row, "would add back (an invitation, in an organization)"+asGuest(row))
			continue
		}
		if err := room(j); err != nil {
			out.Left = len(removed) - i
			return out, err
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actionTimeout)
		// By gid when the journal has no email: that would fail at every run.
		_, err = actor.Client.AddUser(ctx, e.WorkspaceGID, cmp.Or(e.UserEmail, e.UserGID))
		cancel()
		if err != nil {
			out.Failed++
			if jerr := r.record(j, ActionAdd, ResultFailed, row, e.PlanRow, err.Error(), ""); jerr != nil {
				return out, jerr
			}
			r.say(where, row, "failed: "+err.Error())
			if errors.Is(err, asana.ErrBadRequest) || errors.Is(err, asana.ErrNotFound) {
				// Refused for this person alone: the others are not held
				// back behind them at every run.
				continue
			}
			out.Left = len(removed) - i - 1
			return out, fmt.Errorf("removal %d of the journal: adding the member back failed: %s; the journal has Asana's answer", line, brief(err))
		}
		out.Done++
		if err := r.record(j, ActionAdd, ResultDone, row, e.PlanRow, "added", ""); err != nil {
			return out, err
		}
		r.say(where, row, "added back (an invitation, in an organization)"+asGuest(row))
	}
	if out.Failed > 0 {
		return out, fmt.Errorf("%d member(s) could not be added back: the report and the journal have Asana's answers; run undo again to try them again", out.Failed)
	}
	return out, nil
}

// row is whom e acted on, as a report line names them: the entry's own
// fields, not its plan row's, say whom it acted on.
func (e Entry) row() Row {
	row := Row{WorkspaceGID: e.WorkspaceGID, MembershipGID: e.MembershipGID, UserGID: e.UserGID,
		UserName: e.UserName, UserEmail: e.UserEmail}
	if e.PlanRow != nil {
		row.WorkspaceName, row.Domain = e.PlanRow.WorkspaceName, e.PlanRow.Domain
	}
	return row
}

// asGuest warns that a person whose email is outside the organization's
// domains comes back as a guest (GUESS: as an invitation to such an
// address makes one; the simulator does so), not in the seat they held.
func asGuest(row Row) string {
	if row.Domain != asana.Outside.String() {
		return ""
	}
	return "; the email is outside the domains, so Asana makes them a guest: make them a member in the Admin Console if they need their seat"
}
