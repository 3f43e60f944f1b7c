package asanatest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

const member = "member-token"

// memberServer serves an organisation (acme.example) and a plain
// workspace, to the default token (an admin), a member's token and a
// granular one.
func memberServer(t *testing.T, cfg asanatest.Config) (srv *asanatest.Server, org, plain *asanatest.Workspace) {
	t.Helper()
	cfg.Tokens = map[string]asanatest.TokenKind{tok: asanatest.ServiceAccount, member: asanatest.MemberToken, "granular": asanatest.GranularScopes}
	o := asanatest.Generate(7,
		asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, EmailDomain: "acme.example", Licensed: 6, Admins: 1, Guests: 2, Inactive: 2, Readded: 1},
		asanatest.WorkspaceSpec{Name: "Plain", Licensed: 3})
	srv = asanatest.NewServer(o, cfg)
	t.Cleanup(srv.Close)
	return srv, o.Workspaces[0], o.Workspaces[1]
}

func post(t *testing.T, srv *asanatest.Server, token, path, body string) response {
	t.Helper()
	r, err := srv.Post(token, path, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return response{r}
}

func userBody(ref string) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]string{"user": ref}})
	return string(b)
}

func (r response) data(t *testing.T) map[string]any {
	t.Helper()
	d, ok := r.Body["data"].(map[string]any)
	if !ok {
		t.Fatalf("%d: data is not an object: %s", r.Status, r.Raw)
	}
	return d
}

// state is a copy of the workspace's memberships, read under the lock.
func state(srv *asanatest.Server, w *asanatest.Workspace) []asanatest.Membership {
	var ms []asanatest.Membership
	srv.Mutate(func(*asanatest.Org) {
		for _, m := range w.Memberships {
			ms = append(ms, *m)
		}
	})
	return ms
}

// licensed is the first active licensed member who is no admin and has no
// other membership in w.
func licensed(t *testing.T, srv *asanatest.Server, w *asanatest.Workspace) asanatest.Membership {
	t.Helper()
	ms := state(srv, w)
	memberships := map[string]int{} // by user gid
	for _, m := range ms {
		memberships[m.User.GID]++
	}
	for _, m := range ms {
		if m.IsActive && !m.IsAdmin && !m.IsGuest && !m.IsViewOnly && !m.Pending && memberships[m.User.GID] == 1 {
			return m
		}
	}
	t.Fatal("no licensed member")
	return asanatest.Membership{}
}

func events(srv *asanatest.Server, w *asanatest.Workspace, eventType string) []asanatest.AuditEvent {
	var es []asanatest.AuditEvent
	srv.Mutate(func(*asanatest.Org) { es = w.AuditEvents(eventType) })
	return es
}

// TestTokensActAsTheirUsers: /users/me is the token's user (an admin for a
// full-access token, the member for a MemberToken), listed in no
// workspace; any member can be read by gid or email, with the workspaces
// they belong to.
func TestTokensActAsTheirUsers(t *testing.T) {
	srv, org, plain := memberServer(t, asanatest.Config{})
	for token, want := range map[string]asanatest.User{tok: asanatest.TokenUser, member: asanatest.MemberTokenUser, "granular": asanatest.TokenUser} {
		me := get(t, srv, token, "/users/me").data(t)
		if me["gid"] != want.GID || me["email"] != want.Email || me["name"] != want.Name || me["resource_type"] != "user" {
			t.Errorf("%s: /users/me is %v, want %+v", token, me, want)
		}
		if ws, _ := me["workspaces"].([]any); len(ws) != 2 {
			t.Errorf("%s: the token's user is in %d workspaces, want both", token, len(ws))
		}
	}
	for _, w := range []*asanatest.Workspace{org, plain} {
		for _, m := range state(srv, w) {
			if m.User.GID == asanatest.TokenUser.GID || m.User.GID == asanatest.MemberTokenUser.GID {
				t.Errorf("a token's user is listed in %s", w.Name)
			}
		}
	}
	m := licensed(t, srv, plain)
	for _, ref := range []string{m.User.GID, strings.ToUpper(m.User.Email)} {
		u := get(t, srv, tok, "/users/"+ref).data(t)
		ws, _ := u["workspaces"].([]any)
		if u["gid"] != m.User.GID || len(ws) != 1 || ws[0].(map[string]any)["gid"] != plain.GID {
			t.Errorf("/users/%s is %v, want %s in %s only", ref, u, m.User.GID, plain.GID)
		}
	}
	if got := keys(get(t, srv, tok, "/users/me?opt_fields=email,name").data(t)); got != "email,gid,name" {
		t.Errorf("/users/me?opt_fields=email,name has %s", got)
	}
	if r := get(t, srv, tok, "/users/1299999999999999"); r.Status != 404 || r.errorMessage(t) != "user: Not a recognized ID: 1299999999999999" {
		t.Errorf("unknown user: %d %s", r.Status, r.Raw)
	}
}

