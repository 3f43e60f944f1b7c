package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// TestResponsesConformToAsanaSpec checks every kind of response the
// simulator gives against the schemas of Asana's official OpenAPI spec
// (testdata/openapi), strictly: no property the spec does not declare.
func TestResponsesConformToAsanaSpec(t *testing.T) {
	v := newSpecValidator(t)
	const granular = "granular"
	cfg := asanatest.Config{Tokens: map[string]asanatest.TokenKind{tok: asanatest.FullAccess, granular: asanatest.GranularScopes},
		RequestsPerWindow: 200, RateWindow: time.Hour}
	srv, gid := newServer(t, cfg,
		asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, EmailDomain: "acme.test", Licensed: 150, Admins: 3, Pending: 4, ViewOnly: 10, Guests: 40, Inactive: 9, Readded: 2},
		asanatest.WorkspaceSpec{Name: "Side project"})
	members := "/workspaces/" + gid + "/workspace_memberships"

	check := func(token, path string) asanatest.Response {
		t.Helper()
		r := get(t, srv, token, path)
		p, q, _ := strings.Cut(path, "?")
		query, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Validate(p, query, r.Status, r.Header, r.Raw); err != nil {
			t.Errorf("%v", err)
		}
		return r
	}

	// Successes: compact, opt_fields and paginated variants of each route.
	for _, path := range []string{
		"/workspaces",
		"/workspaces?limit=1",
		"/workspaces?limit=100&opt_fields=name,is_organization,email_domains",
		"/workspaces/" + gid,
		"/workspaces/" + gid + "?opt_fields=name,email_domains",
		"/workspaces/" + gid + "?opt_pretty",
		members,
		members + "?limit=100",
		members + "?limit=100&opt_fields=is_active,is_guest,is_admin,is_view_only",
		members + "?limit=50&opt_fields=is_active,user.name,user.email,workspace.name,created_at,vacation_dates",
		members + "?limit=10&opt_fields=user_task_list,user_task_list.name,user_task_list.owner,user_task_list.workspace,resource_type,user,workspace",
	} {
		r := check(tok, path)
		if r.Status != 200 {
			t.Errorf("GET %s: %d", path, r.Status)
		}
	}
	// One membership and one user, read by gid (and the user as "me"):
	// the full record, and opt_fields as the client asks.
	first := get(t, srv, tok, members+"?limit=1&opt_fields=user").Body["data"].([]any)[0].(map[string]any)
	membership, user := first["gid"].(string), first["user"].(map[string]any)["gid"].(string)
	for _, path := range []string{
		"/workspace_memberships/" + membership,
		"/workspace_memberships/" + membership + "?opt_fields=is_active,is_guest,is_admin,is_view_only,created_at,user.name,user.email,workspace",
		"/users/me",
		"/users/me?opt_fields=email,name",
		"/users/" + user,
		"/users/" + user + "?opt_fields=name,workspaces.name",
	} {
		if r := check(tok, path); r.Status != 200 {
			t.Errorf("GET %s: %d", path, r.Status)
		}
	}

	// Every page of a listing, the last one with next_page: null.
	r := check(tok, members+"?limit=100&opt_fields=is_active")
	for pages := 1; ; pages++ {
		next, _ := r.Body["next_page"].(map[string]any)
		if next == nil {
			if pages != 3 {
				t.Errorf("listing of 216 ended after %d pages", pages)
			}
			break
		}
		r = check(tok, next["path"].(string))
	}

	// Errors, each in Asana's error format.
	offset := get(t, srv, tok, members+"?limit=10").Body["next_page"].(map[string]any)["offset"].(string)
	errorCases := []struct {
		token, path string
		status      int
		fault       *asanatest.Fault
	}{
		{token: "wrong", path: "/workspaces", status: 401},
		{token: granular, path: members, status: 403},
		{token: tok, path: "/workspaces/1299999999999999", status: 404},
		{token: tok, path: "/workspaces/1299999999999999/workspace_memberships", status: 404},
		{token: tok, path: "/workspace_memberships/1299999999999999", status: 404},
		{token: granular, path: "/workspace_memberships/" + membership, status: 403},
		{token: tok, path: "/users/1299999999999999", status: 404},
		{token: tok, path: members + "?limit=101", status: 400},
		{token: tok, path: members + "?limit=10&offset=forged", status: 400},
		{token: tok, path: members + "?limit=10&offset=" + offset, status: 400, fault: &asanatest.Fault{ExpireOffset: true}},
		{token: tok, path: members, status: 402, fault: &asanatest.Fault{Status: 402}},
		{token: tok, path: members, status: 429, fault: &asanatest.Fault{Status: 429, RetryAfter: "3"}},
		{token: tok, path: members, status: 451, fault: &asanatest.Fault{Status: 451}},
		{token: tok, path: members, status: 500, fault: &asanatest.Fault{Status: 500}},
		{token: tok, path: "/workspaces/" + gid, status: 503, fault: &asanatest.Fault{Status: 503}},
	}
	for _, tc := range errorCases {
		srv.ClearFaults()
		if tc.fault != nil {
			srv.Inject(*tc.fault)
		}
		if r := check(tc.token, tc.path); r.Status != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, r.Status, tc.status)
		}
	}
	srv.ClearFaults()

	// A real rate-limit rejection, not an injected one.
	for i := 0; get(t, srv, tok, "/workspaces").Status != 429; i++ {
		if i > 200 {
			t.Fatal("the server's rate limit never applied")
		}
	}
	if r := check(tok, "/workspaces"); r.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
}
