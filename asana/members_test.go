package asana_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/testutil/pagetest"
)

// acme is an organisation whose members can be removed and added back.
var acme = asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, EmailDomain: "acme.example", Licensed: 8, Admins: 1, Guests: 2, Inactive: 2}

// target is a licensed member of the harness's first workspace who is no
// admin, as the server holds them.
func (h *harness) target(t *testing.T) asanatest.Membership {
	t.Helper()
	var m asanatest.Membership
	h.srv.Mutate(func(*asanatest.Org) {
		for _, x := range h.first.Memberships {
			if x.IsActive && !x.IsAdmin && !x.IsGuest && !x.IsViewOnly && !x.Pending {
				m = *x
				return
			}
		}
	})
	if m.GID == "" {
		t.Fatal("no licensed member")
	}
	return m
}

// active reports whether the user has an active membership in the
// harness's first workspace, as it was when the harness began: a workspace
// deleted since keeps its memberships as they were.
func (h *harness) active(user string) bool {
	found := false
	h.srv.Mutate(func(*asanatest.Org) {
		for _, x := range h.first.Memberships {
			found = found || x.User.GID == user && x.IsActive
		}
	})
	return found
}

func TestMeIsTheTokensUser(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, acme)
	me, err := h.client.Me(context.Background())
	if err != nil || me != (asana.User{GID: asanatest.TokenUser.GID, Name: asanatest.TokenUser.Name, Email: asanatest.TokenUser.Email}) {
		t.Fatalf("Me() = %+v, %v", me, err)
	}
	r := h.srv.Requests()[0]
	if r.Path != "/users/me" || r.Route != asana.EndpointUser || r.Query.Get("opt_fields") != "email,name" || h.obs.requests[asana.EndpointUser][200] != 1 {
		t.Errorf("requested %+v, observed %v", r, h.obs.requests)
	}
}

// TestWorkspaceMembershipNamesItsWorkspace: one membership read with the
// detail's fields and its workspace's gid, whatever workspace the caller
// thought it was in.
func TestWorkspaceMembershipNamesItsWorkspace(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, acme, spread(10))
	want := h.target(t)
	m, workspace, err := h.client.WorkspaceMembership(context.Background(), want.GID, asana.Roster)
	if err != nil {
		t.Fatal(err)
	}
	if workspace != h.workspace(0) || m.GID != want.GID || m.State() != asana.Licensed || m.User.GID != want.User.GID ||
		m.User.Email != want.User.Email || m.User.Name != want.User.Name || !m.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("read %+v in %s, want %+v in %s", m, workspace, want, h.workspace(0))
	}
	if q := h.srv.Requests()[0].Query.Get("opt_fields"); q != "is_active,is_guest,is_admin,is_view_only,created_at,user.name,user.email,workspace" {
		t.Errorf("opt_fields=%s", q)
	}
	_, _, err = h.client.WorkspaceMembership(context.Background(), "1299999999999999", asana.SeatFlags)
	if !errors.Is(err, asana.ErrNotFound) || !strings.Contains(err.Error(), "the membership does not exist") {
		t.Errorf("unknown membership: %v", err)
	}
}

// TestRemoveAndAddUser: a member removed by gid and added back by email;
// each request is one POST, observed under its endpoint.
func TestRemoveAndAddUser(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, acme)
	ctx := context.Background()
	m := h.target(t)
	if err := h.client.RemoveUser(ctx, h.workspace(0), m.User.GID); err != nil {
		t.Fatal(err)
	}
	if h.active(m.User.GID) {
		t.Fatal("the member is still active")
	}
	u, err := h.client.AddUser(ctx, h.workspace(0), m.User.Email)
	if err != nil || u.GID != m.User.GID || u.Email != m.User.Email || u.Name != m.User.Name {
		t.Fatalf("AddUser() = %+v, %v", u, err)
	}
	if !h.active(m.User.GID) {
		t.Fatal("the member was not added back")
	}
	reqs := h.srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != http.MethodPost || reqs[0].Route != asana.EndpointRemoveUser ||
		reqs[1].Method != http.MethodPost || reqs[1].Route != asana.EndpointAddUser || reqs[1].Query.Get("opt_fields") != "email,name" {
		t.Errorf("requests %+v", reqs)
	}
	if want := fmt.Sprint(map[string]map[int]int{asana.EndpointAddUser: {200: 1}, asana.EndpointRemoveUser: {200: 1}}); fmt.Sprint(h.obs.requests) != want {
		t.Errorf("observed %v, want %v", h.obs.requests, want)
	}
}

