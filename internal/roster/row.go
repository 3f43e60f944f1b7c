// Package roster writes who holds each seat: one row per workspace
// membership, classified by the same code as the metrics (asana.State), in
// CSV, JSON lines or a terminal table. A workspace's rows are written only
// once its listing completed; until then they wait in a spool file, so a
// roster of a million memberships needs no more memory than one page.
package roster

import (
	"strconv"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// Columns is the roster's header, in order.
var Columns = [numColumns]string{
	"workspace_gid", "workspace_name", "membership_gid", "user_gid", "user_name", "user_email",
	"state", "is_admin", "domain", "created_at", "last_login_at", "licence_paused",
}

const (
	colWorkspaceGID = iota
	colWorkspaceName
	colMembershipGID
	colUserGID
	colUserName
	colUserEmail
	colState
	colIsAdmin
	colDomain
	colCreatedAt
	colLastLoginAt
	colLicencePaused
	numColumns
)

// createdAtLayout is RFC 3339 with Asana's millisecond precision.
const createdAtLayout = "2006-01-02T15:04:05.000Z07:00"

// Cells is one row, unescaped: what Asana said, before any output format
// touches it.
type Cells = [numColumns]string

// rowOf is a membership's row in workspace w. With the organisation's
// audit log Ledger, once it has read the whole history, it says when the
// user last logged in ("none" for no login in the history) and whether the
// licence is paused; without, those cells are empty.
func rowOf(w asana.Workspace, m *asana.Membership, history *auditlog.Ledger) Cells {
	created := ""
	if !m.CreatedAt.IsZero() {
		created = m.CreatedAt.UTC().Format(createdAtLayout)
	}
	lastLogin, paused := "", ""
	if history != nil {
		seat, _ := history.Seat(m.User.GID, m.State(), m.CreatedAt)
		lastLogin, paused = "none", strconv.FormatBool(seat.Paused)
		if !seat.LastLogin.IsZero() {
			lastLogin = seat.LastLogin.Format(createdAtLayout)
		}
	}
	return Cells{
		colLastLoginAt:   lastLogin,
		colLicencePaused: paused,
		colWorkspaceGID:  w.GID,
		colWorkspaceName: w.Name,
		colMembershipGID: m.GID,
		colUserGID:       m.User.GID,
		colUserName:      m.User.Name,
		colUserEmail:     m.User.Email,
		colState:         m.State().String(),
		colIsAdmin:       strconv.FormatBool(m.IsAdmin),
		colDomain:        asana.EmailDomain(m.User.Email, w.EmailDomains).String(),
		colCreatedAt:     created,
	}
}

// Entry is a row as a reader of the roster sees it, for --reconcile.
type Entry struct {
	WorkspaceGID, MembershipGID, UserGID, UserName, UserEmail string
	State                                                     asana.State
	IsAdmin                                                   bool
	Domain                                                    string
	CreatedAt                                                 time.Time
}

func entryOf(c *Cells) Entry {
	st, _ := asana.ParseState(c[colState])
	created, _ := time.Parse(time.RFC3339, c[colCreatedAt])
	return Entry{
		WorkspaceGID: c[colWorkspaceGID], MembershipGID: c[colMembershipGID], UserGID: c[colUserGID],
		UserName: c[colUserName], UserEmail: c[colUserEmail], State: st, IsAdmin: c[colIsAdmin] == "true",
		Domain: c[colDomain], CreatedAt: created,
	}
}
