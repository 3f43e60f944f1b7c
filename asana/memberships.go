package asana

import (
	"context"
	"net/url"
	"time"
)

// Membership is one workspace membership: the join between a user and a
// workspace, with the flags that decide what seat it takes.
type Membership struct {
	GID        string `json:"gid"`
	IsActive   bool   `json:"is_active"`
	IsAdmin    bool   `json:"is_admin"`
	IsGuest    bool   `json:"is_guest"`
	IsViewOnly bool   `json:"is_view_only"`
	// User and CreatedAt are filled only when the listing asked for them
	// (Detail).
	User      User      `json:"user"`
	CreatedAt time.Time `json:"created_at"`
}

// User is the person behind a membership: the fields a listing may ask for
// through opt_fields (user.name, user.email).
type User struct {
	GID   string `json:"gid"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Detail is how much of each membership a listing asks for. Asana returns
// only what opt_fields names, so a count never carries names or emails it
// does not need.
type Detail uint8

const (
	// SeatFlags: the flags that classify a membership, and nothing more.
	SeatFlags Detail = iota
	// SeatFlagsAndEmail adds user.email, for the email-domain check.
	SeatFlagsAndEmail
	// Roster adds the user's gid, name and email and the membership's
	// created_at: who holds each seat.
	Roster
)

// optFields for each Detail. The seed's forum post shows user.email and
// created_at working on this endpoint.
var optFields = [...]string{
	SeatFlags:         "is_active,is_guest,is_admin,is_view_only",
	SeatFlagsAndEmail: "is_active,is_guest,is_admin,is_view_only,user.email",
	Roster:            "is_active,is_guest,is_admin,is_view_only,created_at,user.name,user.email",
}

// MembershipPage is one page of a membership listing. Index is 0 for the
// first page; if the listing restarts because its offset expired, Index is 0
// again and the caller must drop what it gathered so far.
type MembershipPage struct {
	Index int
	Items []Membership // reused for the next page: copy what you keep
}

// EachMembershipPage streams GET /workspaces/{gid}/workspace_memberships to
// fn, one page of up to 100 records at a time, with the fields detail asks
// for, and returns the number of restarts. It never holds more than one
// page.
func (c *Client) EachMembershipPage(ctx context.Context, workspaceGID string, detail Detail, fn func(MembershipPage) error) (restarts int, err error) {
	path := "/workspaces/" + url.PathEscape(workspaceGID) + "/workspace_memberships"
	return eachPage(ctx, c, EndpointWorkspaceMemberships, path, optFields[detail], func(index int, items []Membership) error {
		return fn(MembershipPage{Index: index, Items: items})
	})
}

// SeatListing is the result of counting one workspace.
type SeatListing struct {
	Seats    SeatCounts
	Pages    int // pages fetched in the listing that counted
	Restarts int // listings started over because an offset expired
}

// CountSeats lists a workspace's memberships and classifies them. With
// emailDomains (the workspace's email_domains) it also asks for each
// user's email and counts the active members outside those domains; with
// none it asks for the seat flags only. It either returns the counts of one
// complete listing or an error, never a partial count.
func (c *Client) CountSeats(ctx context.Context, workspaceGID string, emailDomains []string) (SeatListing, error) {
	var l SeatListing
	detail := SeatFlags
	if len(emailDomains) > 0 {
		detail = SeatFlagsAndEmail
	}
	restarts, err := c.EachMembershipPage(ctx, workspaceGID, detail, func(p MembershipPage) error {
		if p.Index == 0 {
			l.Seats = SeatCounts{DomainsChecked: detail == SeatFlagsAndEmail}
		}
		l.Pages = p.Index + 1
		l.Seats.AddPage(p.Items)
		if l.Seats.DomainsChecked {
			l.Seats.addOutside(p.Items, emailDomains)
		}
		return nil
	})
	if err != nil {
		return SeatListing{}, err
	}
	l.Restarts = restarts
	return l, nil
}