// TestChangeFailures walks the simulator's catalogue of failed changes
// through RemoveUser and AddUser: a POST is retried only when Asana
// certainly did not act (a 429), any failure after which it may have acted
// is ErrOutcomeUnknown, sent once, and the change is made or not as the
// scenario says.
func TestChangeFailures(t *testing.T) {
	for _, sc := range asanatest.ChangeScenarios {
		for _, route := range []string{asana.EndpointRemoveUser, asana.EndpointAddUser} {
			t.Run(sc.Name+"/"+route, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, asanatest.Config{}, func(o *asana.Options) { o.MaxAttempts = 3 }, acme)
				m := h.target(t)
				change := func(ctx context.Context) error { return h.client.RemoveUser(ctx, h.workspace(0), m.User.GID) }
				if route == asana.EndpointAddUser {
					if err := change(context.Background()); err != nil {
						t.Fatal(err)
					}
					change = func(ctx context.Context) error {
						_, err := h.client.AddUser(ctx, h.workspace(0), m.User.Email)
						return err
					}
				}
				wasActive := h.active(m.User.GID)
				for _, f := range sc.On(route) {
					h.srv.Inject(f)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if sc.Slow {
					ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
				}
				defer cancel()
				err := change(ctx)
				switch {
				case sc.Outcome == "" && err != nil:
					t.Fatalf("err = %v, want success", err)
				case sc.Outcome != "" && !errors.Is(err, sc.Outcome):
					t.Fatalf("err = %v, want kind %q", err, sc.Outcome)
				}
				if acted := h.active(m.User.GID) != wasActive; acted != sc.Acted {
					t.Errorf("acted %t, want %t", acted, sc.Acted)
				}
				sent := h.obs.retries[route] + 1
				if h.obs.retries[route] < sc.Retries || sc.Retries == 0 && sent != 1 {
					t.Errorf("%d retries, want %d", h.obs.retries[route], sc.Retries)
				}
				if errors.Is(err, asana.ErrOutcomeUnknown) && !strings.Contains(err.Error(), "re-read the member to learn whether Asana acted") {
					t.Errorf("error %q does not say what to do", err)
				}
				if sc.Slow && (!errors.Is(err, context.DeadlineExceeded) || strings.Count(err.Error(), "asana: POST") != 1) {
					t.Errorf("err = %v, want the deadline in it, said once", err)
				}
			})
		}
	}
}

