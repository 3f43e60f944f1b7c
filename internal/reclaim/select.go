package reclaim

import (
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// Criteria say which seats a plan proposes to free.
type Criteria struct {
	// IdleDays proposes the seats idle at least this many whole days by
	// the idle rule (internal/idle), as the roster's idle_days has them;
	// 0 leaves idleness out.
	IdleDays int
	// OutsideDomains proposes the licensed members whose email is outside
	// the workspace's email domains.
	OutsideDomains bool
	// Exclusions are never proposed (--exclude).
	Exclusions Exclusions
	// Self is the token's own user gid: removing it would cut the tool off.
	Self string
}

// Skip is why a seat that meets a criterion is not proposed.
type Skip string

const (
	SkipAdmin    Skip = "an admin"
	SkipSelf     Skip = "the token's own user"
	SkipExcluded Skip = "in the exclude list"
	SkipPaused   Skip = "licence paused"
	SkipYoung    Skip = "membership younger than the idle threshold"
)

// Workspace is what a plan row says of the workspace it is in.
type Workspace struct {
	GID, Name    string
	MonthlyPrice *float64 // the config's seat_price; nil when unknown
}

// Judge proposes e, a roster entry of w, or says why not. ok is false
// when e meets no criterion at all: then skip is "" as well.
func (c Criteria) Judge(w Workspace, e roster.Entry, plannedAt time.Time) (row Row, skip Skip, ok bool) {
	if e.State != asana.Licensed && e.State != asana.ViewOnly {
		return Row{}, "", false // guests are free, and inactive members hold no seat
	}
	isIdle := c.IdleDays > 0 && e.IdleDays >= c.IdleDays
	outside := c.OutsideDomains && e.State == asana.Licensed && e.Domain == asana.Outside.String()
	if !isIdle && !outside {
		return Row{}, "", false
	}
	switch {
	case e.IsAdmin:
		return Row{}, SkipAdmin, false
	case e.UserGID == c.Self:
		return Row{}, SkipSelf, false
	case c.Exclusions.Excludes(e.UserGID, e.UserEmail):
		return Row{}, SkipExcluded, false
	case e.LicensePaused:
		return Row{}, SkipPaused, false
	case c.IdleDays > 0 && plannedAt.Sub(e.CreatedAt) < time.Duration(c.IdleDays)*idle.Day:
		// The idle rule already waits for a young membership; an outside
		// member gets the same time to be made a guest.
		return Row{}, SkipYoung, false
	}
	row = Row{
		PlannedAt:    plannedAt,
		WorkspaceGID: w.GID, WorkspaceName: w.Name,
		MembershipGID: e.MembershipGID, UserGID: e.UserGID,
		UserName: e.UserName, UserEmail: e.UserEmail,
		State:          e.State,
		IdleDays:       e.IdleDays,
		ActivitySource: e.ActivitySource,
		Domain:         e.Domain,
		Action:         ActionRemove,
	}
	if e.State == asana.Licensed {
		// seat_price is what a full seat costs, as the summary and the
		// dashboard price it; a view-only seat's price is not configured.
		row.MonthlyPrice = w.MonthlyPrice
	}
	if e.ActivitySource == roster.SourceAuditLog {
		row.LastActivity = e.LastLogin
	}
	switch {
	case isIdle && outside:
		row.Reason = ReasonBoth
	case isIdle:
		row.Reason = ReasonIdle
	default:
		// Someone outside the domains who uses the seat is better made a
		// guest, which only the Admin Console can do.
		row.Reason, row.Action = ReasonOutside, ActionReview
	}
	if isIdle {
		row.IdleThresholdDays = c.IdleDays
	}
	return row, "", true
}

// Totals add up a plan as it is made: its rows by reason, the seats that
// met a criterion but were kept and why, and what removing its rows saves.
type Totals struct {
	Remove, Review int
	ByReason       map[Reason]int
	Kept           map[Skip]int
	// Monthly is the summed monthly price of the rows to remove; Unpriced
	// licensed seats of them have no seat_price in the config, and
	// ViewOnly are view-only seats, which seat_price does not price.
	Monthly            float64
	Unpriced, ViewOnly int
}

// Add counts one verdict of Judge.
func (t *Totals) Add(row Row, skip Skip, ok bool) {
	if t.ByReason == nil {
		t.ByReason, t.Kept = map[Reason]int{}, map[Skip]int{}
	}
	switch {
	case skip != "":
		t.Kept[skip]++
	case !ok:
	case row.Action == ActionReview:
		t.Review++
		t.ByReason[row.Reason]++
	default:
		t.Remove++
		t.ByReason[row.Reason]++
		switch {
		case row.State == asana.ViewOnly:
			t.ViewOnly++
		case row.MonthlyPrice == nil:
			t.Unpriced++
		default:
			t.Monthly += *row.MonthlyPrice
		}
	}
}