// TestGetWorkspaceMembership: the full record, with its workspace, unless
// opt_fields asks for less; 404 for a gid no one has, 403 for a granular
// token, as the listing.
func TestGetWorkspaceMembership(t *testing.T) {
	srv, org, _ := memberServer(t, asanatest.Config{})
	m := licensed(t, srv, org)
	path := "/workspace_memberships/" + m.GID
	full := get(t, srv, tok, path).data(t)
	if got := keys(full); got != "created_at,gid,is_active,is_admin,is_guest,is_view_only,resource_type,user,user_task_list,vacation_dates,workspace" {
		t.Errorf("full record has %s", got)
	}
	if ws := full["workspace"].(map[string]any); ws["gid"] != org.GID || ws["name"] != "Acme" {
		t.Errorf("workspace %v, want %s", ws, org.GID)
	}
	some := get(t, srv, tok, path+"?opt_fields=is_active,user.email,workspace").data(t)
	if got := keys(some); got != "gid,is_active,user,workspace" || some["user"].(map[string]any)["email"] != m.User.Email ||
		keys(some["workspace"].(map[string]any)) != "gid" {
		t.Errorf("opt_fields=is_active,user.email,workspace gave %v", some)
	}
	if r := get(t, srv, tok, "/workspace_memberships/1299999999999999"); r.Status != 404 ||
		r.errorMessage(t) != "workspace_membership: Not a recognized ID: 1299999999999999" {
		t.Errorf("unknown membership: %d %s", r.Status, r.Raw)
	}
	if r := get(t, srv, "granular", path); r.Status != 403 || r.errorMessage(t) != "Full permissions are required to use this endpoint." {
		t.Errorf("granular token: %d %s", r.Status, r.Raw)
	}
}

// TestRemoveUser: by gid or by email, the membership turns inactive, an
// organisation logs user_deprovisioned with the token's user as actor, and
// Asana's answer is an empty record.
func TestRemoveUser(t *testing.T) {
	for _, byEmail := range []bool{false, true} {
		srv, org, plain := memberServer(t, asanatest.Config{})
		for _, w := range []*asanatest.Workspace{org, plain} {
			m := licensed(t, srv, w)
			ref := m.User.GID
			if byEmail {
				ref = strings.ToUpper(m.User.Email) // GUESS: emails match whatever their case
			}
			r := post(t, srv, tok, "/workspaces/"+w.GID+"/removeUser", userBody(ref))
			if r.Status != 200 || string(r.Raw) != `{"data":{}}` {
				t.Fatalf("removeUser in %s: %d %s", w.Name, r.Status, r.Raw)
			}
			after := get(t, srv, tok, "/workspace_memberships/"+m.GID+"?opt_fields=is_active").data(t)
			if after["is_active"] != false {
				t.Errorf("%s: the removed membership is %v", w.Name, after)
			}
			deprovisioned := events(srv, w, asana.EventDeprovisioned)
			switch {
			case !w.IsOrganization && len(deprovisioned) != 0:
				t.Errorf("a plain workspace logged %d events", len(deprovisioned))
			case w.IsOrganization && (len(deprovisioned) != 1 || deprovisioned[0].User.GID != m.User.GID || deprovisioned[0].Actor.GID != asanatest.TokenUser.GID):
				t.Errorf("the organisation logged %+v, want one user_deprovisioned of %s by the token's user", deprovisioned, m.User.GID)
			}
		}
	}
}

