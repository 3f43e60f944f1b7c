package asana

import (
	"context"
	"net/url"
)

// Membership is one workspace membership: the join between a user and a
// workspace, with the flags that decide what seat it takes.
type Membership struct {
	GID        string `json:"gid"`
	IsActive   bool   `json:"is_active"`
	IsAdmin    bool   `json:"is_admin"`
	IsGuest    bool   `json:"is_guest"`
	IsViewOnly bool   `json:"is_view_only"`
}

// seatFields are the opt_fields of a listing: the flags that classify a
// membership, and nothing more.
const seatFields = "is_active,is_guest,is_admin,is_view_only"

// MembershipPage is one page of a membership listing. Index is 0 for the
// first page; if the listing restarts because its offset expired, Index is 0
// again and the caller must drop what it gathered so far.
type MembershipPage struct {
	Index int
	Items []Membership // reused for the next page: copy what you keep
}

// EachMembershipPage streams GET /workspaces/{gid}/workspace_memberships to
// fn, one page of up to 100 records at a time, and returns the number of
// restarts. It never holds more than one page.
func (c *Client) EachMembershipPage(ctx context.Context, workspaceGID string, fn func(MembershipPage) error) (restarts int, err error) {
	path := "/workspaces/" + url.PathEscape(workspaceGID) + "/workspace_memberships"
	return eachPage(ctx, c, EndpointWorkspaceMemberships, path, seatFields, func(index int, items []Membership) error {
		return fn(MembershipPage{Index: index, Items: items})
	})
}

// SeatListing is the result of counting one workspace.
type SeatListing struct {
	Seats    SeatCounts
	Pages    int // pages fetched in the listing that counted
	Restarts int // listings started over because an offset expired
}

// CountSeats lists a workspace's memberships and classifies them. It either
// returns the counts of one complete listing or an error, never a partial
// count.
func (c *Client) CountSeats(ctx context.Context, workspaceGID string) (SeatListing, error) {
	var l SeatListing
	restarts, err := c.EachMembershipPage(ctx, workspaceGID, func(p MembershipPage) error {
		if p.Index == 0 {
			l.Seats = SeatCounts{}
		}
		l.Pages = p.Index + 1
		l.Seats.AddPage(p.Items)
		return nil
	})
	if err != nil {
		return SeatListing{}, err
	}
	l.Restarts = restarts
	return l, nil
}
