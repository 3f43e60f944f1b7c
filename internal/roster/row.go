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
	"github.com/asana-exporter/asana_exporter/internal/idle"
)

// Columns is the roster's header, in order. New columns go at the end, so
// that a spreadsheet or script reading the earlier ones by position goes on
// working.
var Columns = [numColumns]string{
	"workspace_gid", "workspace_name", "membership_gid", "user_gid", "user_name", "user_email",
	"state", "is_admin", "domain", "created_at", "last_login_at", "licence_paused",
	"idle_days", "activity_source", "monthly_price",
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
	colLicensePaused
	colIdleDays
	colActivitySource
	colMonthlyPrice
	numColumns
)

// Where a row's last activity comes from: the activity_source column.
const (
	SourceAuditLog      = "audit_log"      // the organisation's audit log: its last login
	SourceConsoleExport = "console_export" // the Admin Console's members export: its last-activity date
)

// timeLayout is RFC 3339 with Asana's millisecond precision.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Cells is one row, unescaped: what Asana said, before any output format
// touches it. An empty cell is unknown; each format shows it its own way.
type Cells = [numColumns]string

// Activity is a source of last activity other than the audit log: the
// Admin Console's members export, which every plan can download.
type Activity interface {
	// LastActivity is when the person with this email was last active:
	// known is false when the source does not list them or cannot tell,
	// and at is zero when it says they never were.
	LastActivity(email string) (at time.Time, known bool)
}

// sources are what a workspace's rows are judged by besides the API.
type sources struct {
	// history is the organisation's audit log, read to the end; nil for
	// none.
	history *auditlog.Ledger
	console Activity // nil for none
	price   string   // the workspace's seat price; "" when not configured
	now     time.Time
}

// judged is a membership's activity as its row shows it.
type judged struct {
	lastLogin, paused string
	source            string
	seat              idle.Seat
}

// judge reads the membership's activity from each source there is. Where
// both have it, the later activity counts: each source sees only part of
// what a person does, so the later date is the one nearer the truth, and
// it never makes a seat look idler than either source says.
func (s *sources) judge(m *asana.Membership) (j judged) {
	state := m.State()
	if s.history != nil {
		seat, _ := s.history.Seat(m.User.GID, state, m.CreatedAt)
		j = judged{paused: strconv.FormatBool(seat.Paused), source: SourceAuditLog, seat: seat.Idle}
		if !seat.LastLogin.IsZero() {
			j.lastLogin = seat.LastLogin.Format(timeLayout)
		}
	}
	if s.console == nil {
		return j
	}
	at, known := s.console.LastActivity(m.User.Email)
	if !known || (j.source != "" && !at.After(j.seat.Since)) {
		return j
	}
	j.source = SourceConsoleExport
	// The export says nothing of paused licences: the audit log's word on
	// it stands, and without one a seat is taken as billed.
	j.seat = idle.Seat{State: state, CreatedAt: m.CreatedAt, Since: at, Paused: j.seat.Paused}
	return j
}

// rowOf is a membership's row in workspace w, and its idle days as Entry
// has them.
func rowOf(w asana.Workspace, m *asana.Membership, s *sources) (Cells, int) {
	created := ""
	if !m.CreatedAt.IsZero() {
		created = m.CreatedAt.UTC().Format(timeLayout)
	}
	j := s.judge(m)
	idleDays, days := "", -1
	if d, ok := idle.For(j.seat, s.now); ok && j.source != "" {
		days = idle.Days(d)
		idleDays = strconv.Itoa(days)
	}
	return Cells{
		colWorkspaceGID:   w.GID,
		colWorkspaceName:  w.Name,
		colMembershipGID:  m.GID,
		colUserGID:        m.User.GID,
		colUserName:       m.User.Name,
		colUserEmail:      m.User.Email,
		colState:          m.State().String(),
		colIsAdmin:        strconv.FormatBool(m.IsAdmin),
		colDomain:         asana.EmailDomain(m.User.Email, w.EmailDomains).String(),
		colCreatedAt:      created,
		colLastLoginAt:    j.lastLogin,
		colLicensePaused:  j.paused,
		colIdleDays:       idleDays,
		colActivitySource: j.source,
		colMonthlyPrice:   s.price,
	}, days
}

// Entry is a row as a reader of the roster sees it: --reconcile and the
// summary.
type Entry struct {
	WorkspaceGID, MembershipGID, UserGID, UserName, UserEmail string
	State                                                     asana.State
	IsAdmin                                                   bool
	Domain                                                    string
	CreatedAt                                                 time.Time
	// LastLogin is the audit log's; zero when unknown or none.
	LastLogin time.Time
	// LicensePaused is the audit log's; false without it.
	LicensePaused bool
	// IdleDays is how many whole days the seat has been idle by the idle
	// rule, or -1 where the rule does not judge it (a guest, an inactive
	// membership, a paused licence) or no source tells its activity. A
	// seat is idle by a threshold of n days when IdleDays >= n.
	IdleDays       int
	ActivitySource string // SourceAuditLog, SourceConsoleExport or ""
}

func entryOf(c *Cells) Entry {
	st, _ := asana.ParseState(c[colState])
	created, _ := time.Parse(time.RFC3339, c[colCreatedAt])
	lastLogin, _ := time.Parse(time.RFC3339, c[colLastLoginAt])
	idleDays := -1
	if c[colIdleDays] != "" {
		idleDays, _ = strconv.Atoi(c[colIdleDays])
	}
	return Entry{
		WorkspaceGID: c[colWorkspaceGID], MembershipGID: c[colMembershipGID], UserGID: c[colUserGID],
		UserName: c[colUserName], UserEmail: c[colUserEmail], State: st, IsAdmin: c[colIsAdmin] == "true",
		Domain: c[colDomain], CreatedAt: created, LastLogin: lastLogin, LicensePaused: c[colLicensePaused] == "true",
		IdleDays: idleDays, ActivitySource: c[colActivitySource],
	}
}
