package asana

// SeatCounts splits memberships into four disjoint states, so their sum is
// the number of memberships, plus the active admins who sit among them.
//
// The states follow what Asana bills:
//   - Licensed: active, not a guest, not view-only. A paid full seat. Admins
//     count here, and so do pending invitees: the API reports an invitee as
//     active, and Asana bills invitees.
//   - ViewOnly: active view-only members (a view-only licence).
//   - Guest: active guests. Guests are free; a guest flagged view-only is
//     still a guest.
//   - Inactive: is_active=false, whatever the role: a removed or
//     deprovisioned membership. A re-added user has one of these beside a
//     new active one.
type SeatCounts struct {
	Licensed int
	ViewOnly int
	Guest    int
	Inactive int
	Admins   int // active admins, a subset of the states above
}

// Add classifies one membership.
func (s *SeatCounts) Add(m *Membership) {
	if !m.IsActive {
		s.Inactive++
		return
	}
	if m.IsAdmin {
		s.Admins++
	}
	switch {
	case m.IsGuest:
		s.Guest++
	case m.IsViewOnly:
		s.ViewOnly++
	default:
		s.Licensed++
	}
}

// AddPage classifies a page of memberships.
func (s *SeatCounts) AddPage(page []Membership) {
	for i := range page {
		s.Add(&page[i])
	}
}

// Total is the number of memberships counted.
func (s SeatCounts) Total() int { return s.Licensed + s.ViewOnly + s.Guest + s.Inactive }
