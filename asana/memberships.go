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
// does not need. The details combine.
type Detail uint8

const (
	// SeatFlags: the flags that classify a membership, and nothing more.
	SeatFlags Detail = 0
	// WithEmail adds user.email, for the email-domain check.
	WithEmail Detail = 1 << iota
	// WithUser adds the user's gid and the membership's created_at: what
	// judging a seat's use against the audit log needs.
	WithUser
	// Roster adds the user's gid, name and email and the membership's
	// created_at: who holds each seat.
	Roster          = WithEmail | WithUser | withName
	withName Detail = 1 << 3
)

// optFields for a Detail. The seed's forum post shows user.email and
// created_at working on this endpoint; a nested object always brings its
// gid, so user.email or user brings user.gid.
func (d Detail) optFields() string {
	f := "is_active,is_guest,is_admin,is_view_only"
	if d&WithUser != 0 {
		f += ",created_at"
	}
	switch {
	case d&withName != 0:
		f += ",user.name,user.email"
	case d&WithEmail != 0:
		f += ",user.email"
	case d&WithUser != 0:
		f += ",user"
	}
	return f
}

// membershipRecord is a membership as a listing decodes it. The flags go
// into interfaces rather than bools so that a flag the record lacks (nil)
// is told from false: a listing that ignores opt_fields sends compact
// records, without them. A JSON boolean goes into an interface without an
// allocation: decoding a page costs 22% more instructions per record than
// with plain bools (2,703 against 2,208, cachegrind), where a flag type
// with an UnmarshalJSON method costs 48% more (3,262).
type membershipRecord struct {
	Membership     // everything but the flags, which these shadow
	IsActive   any `json:"is_active"`
	IsAdmin    any `json:"is_admin"`
	IsGuest    any `json:"is_guest"`
	IsViewOnly any `json:"is_view_only"`
}

// check gives the membership, or the first flag it lacks: every Detail
// asks for them all, and a count needs them all.
func (r *membershipRecord) check(m *Membership) (string, *recordError) {
	*m = r.Membership
	var err *recordError
	if m.IsActive, err = flag(r.IsActive, "is_active"); err != nil {
		return "", err
	}
	if m.IsGuest, err = flag(r.IsGuest, "is_guest"); err != nil {
		return "", err
	}
	if m.IsAdmin, err = flag(r.IsAdmin, "is_admin"); err != nil {
		return "", err
	}
	if m.IsViewOnly, err = flag(r.IsViewOnly, "is_view_only"); err != nil {
		return "", err
	}
	return m.GID, nil
}

// flag is a decoded flag's value, or why it has none.
func flag(v any, field string) (bool, *recordError) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case nil: // absent or null
		return false, &recordError{field: field, absent: true}
	}
	return false, &recordError{field: field}
}

// MembershipPage is one page of a membership listing. Index counts the
// pages of the current listing from 0.
type MembershipPage struct {
	Index int
	Items []Membership // reused for the next page: copy what you keep
}

// EachMembershipPage streams GET /workspaces/{gid}/workspace_memberships to
// fn, one page of up to 100 records at a time, with the fields detail asks
// for, and returns the number of restarts. It never holds more than one
// page. Every membership has its gid and flags and comes once (see
// eachPage). start, when set, is called before the first page and again
// when the listing starts over because its offset expired: it must drop
// what fn gathered.
func (c *Client) EachMembershipPage(ctx context.Context, workspaceGID string, detail Detail, start func() error, fn func(MembershipPage) error) (restarts int, err error) {
	l := listing[membershipRecord, Membership]{
		endpoint:  EndpointWorkspaceMemberships,
		path:      "/workspaces/" + url.PathEscape(workspaceGID) + "/workspace_memberships",
		optFields: detail.optFields(),
		workspace: workspaceGID,
		check:     (*membershipRecord).check,
	}
	return eachPage(ctx, c, l, start, func(index int, items []Membership) error {
		return fn(MembershipPage{Index: index, Items: items})
	})
}

// SeatListing is the result of counting one workspace.
type SeatListing struct {
	Seats    SeatCounts
	Pages    int // pages fetched in the listing that counted
	Restarts int // listings started over because an offset expired
}

// Tally is a count of its own made from the same listing as the seats,
// such as the idle seats. It sees every page of one complete listing: Reset
// comes before the first page, and again if the listing starts over.
type Tally interface {
	Reset()
	Add(page []Membership)
}

// CountOptions say what a count reads beside the seat flags.
type CountOptions struct {
	// EmailDomains (the workspace's email_domains) asks for each user's
	// email and counts the active members outside those domains.
	EmailDomains []string
	// Tally, when set, is given the listing too, with each membership's
	// user gid and created_at.
	Tally Tally
	// Display, when set, is given each page as it comes, to show how the
	// listing goes; it asks for no field.
	Display Tally
}

// CountSeats lists a workspace's memberships and classifies them, asking
// for no more than opts needs. It either returns the counts of one complete
// listing or an error, never a partial count; a Tally given a failed
// listing must be discarded.
func (c *Client) CountSeats(ctx context.Context, workspaceGID string, opts CountOptions) (SeatListing, error) {
	var l SeatListing
	detail := SeatFlags
	if len(opts.EmailDomains) > 0 {
		detail |= WithEmail
	}
	if opts.Tally != nil {
		detail |= WithUser
	}
	var tallies []Tally
	for _, t := range []Tally{opts.Tally, opts.Display} {
		if t != nil {
			tallies = append(tallies, t)
		}
	}
	restarts, err := c.EachMembershipPage(ctx, workspaceGID, detail, func() error {
		l.Seats = SeatCounts{DomainsChecked: detail&WithEmail != 0}
		for _, t := range tallies {
			t.Reset()
		}
		return nil
	}, func(p MembershipPage) error {
		l.Pages = p.Index + 1
		l.Seats.AddPage(p.Items)
		if l.Seats.DomainsChecked {
			l.Seats.addOutside(p.Items, opts.EmailDomains)
		}
		for _, t := range tallies {
			t.Add(p.Items)
		}
		return nil
	})
	if err != nil {
		return SeatListing{}, err
	}
	l.Restarts = restarts
	return l, nil
}