// TestRemoveUserLeavesTheListingWhenHidden: under HideInactive the removed
// member is no longer listed, and is still read by its gid (GUESS).
func TestRemoveUserLeavesTheListingWhenHidden(t *testing.T) {
	srv, org, _ := memberServer(t, asanatest.Config{HideInactive: true})
	m := licensed(t, srv, org)
	list := "/workspaces/" + org.GID + "/workspace_memberships?opt_fields=is_active"
	before := len(get(t, srv, tok, list).items(t))
	if r := post(t, srv, tok, "/workspaces/"+org.GID+"/removeUser", userBody(m.User.GID)); r.Status != 200 {
		t.Fatalf("removeUser: %d %s", r.Status, r.Raw)
	}
	for _, item := range get(t, srv, tok, list).items(t) {
		if item["gid"] == m.GID {
			t.Errorf("the removed membership is still listed")
		}
	}
	if after := len(get(t, srv, tok, list).items(t)); after != before-1 {
		t.Errorf("%d listed after the removal, want %d", after, before-1)
	}
	if r := get(t, srv, tok, "/workspace_memberships/"+m.GID+"?opt_fields=is_active"); r.Status != 200 || r.data(t)["is_active"] != false {
		t.Errorf("the hidden membership by its gid: %d %s", r.Status, r.Raw)
	}
}

// TestRemoveUserGuesses: what the spec does not say, as the simulator
// decides it: removing a member twice, someone who is no member, or
// oneself, and a member's token.
func TestRemoveUserGuesses(t *testing.T) {
	srv, org, plain := memberServer(t, asanatest.Config{})
	remove := "/workspaces/" + org.GID + "/removeUser"
	m := licensed(t, srv, org)
	if r := post(t, srv, tok, remove, userBody(m.User.GID)); r.Status != 200 {
		t.Fatalf("removeUser: %d %s", r.Status, r.Raw)
	}
	before := state(srv, org)
	// GUESS: a second removal answers as the first and changes nothing.
	if r := post(t, srv, tok, remove, userBody(m.User.GID)); r.Status != 200 || string(r.Raw) != `{"data":{}}` {
		t.Errorf("removing a removed member: %d %s", r.Status, r.Raw)
	}
	if n := len(events(srv, org, asana.EventDeprovisioned)); n != 1 {
		t.Errorf("%d user_deprovisioned events after removing twice, want 1", n)
	}
	// GUESS: someone who is no member here (a member of another workspace
	// or no one at all) is not found.
	other := licensed(t, srv, plain)
	for _, ref := range []string{other.User.GID, other.User.Email, "1299999999999999", "nobody@acme.example"} {
		if r := post(t, srv, tok, remove, userBody(ref)); r.Status != 404 || r.errorMessage(t) != "user: Not a recognized ID: "+ref {
			t.Errorf("removing %s, no member: %d %s", ref, r.Status, r.Raw)
		}
	}
	// GUESS: no one removes themselves.
	for _, ref := range []string{"me", asanatest.TokenUser.GID, asanatest.TokenUser.Email} {
		if r := post(t, srv, tok, remove, userBody(ref)); r.Status != 403 || r.errorMessage(t) != "You cannot remove yourself from this workspace." {
			t.Errorf("removing oneself as %s: %d %s", ref, r.Status, r.Raw)
		}
	}
	// A member who is no admin may not remove anyone (the spec: "must be
	// an admin").
	n := licensed(t, srv, org)
	if r := post(t, srv, member, remove, userBody(n.User.GID)); r.Status != 403 || !strings.Contains(r.errorMessage(t), "admin") {
		t.Errorf("a member's token: %d %s", r.Status, r.Raw)
	}
	if after := state(srv, org); len(after) != len(before) || after[0] != before[0] || licensed(t, srv, org) != n {
		t.Errorf("the refused removals changed the memberships")
	}
}

// TestChangeRequestsAreChecked: a body that is not {"data":{"user":…}},
// a granular token, and a workspace no one has.
func TestChangeRequestsAreChecked(t *testing.T) {
	srv, org, _ := memberServer(t, asanatest.Config{})
	for _, action := range []string{"removeUser", "addUser"} {
		path := "/workspaces/" + org.GID + "/" + action
		for _, tc := range []struct {
			token, path, body string
			status            int
			message           string
		}{
			{tok, path, `{"data":`, 400, "Could not parse request data, invalid JSON"},
			{tok, path, `{"data":{"user":""}}`, 400, "user: Missing input"},
			{tok, path, `{"user":"1"}`, 400, "user: Missing input"},
			{tok, path, `{"data":{"user":"` + strings.Repeat("x", 70_000) + `"}}`, 413, "Request body is too large."},
			{"granular", path, userBody("me"), 403, "Full permissions are required to use this endpoint."},
			{tok, "/workspaces/1299999999999999/" + action, userBody("me"), 404, "workspace: Not a recognized ID: 1299999999999999"},
			{"", path, userBody("me"), 401, "Not Authorized"},
		} {
			if r := post(t, srv, tc.token, tc.path, tc.body); r.Status != tc.status || r.errorMessage(t) != tc.message {
				t.Errorf("%s %.40s: %d %s, want %d %q", action, tc.body, r.Status, r.Raw, tc.status, tc.message)
			}
		}
		if r := get(t, srv, tok, path); r.Status != 404 || r.errorMessage(t) != "No matching route for request" {
			t.Errorf("GET %s: %d %s", action, r.Status, r.Raw)
		}
	}
}

