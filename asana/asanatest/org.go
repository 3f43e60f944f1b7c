package asanatest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Org is a simulated Asana organisation: the workspaces a token can see.
type Org struct {
	Workspaces []*Workspace
	nextGID    uint64
	// Event gids count apart, so an audit log leaves membership gids as
	// they were.
	nextEventGID uint64
	rng          *rand.Rand
}

// Workspace is a workspace or organization and its memberships, kept in gid
// order (the server paginates by gid).
type Workspace struct {
	GID            string
	Name           string
	IsOrganization bool
	EmailDomains   []string
	Memberships    []*Membership
	// Steady workspaces do not Drift: their members stay, and only log in.
	Steady bool

	audit map[string][]AuditEvent // by event type, oldest first
}

// Membership is the join between a user and a workspace.
type Membership struct {
	GID        string
	User       User
	IsActive   bool
	IsAdmin    bool
	IsGuest    bool
	IsViewOnly bool
	// Pending marks an invitation not yet accepted. The API cannot tell it
	// apart: it reports is_active=true, and Asana bills it as a seat.
	Pending   bool
	CreatedAt time.Time
	outside   bool // generated with an email outside the domain
	daily     bool // logs in every day (GenerateUsage)
}

// User is the person behind a membership.
type User struct {
	GID   string
	Name  string
	Email string
}

// WorkspaceSpec describes a workspace to generate. The counts are the truth
// a correct client must find: Licensed includes Admins and Pending.
type WorkspaceSpec struct {
	Name           string
	IsOrganization bool
	EmailDomain    string // default example.com
	Steady         bool   // the workspace does not Drift

	Licensed int // active full members, including Admins and Pending
	Admins   int // active admins, all counted in Licensed
	Pending  int // invitees not yet accepted, counted in Licensed
	ViewOnly int // active view-only members
	Guests   int // active guests
	Inactive int // is_active=false memberships
	// Readded is how many of the Inactive memberships belong to a user who
	// was removed and added back, and so also has an active full membership.
	Readded int
	// LicensedOutside is how many of the licensed members (neither admins
	// nor pending) have an email outside the organisation's domain: the
	// forum post's members whom the API calls licensed though they are not
	// staff. Guests always have an outside email, everyone else an inside
	// one.
	LicensedOutside int
}

// OutsideDomain is the email domain of guests and outside members.
const OutsideDomain = "partner.example.net"

// Seats is what asana.SeatCounts must say about this workspace when it is
// counted without the email-domain check.
func (s WorkspaceSpec) Seats() asana.SeatCounts {
	return asana.SeatCounts{Licensed: s.Licensed, ViewOnly: s.ViewOnly, Guest: s.Guests, Inactive: s.Inactive, Admins: s.Admins}
}

// SeatsWithDomains is what asana.SeatCounts must say when the listing
// checks email domains: in an organisation, the guests and LicensedOutside
// are outside its domain.
func (s WorkspaceSpec) SeatsWithDomains() asana.SeatCounts {
	c := s.Seats()
	if s.IsOrganization {
		c.DomainsChecked = true
		c.Outside[asana.Licensed] = s.LicensedOutside
		c.Outside[asana.Guest] = s.Guests
	}
	return c
}

// firstGID makes gids look like Asana's 16-digit ones. They all have the same
// length, so string order is numeric order.
const firstGID = 1_200_000_000_000_000

// firstEventGID starts audit event gids, as long as Asana's.
const firstEventGID = 1_300_000_000_000_000

