package asanatest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/asana-exporter/asana_exporter/asana"
)

// The users the tokens act as. Each is an account of its own, listed in no
// workspace, so that a generated organisation's memberships and counts are
// exactly what its specs say: the admin is as a service account, which
// Asana does not bill, and the member is a stranger to every listing.
var (
	// TokenUser is the user of every FullAccess, ServiceAccount and
	// GranularScopes token: an admin of every workspace.
	TokenUser = User{GID: "1100000000000001", Name: "Asanatest Admin", Email: "admin@asanatest.example"}
	// MemberTokenUser is the user of a MemberToken: no admin anywhere.
	MemberTokenUser = User{GID: "1100000000000002", Name: "Asanatest Member", Email: "member@asanatest.example"}
)

// Messages of the member routes. Asana documents none of them (GUESS: the
// shape of its other messages, "field: problem").
const (
	msgNotAdmin     = "You must be an admin of this workspace to add or remove its members."
	msgRemoveSelf   = "You cannot remove yourself from this workspace."
	msgBodyInvalid  = "Could not parse request data, invalid JSON"
	msgUserMissing  = "user: Missing input"
	msgBodyTooLarge = "Request body is too large."
	msgUnknownUser  = "user: Not a recognized ID: " // and the reference given
)

// user is the user the token acts as.
func (u *tokenUse) user() User {
	if u.kind == MemberToken {
		return MemberTokenUser
	}
	return TokenUser
}

// refersTo reports whether ref, as a user path parameter or a removeUser or
// addUser body gives it, names u: "me" for the token's own user, a gid, or
// an email. GUESS: Asana compares emails without regard to case, as mail
// does.
func refersTo(ref string, u User, me User) bool {
	if ref == "me" {
		return u.GID == me.GID
	}
	return ref == u.GID || strings.Contains(ref, "@") && strings.EqualFold(ref, u.Email)
}

// findUser is the user ref names, wherever they are a member, or a token's
// user; the caller holds a.mu.
func (a *API) findUser(ref string, me User) (User, bool) {
	for _, u := range []User{me, TokenUser, MemberTokenUser} {
		if refersTo(ref, u, me) {
			return u, true
		}
	}
	for _, w := range a.org.Workspaces {
		for _, m := range w.Memberships {
			if refersTo(ref, m.User, me) {
				return m.User, true
			}
		}
	}
	return User{}, false
}

// findMembership is the membership with this gid, and its workspace; the
// caller holds a.mu.
func (a *API) findMembership(gid string) (*Workspace, *Membership) {
	for _, w := range a.org.Workspaces {
		ms := w.Memberships // in gid order, every gid as long
		if i := sort.Search(len(ms), func(i int) bool { return ms[i].GID >= gid }); i < len(ms) && ms[i].GID == gid {
			return w, ms[i]
		}
	}
	return nil, nil
}

// serveMembership is GET /workspace_memberships/{gid}: the full record
// unless opt_fields asks for less. GUESS: a membership that
// Config.HideInactive leaves out of the listing is still read by its gid,
// inactive: nothing says it is not.
func (a *API) serveMembership(c *call, gid string, fields []string) {
	w, m := a.findMembership(gid)
	if m == nil || !c.use.sees(w.GID) {
		c.fail(http.StatusNotFound, "workspace_membership: Not a recognized ID: "+gid, nil)
		return
	}
	full := membershipRecord(w, m)
	if fields != nil {
		full = project(full, fields)
	}
	c.ok(map[string]any{"data": full})
}

// serveUser is GET /users/{ref}: the full record (UserResponse) unless
// opt_fields asks for less, with the workspaces the user is a member of.
func (a *API) serveUser(c *call, ref string, fields []string) {
	me := c.use.user()
	u, ok := a.findUser(ref, me)
	if !ok {
		c.fail(http.StatusNotFound, msgUnknownUser+ref, nil)
		return
	}
	workspaces := []record{}
	for _, w := range a.visible(c.use) {
		if u.GID == TokenUser.GID || u.GID == MemberTokenUser.GID || len(w.membershipsOf(u.GID, me)) > 0 {
			workspaces = append(workspaces, compactOf(workspaceRecord(w)))
		}
	}
	full := userBaseRecord(u)
	full["workspaces"] = workspaces
	if fields != nil {
		full = project(full, fields)
	}
	c.ok(map[string]any{"data": full})
}

// membershipsOf are w's memberships of the user ref names, in gid order.
func (w *Workspace) membershipsOf(ref string, me User) []*Membership {
	var out []*Membership
	for _, m := range w.Memberships {
		if refersTo(ref, m.User, me) {
			out = append(out, m)
		}
	}
	return out
}