// TestAddUser: a removed member comes back, in an organisation as a
// pending invitation on a new membership (GUESS) beside the inactive one,
// logged as user_reprovisioned; in a plain workspace as an active member.
// The answer is the user's record.
func TestAddUser(t *testing.T) {
	srv, org, plain := memberServer(t, asanatest.Config{})
	for _, w := range []*asanatest.Workspace{org, plain} {
		m := licensed(t, srv, w)
		if r := post(t, srv, tok, "/workspaces/"+w.GID+"/removeUser", userBody(m.User.GID)); r.Status != 200 {
			t.Fatalf("removeUser: %d %s", r.Status, r.Raw)
		}
		r := post(t, srv, tok, "/workspaces/"+w.GID+"/addUser?opt_fields=email,name", userBody(m.User.Email))
		if u := r.data(t); r.Status != 200 || u["gid"] != m.User.GID || u["email"] != m.User.Email || keys(u) != "email,gid,name" {
			t.Fatalf("addUser in %s: %d %s", w.Name, r.Status, r.Raw)
		}
		var old, added []asanatest.Membership
		for _, x := range state(srv, w) {
			switch {
			case x.User.GID == m.User.GID && x.GID == m.GID:
				old = append(old, x)
			case x.User.GID == m.User.GID:
				added = append(added, x)
			}
		}
		if len(old) != 1 || old[0].IsActive {
			t.Errorf("%s: the old membership is %+v, want it kept, inactive", w.Name, old)
		}
		if len(added) != 1 || !added[0].IsActive || added[0].Pending != w.IsOrganization || added[0].IsGuest || added[0].GID <= m.GID {
			t.Errorf("%s: added %+v, want one new active membership, pending only in an organisation", w.Name, added)
		}
		if reprovisioned := events(srv, w, asana.EventReprovisioned); w.IsOrganization &&
			(len(reprovisioned) != 1 || reprovisioned[0].User.GID != m.User.GID || reprovisioned[0].Actor.GID != asanatest.TokenUser.GID) {
			t.Errorf("%s: logged %+v, want one user_reprovisioned", w.Name, reprovisioned)
		}
		// The full record by default.
		if r := post(t, srv, tok, "/workspaces/"+w.GID+"/addUser", userBody(m.User.GID)); r.Status != 200 || keys(r.data(t)) != "email,gid,name,photo,resource_type" {
			t.Errorf("addUser without opt_fields: %d %s", r.Status, r.Raw)
		}
	}
}