var epoch = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate builds an organisation from a seed: the same seed and specs give
// the same gids, names and order.
func Generate(seed uint64, specs ...WorkspaceSpec) *Org {
	o := &Org{nextGID: firstGID, nextEventGID: firstEventGID, rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	for i, spec := range specs {
		if spec.Admins+spec.Pending+spec.LicensedOutside > spec.Licensed || spec.Readded > min(spec.Licensed, spec.Inactive) {
			panic(fmt.Sprintf("asanatest: workspace spec %d: Admins, Pending and LicensedOutside must fit inside Licensed (and Readded inside Inactive)", i))
		}
		o.addWorkspace(i, spec)
	}
	return o
}

func (o *Org) gid() string {
	o.nextGID++
	return strconv.FormatUint(o.nextGID, 10)
}

func (o *Org) addWorkspace(i int, spec WorkspaceSpec) {
	name := spec.Name
	if name == "" {
		name = fmt.Sprintf("Workspace %d", i+1)
	}
	domain := spec.EmailDomain
	if domain == "" {
		domain = "example.com"
	}
	w := &Workspace{GID: o.gid(), Name: name, IsOrganization: spec.IsOrganization, Steady: spec.Steady}
	if spec.IsOrganization {
		w.EmailDomains = []string{domain}
	}
	o.Workspaces = append(o.Workspaces, w)

	// Build the roles, then shuffle them so that every page mixes them.
	var members []*Membership
	add := func(n int, m Membership) {
		for range n {
			c := m
			members = append(members, &c)
		}
	}
	add(spec.Admins, Membership{IsActive: true, IsAdmin: true})
	add(spec.Pending, Membership{IsActive: true, Pending: true})
	add(spec.LicensedOutside, Membership{IsActive: true, outside: true})
	add(spec.Licensed-spec.Admins-spec.Pending-spec.LicensedOutside, Membership{IsActive: true})
	add(spec.ViewOnly, Membership{IsActive: true, IsViewOnly: true})
	add(spec.Guests, Membership{IsActive: true, IsGuest: true})
	add(spec.Inactive, Membership{})
	o.rng.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })

	// A re-added user's old inactive membership shares the user of an
	// active full one.
	var readdable []*Membership
	for _, m := range members {
		if m.IsActive && !m.IsGuest && !m.IsViewOnly && !m.Pending && !m.outside {
			readdable = append(readdable, m)
		}
	}
	readded := 0
	for _, m := range members {
		if m.IsActive {
			m.User = o.newUser(domain, m.IsGuest || m.outside)
		}
	}
	for _, m := range members {
		if !m.IsActive {
			if readded < spec.Readded && readded < len(readdable) {
				m.User = readdable[readded].User
				readded++
			} else {
				m.User = o.newUser(domain, false)
			}
		}
	}
	for _, m := range members {
		o.place(w, m)
	}
}

func (o *Org) newUser(domain string, outside bool) User {
	gid := o.gid()
	if outside {
		domain = OutsideDomain
	}
	return User{GID: gid, Name: "User " + gid[len(gid)-6:], Email: "user" + gid[len(gid)-6:] + "@" + domain}
}

// place gives m the next gid and appends it, keeping gid order.
func (o *Org) place(w *Workspace, m *Membership) {
	m.GID = o.gid()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = epoch.Add(time.Duration(o.nextGID-firstGID) * time.Minute)
	}
	w.Memberships = append(w.Memberships, m)
}

// Workspace returns the workspace with this gid, or nil.
func (o *Org) Workspace(gid string) *Workspace {
	i := slices.IndexFunc(o.Workspaces, func(w *Workspace) bool { return w.GID == gid })
	if i < 0 {
		return nil
	}
	return o.Workspaces[i]
}

// AddMember adds a new membership for a new user, as when someone joins or
// is invited. Use it inside API.Mutate.
func (o *Org) AddMember(w *Workspace, m Membership) *Membership {
	domain := "example.com"
	if len(w.EmailDomains) > 0 {
		domain = w.EmailDomains[0]
	}
	m.User = o.newUser(domain, m.IsGuest)
	o.place(w, &m)
	return &m
}

// Rand is the organisation's seeded random source, for drift that stays
// reproducible.
func (o *Org) Rand() *rand.Rand { return o.rng }