// TestPostRetriesWhatNeverLeft: a connection refused leaves nothing at
// Asana, so a POST is retried as a GET is, and fails as a network error.
func TestPostRetriesWhatNeverLeft(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	obs := newRecorder()
	c, err := asana.New(asana.Options{BaseURL: "http://" + addr + "/api/1.0", Transport: mustBearer(t, asanatest.DefaultToken),
		MaxAttempts: 3, RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	err = c.RemoveUser(context.Background(), "1", "someone@acme.example")
	if !errors.Is(err, asana.ErrNetwork) || obs.retries[asana.EndpointRemoveUser] != 2 {
		t.Errorf("err = %v after %d retries; want a network error after 2", err, obs.retries[asana.EndpointRemoveUser])
	}
	if strings.Contains(err.Error(), "someone") {
		t.Errorf("error %q quotes the user", err)
	}
}

// TestPostTimeoutIsOutcomeUnknown: the client's own request timeout, with
// the change made, is ErrOutcomeUnknown, sent once.
func TestPostTimeoutIsOutcomeUnknown(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, func(o *asana.Options) { o.RequestTimeout = 200 * time.Millisecond }, acme)
	m := h.target(t)
	h.srv.Inject(asanatest.Fault{Route: asana.EndpointRemoveUser, Latency: time.Hour, Late: true})
	err := h.client.RemoveUser(context.Background(), h.workspace(0), m.User.GID)
	if !errors.Is(err, asana.ErrOutcomeUnknown) || h.obs.requests[asana.EndpointRemoveUser][0] != 1 || len(h.obs.retries) != 0 {
		t.Errorf("err = %v, observed %v and retries %v; want one request, unknown", err, h.obs.requests, h.obs.retries)
	}
	if h.active(m.User.GID) {
		t.Errorf("the removal was not made")
	}
}

// TestPostRefusalsKeepTheirKinds: Asana's refusals (a 4xx) say it did not
// act, and keep the kinds a GET gets, with hints for a change.
func TestPostRefusalsKeepTheirKinds(t *testing.T) {
	const member = "member-token"
	cfg := asanatest.Config{Tokens: map[string]asanatest.TokenKind{asanatest.DefaultToken: asanatest.ServiceAccount, member: asanatest.MemberToken}}
	for _, tc := range []struct {
		name  string
		token string
		fault *asanatest.Fault
		user  string // the target's gid when ""
		kind  asana.Kind
		says  string
	}{
		{name: "member token", token: member, kind: asana.ErrForbidden, says: "only an admin of the workspace may remove or add members"},
		{name: "oneself", user: "me", kind: asana.ErrForbidden, says: "no one may remove themselves"},
		{name: "no such member", user: "nobody@acme.example", kind: asana.ErrNotFound, says: "the workspace or the user does not exist"},
		{name: "bad request", fault: &asanatest.Fault{Status: 400}, kind: asana.ErrBadRequest, says: "bug in asana_exporter"},
		{name: "wrong token", token: "not-a-token", kind: asana.ErrUnauthorized, says: "invalid, expired or revoked"},
		{name: "payment required", fault: &asanatest.Fault{Status: 402}, kind: asana.ErrPaymentRequired, says: "paid Asana plan"},
		{name: "legal block", fault: &asanatest.Fault{Status: 451}, kind: asana.ErrLegal, says: "legal reasons"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tune := func(*asana.Options) {}
			if tc.token != "" {
				tune = withToken(t, tc.token)
			}
			h := newHarness(t, cfg, tune, acme)
			m := h.target(t)
			if tc.fault != nil {
				h.srv.Inject(*tc.fault)
			}
			user := tc.user
			if user == "" {
				user = m.User.GID
			}
			err := h.client.RemoveUser(context.Background(), h.workspace(0), user)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) || !strings.HasPrefix(err.Error(), "asana: POST "+asana.EndpointRemoveUser) {
				t.Errorf("err = %v, want kind %q saying %q", err, tc.kind, tc.says)
			}
			if n := len(h.srv.Requests()); n != 1 || !h.active(m.User.GID) {
				t.Errorf("%d requests, member active %t; want 1 and untouched", n, h.active(m.User.GID))
			}
			if strings.Contains(err.Error(), "nobody") || strings.Contains(err.Error(), m.User.GID) {
				t.Errorf("error %q quotes the user", err)
			}
		})
	}
}