// changeRequest checks what removeUser and addUser need of the request:
// an admin's token and a body {"data":{"user":…}}. It answers, and
// returns "", when they are not there.
func changeRequest(c *call) (ref string) {
	if c.use.kind == MemberToken {
		c.fail(http.StatusForbidden, msgNotAdmin, nil)
		return ""
	}
	var body struct {
		Data struct {
			User string `json:"user"`
		} `json:"data"`
	}
	switch {
	case c.inErr != nil:
		c.fail(http.StatusBadRequest, msgBodyInvalid, nil)
	case len(c.in) > maxRequestBody:
		c.fail(http.StatusRequestEntityTooLarge, msgBodyTooLarge, nil)
	case json.Unmarshal(c.in, &body) != nil:
		c.fail(http.StatusBadRequest, msgBodyInvalid, nil)
	case body.Data.User == "":
		c.fail(http.StatusBadRequest, msgUserMissing, nil)
	}
	return body.Data.User
}

// removeUser is POST /workspaces/{gid}/removeUser: the user's active
// membership turns inactive (and leaves the listing under
// Config.HideInactive), and an organisation's audit log gains a
// user_deprovisioned event whose actor is the token's user (GUESS: the
// spec says removal deprovisions the user, not what it logs).
func (a *API) removeUser(c *call, w *Workspace) {
	ref := changeRequest(c)
	if ref == "" {
		return
	}
	me := c.use.user()
	if refersTo(ref, me, me) {
		// GUESS: Asana refuses an admin's removing themselves, as its
		// Admin Console does; the spec does not say.
		c.fail(http.StatusForbidden, msgRemoveSelf, nil)
		return
	}
	ms := w.membershipsOf(ref, me)
	if len(ms) == 0 {
		// GUESS: a user who is no member of the workspace is unknown to
		// it, 404 as for any unknown gid.
		c.fail(http.StatusNotFound, msgUnknownUser+ref, nil)
		return
	}
	actor := me
	for _, m := range ms {
		// GUESS: removing a member already removed answers 200 again and
		// changes nothing, as the SCIM delete it follows is idempotent.
		if !m.IsActive {
			continue
		}
		m.IsActive, m.Pending = false, false
		if w.IsOrganization {
			a.org.AddAuditEvent(w, AuditEvent{CreatedAt: a.now(), Type: asana.EventDeprovisioned, User: &m.User, Actor: &actor})
		}
	}
	c.ok(map[string]any{"data": record{}})
}

// addUser is POST /workspaces/{gid}/addUser: a user not an active member
// gets a new membership, in an organisation a pending invitation (active,
// as the API shows invitees), in a plain workspace an active member. It
// answers the user's record (UserBaseResponse).
func (a *API) addUser(c *call, w *Workspace, fields []string) {
	ref := changeRequest(c)
	if ref == "" {
		return
	}
	me := c.use.user()
	answer := func(u User) {
		full := userBaseRecord(u)
		if fields != nil {
			full = project(full, fields)
		}
		c.ok(map[string]any{"data": full})
	}
	ms := w.membershipsOf(ref, me)
	for _, m := range ms {
		// GUESS: adding an active member (or an invitee) answers their
		// record and changes nothing; so does adding oneself, an admin of
		// every workspace here.
		if m.IsActive {
			answer(m.User)
			return
		}
	}
	if refersTo(ref, me, me) {
		answer(me)
		return
	}
	var u User
	switch found, ok := a.findUser(ref, me); {
	case len(ms) > 0:
		u = ms[0].User
	case ok:
		u = found
	case strings.Contains(ref, "@"):
		// GUESS: an email no one has is invited as a new user, named by
		// the email's local part until they sign up.
		local, _, _ := strings.Cut(ref, "@")
		u = User{GID: a.org.gid(), Name: local, Email: ref}
	default:
		c.fail(http.StatusNotFound, msgUnknownUser+ref, nil)
		return
	}
	// GUESS: a re-added user gets a new membership beside the inactive
	// one, as the generated Readded users have; in an organisation a user
	// whose email is outside its domains joins as a guest, anyone else as
	// a full member.
	m := &Membership{User: u, IsActive: true, Pending: w.IsOrganization, CreatedAt: a.now(),
		IsGuest: w.IsOrganization && asana.EmailDomain(u.Email, w.EmailDomains) == asana.Outside}
	a.org.place(w, m)
	if w.IsOrganization {
		// GUESS: a user removed before comes back with
		// user_reprovisioned, anyone else with user_invited.
		event, actor := asana.EventInvited, me
		if len(ms) > 0 {
			event = asana.EventReprovisioned
		}
		a.org.AddAuditEvent(w, AuditEvent{CreatedAt: a.now(), Type: event, User: &m.User, Actor: &actor})
	}
	answer(u)
}
