package asana

import "strings"

// State is the seat a membership takes. The states are disjoint and follow
// what Asana bills:
//   - Licensed: active, not a guest, not view-only. A paid full seat. Admins
//     count here, and so do pending invitees: the API reports an invitee as
//     active, and Asana bills invitees.
//   - ViewOnly: active view-only members (a view-only licence).
//   - Guest: active guests. Guests are free; a guest flagged view-only is
//     still a guest.
//   - Inactive: is_active=false, whatever the role: a removed or
//     deprovisioned membership. A re-added user has one of these beside a
//     new active one.
type State uint8

const (
	Licensed State = iota
	ViewOnly
	Guest
	Inactive
	numStates
)

// States lists every state, in the order the metrics and the roster use.
var States = [numStates]State{Licensed, ViewOnly, Guest, Inactive}

var stateNames = [numStates]string{"licensed", "view_only", "guest", "inactive"}

// String is the state's name in metric labels and the roster.
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "unknown"
}

// ParseState is the inverse of String.
func ParseState(name string) (State, bool) {
	for _, s := range States {
		if stateNames[s] == name {
			return s, true
		}
	}
	return 0, false
}

// State classifies the membership. The metrics and the roster both call
// it, so they cannot disagree.
func (m *Membership) State() State {
	switch {
	case !m.IsActive:
		return Inactive
	case m.IsGuest:
		return Guest
	case m.IsViewOnly:
		return ViewOnly
	}
	return Licensed
}

// SeatCounts counts memberships by State, so their sum is the number of
// memberships, plus the active admins who sit among them.
type SeatCounts struct {
	Licensed int
	ViewOnly int
	Guest    int
	Inactive int
	Admins   int // active admins, a subset of the states above

	// DomainsChecked is true when the listing compared each member's email
	// with the workspace's email_domains; Outside is then, by state, the
	// active members whose email domain is not one of them.
	DomainsChecked bool
	Outside        [numStates]int
}

// Add classifies one membership.
func (s *SeatCounts) Add(m *Membership) {
	switch m.State() {
	case Inactive:
		s.Inactive++
		return
	case Guest:
		s.Guest++
	case ViewOnly:
		s.ViewOnly++
	default:
		s.Licensed++
	}
	if m.IsAdmin {
		s.Admins++
	}
}

// AddPage classifies a page of memberships.
func (s *SeatCounts) AddPage(page []Membership) {
	for i := range page {
		s.Add(&page[i])
	}
}

// addOutside counts the active members of page whose email is outside
// domains.
func (s *SeatCounts) addOutside(page []Membership, domains []string) {
	for i := range page {
		m := &page[i]
		if st := m.State(); st != Inactive && EmailDomain(m.User.Email, domains) == Outside {
			s.Outside[st]++
		}
	}
}

// Of is the count of one state.
func (s *SeatCounts) Of(st State) int {
	switch st {
	case Licensed:
		return s.Licensed
	case ViewOnly:
		return s.ViewOnly
	case Guest:
		return s.Guest
	case Inactive:
		return s.Inactive
	}
	return 0
}

// Total is the number of memberships counted.
func (s SeatCounts) Total() int { return s.Licensed + s.ViewOnly + s.Guest + s.Inactive }

// Domain says whether a member's email is inside the workspace's email
// domains.
type Domain uint8

const (
	// DomainUnknown: the email or the workspace's domains are missing (a
	// plain workspace has none).
	DomainUnknown Domain = iota
	Inside
	Outside
)

func (d Domain) String() string {
	switch d {
	case Inside:
		return "inside"
	case Outside:
		return "outside"
	}
	return "unknown"
}

// EmailDomain compares email's domain with domains, ignoring case. A domain
// matches exactly: Asana lists each of an organisation's domains, and a
// subdomain is a domain of its own (GUESS: no source says how Asana treats
// subdomains).
func EmailDomain(email string, domains []string) Domain {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || at == len(email)-1 || len(domains) == 0 {
		return DomainUnknown
	}
	host := strings.TrimSuffix(strings.TrimSpace(email[at+1:]), ".")
	for _, d := range domains {
		if strings.EqualFold(host, strings.TrimSuffix(strings.TrimSpace(d), ".")) {
			return Inside
		}
	}
	return Outside
}
