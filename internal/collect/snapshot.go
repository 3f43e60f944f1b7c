package collect

import (
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// Snapshot is the result of one collection cycle. It is never modified after
// it is published.
type Snapshot struct {
	// Organization is the name of the organisation counted, "" when the
	// exporter counts one.
	Organization string
	// Up is true when the cycle reached Asana and authenticated.
	Up bool
	// Err is why the workspaces could not be listed, when Up is false.
	Err error
	// Workspaces are the collected workspaces, sorted by gid.
	Workspaces []WorkspaceState
	// NotCollected are the workspaces the token sees and the config
	// leaves out, sorted by gid.
	NotCollected []asana.Workspace

	// Deadline is the time the cycle was given, 0 if it had no deadline.
	Deadline time.Duration
	// Requests is what one complete cycle needs: the workspace listing plus
	// each workspace's pages in its last complete listing.
	Requests int
	// MinDuration is the least time Requests take within the token's
	// requests-per-minute budget, with those of the other organisations
	// that share the token.
	MinDuration time.Duration
	// FallingBehind is true when MinDuration exceeds Deadline, or a listing
	// stopped because the budget had no room left before the deadline: the
	// organisation is too big to count within the deadline.
	FallingBehind bool
}

// WorkspaceState is what is known about one workspace.
type WorkspaceState struct {
	GID            string
	Name           string
	IsOrganization bool
	SeatsPurchased *int     // from the config file
	SeatPrice      *float64 // monthly, from the config file
	// RenewalDate is when the contract renews, from the config file; zero
	// when it does not say.
	RenewalDate time.Time
	// Listed is whether GET /workspaces listed it; false for a workspace
	// the config names but the token cannot see.
	Listed bool

	// Seats are the counts of the last complete listing, nil when there is
	// none to publish: never counted, failed in on-scrape mode, or older
	// than max staleness.
	Seats *asana.SeatCounts
	// Usage is the idle and paused seats judged in the same listing, nil
	// when the audit log is off or not yet read.
	Usage *auditlog.Usage
	// Success is whether this cycle's listing completed.
	Success bool
	// Err is why it did not.
	Err error
	// Duration is how long this cycle's listing took, failed or not.
	Duration time.Duration
	// LastSuccess is when a listing last completed; zero if never.
	LastSuccess time.Time
	// Pages is how many pages the last complete listing took; 0 if never.
	Pages int
	// OutOfBudget is true when this cycle's listing stopped because the
	// requests-per-minute budget had no room left before the deadline.
	OutOfBudget bool
}