// TestSingleRecordAnswersAreChecked: a 2xx whose record is not what the
// endpoint promises is an error, never a success: for a read, the kind a
// listing would give; for a change, ErrOutcomeUnknown, not retried.
func TestSingleRecordAnswersAreChecked(t *testing.T) {
	const (
		membership = `"gid":"` + gid1 + `","is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false,"created_at":"2024-01-02T03:04:05.000Z"`
		user       = `"user":{"gid":"9` + gid1 + `","name":"N","email":"n@acme.example"}`
		workspace  = `"workspace":{"gid":"1"}`
	)
	ok := func(body string) pagetest.Reply { return pagetest.Reply{Status: 200, Body: body} }
	read := func(c *asana.Client) error {
		_, _, err := c.WorkspaceMembership(context.Background(), gid1, asana.Roster)
		return err
	}
	me := func(c *asana.Client) error { _, err := c.Me(context.Background()); return err }
	remove := func(c *asana.Client) error { return c.RemoveUser(context.Background(), "1", "n@acme.example") }
	add := func(c *asana.Client) error {
		_, err := c.AddUser(context.Background(), "1", "n@acme.example")
		return err
	}
	for _, tc := range []struct {
		name, path string
		reply      pagetest.Reply
		call       func(*asana.Client) error
		kind       asana.Kind
		says       string
		requests   int
	}{
		{"membership without data", "/workspace_memberships/" + gid1, ok(`{}`), read, asana.ErrIncompleteRecord, "the answer has no data", 1},
		{"membership without workspace", "/workspace_memberships/" + gid1, ok(`{"data":{` + membership + `,` + user + `}}`), read,
			asana.ErrIncompleteRecord, "the record has no workspace.gid", 1},
		{"membership without user", "/workspace_memberships/" + gid1, ok(`{"data":{` + membership + `,` + workspace + `}}`), read,
			asana.ErrIncompleteRecord, "the record has no user.gid", 1},
		{"membership without a flag", "/workspace_memberships/" + gid1, ok(`{"data":{"gid":"` + gid1 + `",` + user + `,` + workspace + `}}`), read,
			asana.ErrIncompleteRecord, "opt_fields was not honoured", 1},
		{"membership with a flag of the wrong type", "/workspace_memberships/" + gid1,
			ok(`{"data":{` + strings.Replace(membership, `"is_guest":false`, `"is_guest":"no"`, 1) + `,` + user + `,` + workspace + `}}`), read,
			asana.ErrMalformedResponse, "is_guest that is neither true nor false", 1},
		{"another membership", "/workspace_memberships/" + gid1, ok(`{"data":{` + strings.Replace(membership, gid1, gid2, 1) + `,` + user + `,` + workspace + `}}`), read,
			asana.ErrMalformedResponse, "the record of another membership", 1},
		{"me without gid", "/users/me", ok(`{"data":{"name":"N"}}`), me, asana.ErrIncompleteRecord, "the record has no gid", 1},
		{"me as a list", "/users/me", ok(`{"data":[]}`), me, asana.ErrMalformedResponse, "cannot decode a JSON array", 5}, // a garbled 200 is retried
		{"removal without data", "/workspaces/1/removeUser", ok(`{}`), remove, asana.ErrOutcomeUnknown, "the answer has no data", 1},
		{"removal with null data", "/workspaces/1/removeUser", ok(`{"data":null}`), remove, asana.ErrOutcomeUnknown, "the answer has no data", 1},
		{"removal not JSON", "/workspaces/1/removeUser", ok(`<html>OK</html>`), remove, asana.ErrOutcomeUnknown, "not valid JSON", 1},
		{"addition without gid", "/workspaces/1/addUser", ok(`{"data":{"name":"N"}}`), add, asana.ErrOutcomeUnknown, "the record has no gid", 1},
		{"addition 5xx", "/workspaces/1/addUser", pagetest.Reply{Status: 503, Body: `{"errors":[{"message":"Server Error","phrase":"6 sad squid"}]}`}, add,
			asana.ErrOutcomeUnknown, `503 Service Unavailable: "Server Error" (phrase "6 sad squid")`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := pagetest.New(t)
			srv.On(tc.path, "", tc.reply)
			c := srv.Client(t, nil, nil)
			err := tc.call(c)
			if !errors.Is(err, tc.kind) || !strings.Contains(fmt.Sprint(err), tc.says) {
				t.Errorf("err = %v, want kind %q saying %q", err, tc.kind, tc.says)
			}
			if n := len(srv.Requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

// TestPostRetriesA429: a 429 says Asana did not act, so it is retried,
// and the retry succeeds.
func TestPostRetriesA429(t *testing.T) {
	srv := pagetest.New(t)
	srv.On("/workspaces/1/removeUser", "",
		pagetest.Reply{Status: 429, Body: `{"errors":[{"message":"You've made too many requests"}]}`},
		pagetest.Reply{Status: 200, Body: `{"data":{}}`})
	obs := newRecorder()
	if err := srv.Client(t, obs, nil).RemoveUser(context.Background(), "1", "1"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 2 || obs.rateLimited[asana.EndpointRemoveUser] != 1 || obs.retries[asana.EndpointRemoveUser] != 1 {
		t.Errorf("%d requests, observed %v and %v", n, obs.rateLimited, obs.retries)
	}
}

// TestChangeErrorsNeverQuoteTheUser: Asana's messages may quote the user
// a change named, an email or a gid; the error does not, in any case.
func TestChangeErrorsNeverQuoteTheUser(t *testing.T) {
	srv := pagetest.New(t)
	srv.On("/workspaces/1/addUser", "", pagetest.Reply{Status: 404,
		Body: `{"errors":[{"message":"user: Not a recognized ID: Jane.Doe@Acme.example","help":"jane.doe@acme.example is unknown","phrase":"JANE.DOE@ACME.EXAMPLE"}]}`})
	_, err := srv.Client(t, nil, nil).AddUser(context.Background(), "1", "jane.doe@acme.example")
	if !errors.Is(err, asana.ErrNotFound) || !strings.Contains(err.Error(), `"user: Not a recognized ID: <user>"`) {
		t.Fatalf("err = %v", err)
	}
	var e *asana.Error
	if !errors.As(err, &e) || strings.Contains(strings.ToLower(fmt.Sprintf("%v %+v %#v", err, e.Messages, e.Messages)), "jane") {
		t.Errorf("the error quotes the user: %#v", e)
	}
}

// TestOAuthResendsAPostOnce: an access token Asana calls expired is
// renewed and the POST sent again, body and all.
func TestOAuthResendsAPostOnce(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(1, acme), asanatest.Config{})
	defer srv.Close()
	c, _, _, _ := oauthClient(t, srv, time.Hour)
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &harness{srv: srv}
	srv.Mutate(func(o *asanatest.Org) { h.first = o.Workspaces[0] })
	m := h.target(t)
	srv.ExpireAccessTokens()
	srv.ResetRequests()
	if err := c.RemoveUser(context.Background(), h.workspace(0), m.User.GID); err != nil {
		t.Fatalf("after Asana expired the token: %v", err)
	}
	if reqs := srv.Requests(); len(reqs) != 2 || reqs[0].Status != 401 || reqs[1].Status != 200 || h.active(m.User.GID) {
		t.Errorf("requests %+v: want one 401, then the removal", reqs)
	}
}

// TestAuditQueryActorGID: a query for one actor gets only that user's
// events.
func TestAuditQueryActorGID(t *testing.T) {
	o := asanatest.Generate(1, acme)
	w := o.Workspaces[0]
	for _, m := range w.Memberships[:3] {
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: time.Now().Add(-time.Hour), Type: asana.EventLoginSucceeded, User: &m.User})
	}
	srv := asanatest.NewServer(o, asanatest.Config{})
	defer srv.Close()
	who := w.Memberships[1].User.GID
	page, err := srv.NewClient(nil).AuditLogPage(context.Background(), w.GID, asana.AuditQuery{EventType: asana.EventLoginSucceeded, ActorGID: who})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Resource.GID != who || srv.Requests()[0].Query.Get("actor_gid") != who {
		t.Errorf("events %+v for actor %s", page.Events, who)
	}
}