// TestAddUserGuesses: what the spec does not say, as the simulator decides
// it.
func TestAddUserGuesses(t *testing.T) {
	srv, org, plain := memberServer(t, asanatest.Config{})
	add := "/workspaces/" + org.GID + "/addUser"
	before := len(state(srv, org))
	// GUESS: adding an active member, or oneself, changes nothing.
	m := licensed(t, srv, org)
	for _, ref := range []string{m.User.GID, "me"} {
		if r := post(t, srv, tok, add, userBody(ref)); r.Status != 200 {
			t.Errorf("adding %s: %d %s", ref, r.Status, r.Raw)
		}
	}
	if n := len(state(srv, org)); n != before {
		t.Errorf("adding members already in made %d memberships of %d", n, before)
	}
	// GUESS: a member of another workspace joins by gid; someone whose
	// email is outside the organisation's domains as a guest; an email no
	// one has is invited as a new user, logged as user_invited.
	other := licensed(t, srv, plain) // example.com, outside acme.example
	for _, ref := range []string{other.User.GID, "new.hire@acme.example"} {
		r := post(t, srv, tok, add, userBody(ref))
		if r.Status != 200 {
			t.Fatalf("adding %s: %d %s", ref, r.Status, r.Raw)
		}
		ms := state(srv, org)
		last := ms[len(ms)-1]
		if last.User.GID != r.data(t)["gid"] || !last.IsActive || !last.Pending || last.IsGuest != (ref == other.User.GID) {
			t.Errorf("adding %s made %+v", ref, last)
		}
	}
	if n := len(events(srv, org, asana.EventInvited)); n != 2 {
		t.Errorf("%d user_invited events, want 2", n)
	}
	if r := post(t, srv, tok, add, userBody("1299999999999999")); r.Status != 404 || r.errorMessage(t) != "user: Not a recognized ID: 1299999999999999" {
		t.Errorf("adding a gid no one has: %d %s", r.Status, r.Raw)
	}
	if r := post(t, srv, member, add, userBody("someone@acme.example")); r.Status != 403 || !strings.Contains(r.errorMessage(t), "admin") {
		t.Errorf("a member's token: %d %s", r.Status, r.Raw)
	}
	if n := len(state(srv, org)); n != before+2 {
		t.Errorf("%d memberships, want %d", n, before+2)
	}
}

// TestLateFaultsActFirst: a fault with Late answers after the change is
// made, one without it instead of the change; the new routes meet the
// fault catalogue as the listings do.
func TestLateFaultsActFirst(t *testing.T) {
	for _, late := range []bool{false, true} {
		srv, org, _ := memberServer(t, asanatest.Config{})
		m := licensed(t, srv, org)
		srv.Inject(asanatest.Fault{Route: asana.EndpointRemoveUser, Status: 500, Times: 1, Late: late})
		if r := post(t, srv, tok, "/workspaces/"+org.GID+"/removeUser", userBody(m.User.GID)); r.Status != 500 || r.errorMessage(t) != "Server Error" {
			t.Errorf("late %t: %d %s", late, r.Status, r.Raw)
		}
		removed := !get(t, srv, tok, "/workspace_memberships/"+m.GID+"?opt_fields=is_active").data(t)["is_active"].(bool)
		if removed != late {
			t.Errorf("late %t: removed %t", late, removed)
		}
		log := srv.Requests()
		if r := log[0]; r.Method != http.MethodPost || r.Route != asana.EndpointRemoveUser || r.Page != 0 || r.Status != 500 {
			t.Errorf("logged %+v", r)
		}
	}
}

// TestDemoCanBeReclaimed: the demo's default token is an admin: it removes
// a member of Acme and adds them back, in memory.
func TestDemoCanBeReclaimed(t *testing.T) {
	srv := asanatest.NewServer(asanatest.DemoOrg(2026), asanatest.Config{})
	defer srv.Close()
	c := srv.NewClient(nil)
	ctx := context.Background()
	acme := srv.WorkspaceGIDs()[0]
	before, err := c.CountSeats(ctx, acme, asana.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var target asana.Membership
	if _, err := c.EachMembershipPage(ctx, acme, asana.Roster, nil, func(p asana.MembershipPage) error {
		for _, m := range p.Items {
			if target.GID == "" && m.State() == asana.Licensed && !m.IsAdmin {
				target = m
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	me, err := c.Me(ctx)
	if err != nil || me.GID != asanatest.TokenUser.GID {
		t.Fatalf("Me: %+v, %v", me, err)
	}
	if err := c.RemoveUser(ctx, acme, target.User.GID); err != nil {
		t.Fatal(err)
	}
	after, err := c.CountSeats(ctx, acme, asana.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Seats.Licensed != before.Seats.Licensed-1 || after.Seats.Inactive != before.Seats.Inactive+1 {
		t.Errorf("after the removal %+v, before %+v", after.Seats, before.Seats)
	}
	if u, err := c.AddUser(ctx, acme, target.User.Email); err != nil || u.GID != target.User.GID {
		t.Fatalf("AddUser: %+v, %v", u, err)
	}
	back, err := c.CountSeats(ctx, acme, asana.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Seats.Licensed != before.Seats.Licensed || back.Seats.Inactive != before.Seats.Inactive+1 {
		t.Errorf("after the re-add %+v, before %+v: want the seat back beside the old inactive membership", back.Seats, before.Seats)
	}
}
