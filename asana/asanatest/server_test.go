package asanatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

type response struct{ asanatest.Response }

// get sends a GET to the server's API root plus path (which may carry a
// query), with token as bearer unless it is empty.
func get(t *testing.T, srv *asanatest.Server, token, path string) response {
	t.Helper()
	r, err := srv.Get(token, path)
	if err != nil {
		t.Fatal(err)
	}
	return response{r}
}

func (r response) items(t *testing.T) []map[string]any {
	t.Helper()
	data, ok := r.Body["data"].([]any)
	if !ok {
		t.Fatalf("data is not a list: %s", r.Raw)
	}
	out := make([]map[string]any, len(data))
	for i, d := range data {
		out[i] = d.(map[string]any)
	}
	return out
}

func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	errs, ok := r.Body["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("no errors array: %s", r.Raw)
	}
	e := errs[0].(map[string]any)
	if h, _ := e["help"].(string); !strings.Contains(h, "developers.asana.com/docs/errors") {
		t.Errorf("error without Asana's help text: %s", r.Raw)
	}
	return e["message"].(string)
}

func keys(m map[string]any) string {
	k := make([]string, 0, len(m))
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

func newServer(t *testing.T, cfg asanatest.Config, specs ...asanatest.WorkspaceSpec) (*asanatest.Server, string) {
	t.Helper()
	srv := asanatest.NewServer(asanatest.Generate(7, specs...), cfg)
	t.Cleanup(srv.Close)
	return srv, srv.WorkspaceGIDs()[0]
}

const tok = asanatest.DefaultToken

func TestCompactRecordsUnlessOptFieldsAsks(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Name: "Acme", Licensed: 3, Inactive: 1})
	list := "/workspaces/" + gid + "/workspace_memberships"

	compact := get(t, srv, tok, list).items(t)
	if len(compact) != 4 {
		t.Fatalf("%d memberships, want 4", len(compact))
	}
	for _, m := range compact {
		if got := keys(m); got != "gid,resource_type,user,workspace" {
			t.Errorf("compact membership keys %s", got)
		}
		if got := keys(m["user"].(map[string]any)); got != "gid,name,resource_type" {
			t.Errorf("compact user keys %s", got)
		}
	}

	for query, want := range map[string]string{
		"is_active,is_guest,is_admin,is_view_only": "gid,is_active,is_admin,is_guest,is_view_only",
		"user.email,is_active":                     "gid,is_active,user{email,gid}",
		"user.name,user.email":                     "gid,user{email,gid,name}",
		"user":                                     "gid,user{gid}",
		"workspace.name,created_at,no_such_field":  "created_at,gid,workspace{gid,name}",
		"this.is_guest":                            "gid,is_guest",
	} {
		items := get(t, srv, tok, list+"?opt_fields="+url.QueryEscape(query)).items(t)
		for _, m := range items {
			var parts []string
			for _, k := range strings.Split(keys(m), ",") {
				if sub, ok := m[k].(map[string]any); ok {
					k += "{" + keys(sub) + "}"
				}
				parts = append(parts, k)
			}
			if got := strings.Join(parts, ","); got != want {
				t.Errorf("opt_fields=%s: keys %s, want %s", query, got, want)
			}
		}
	}

	full := get(t, srv, tok, "/workspaces/"+gid).Body["data"].(map[string]any)
	if got := keys(full); got != "email_domains,gid,is_organization,name,resource_type" {
		t.Errorf("single workspace keys %s", got)
	}
	if got := keys(get(t, srv, tok, "/workspaces").items(t)[0]); got != "gid,name,resource_type" {
		t.Errorf("compact workspace keys %s", got)
	}
	pretty := get(t, srv, tok, "/workspaces/"+gid+"?opt_pretty")
	if !strings.Contains(string(pretty.Raw), "\n  ") {
		t.Errorf("opt_pretty did not indent: %s", pretty.Raw)
	}
}

func TestNextPageOnlyWithLimit(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Licensed: 1500})
	list := "/workspaces/" + gid + "/workspace_memberships"

	unpaginated := get(t, srv, tok, list)
	if _, has := unpaginated.Body["next_page"]; has {
		t.Errorf("next_page present without limit")
	}
	if n := len(unpaginated.items(t)); n != 1000 {
		t.Errorf("unpaginated list has %d records, want the cut at 1000", n)
	}

	first := get(t, srv, tok, list+"?limit=10&opt_fields=is_active")
	next, ok := first.Body["next_page"].(map[string]any)
	if !ok {
		t.Fatalf("no next_page with limit: %s", first.Raw)
	}
	offset, path, uri := next["offset"].(string), next["path"].(string), next["uri"].(string)
	if !strings.HasPrefix(path, list+"?") || strings.HasPrefix(path, "/api/1.0") {
		t.Errorf("next_page.path %q is not relative to /api/1.0", path)
	}
	pq, _ := url.ParseQuery(path[strings.IndexByte(path, '?')+1:])
	if pq.Get("limit") != "10" || pq.Get("opt_fields") != "is_active" || pq.Get("offset") != offset {
		t.Errorf("next_page.path %q does not keep the query plus offset", path)
	}
	if uri != srv.BaseURL+path {
		t.Errorf("next_page.uri %q, want %q", uri, srv.BaseURL+path)
	}
	second := get(t, srv, tok, path)
	a, b := first.items(t), second.items(t)
	if len(b) != 10 || b[0]["gid"].(string) <= a[9]["gid"].(string) {
		t.Errorf("second page does not follow the first")
	}

	last := get(t, srv, tok, list+"?limit=100")
	for range 14 {
		last = get(t, srv, tok, last.Body["next_page"].(map[string]any)["path"].(string))
	}
	if np, has := last.Body["next_page"]; !has || np != nil {
		t.Errorf("last page next_page = %v (present %v), want null", np, has)
	}
}

func TestLimitOutOfRange(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Licensed: 5})
	for _, limit := range []string{"0", "101", "-1", "abc", ""} {
		r := get(t, srv, tok, "/workspaces/"+gid+"/workspace_memberships?limit="+limit)
		if r.Status != 400 || !strings.HasPrefix(r.errorMessage(t), "limit: ") {
			t.Errorf("limit=%q: %d %s", limit, r.Status, r.Raw)
		}
	}
	for _, limit := range []string{"1", "100"} {
		if r := get(t, srv, tok, "/workspaces/"+gid+"/workspace_memberships?limit="+limit); r.Status != 200 {
			t.Errorf("limit=%s: %d", limit, r.Status)
		}
	}
}

func TestOffsetsAreOpaqueAndExpire(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{OffsetTTL: time.Minute}, asanatest.WorkspaceSpec{Licensed: 30}, asanatest.WorkspaceSpec{Licensed: 30})
	list := "/workspaces/" + gid + "/workspace_memberships?limit=10"
	next := get(t, srv, tok, list).Body["next_page"].(map[string]any)
	offset := next["offset"].(string)
	if strings.Count(offset, ".") != 2 {
		t.Errorf("offset %q does not look like Asana's JWT offsets", offset)
	}

	other := srv.WorkspaceGIDs()[1]
	for name, path := range map[string]string{
		"tampered":         list + "&offset=" + offset[:len(offset)-2] + "xx",
		"garbage":          list + "&offset=hello",
		"another listing":  "/workspaces/" + other + "/workspace_memberships?limit=10&offset=" + offset,
		"another endpoint": "/workspaces?limit=10&offset=" + offset,
	} {
		r := get(t, srv, tok, path)
		if r.Status != 400 || !strings.HasPrefix(r.errorMessage(t), "offset: ") {
			t.Errorf("%s offset: %d %s", name, r.Status, r.Raw)
		}
	}

	if r := get(t, srv, tok, next["path"].(string)); r.Status != 200 {
		t.Fatalf("fresh offset: %d %s", r.Status, r.Raw)
	}
	srv.Advance(61 * time.Second)
	r := get(t, srv, tok, next["path"].(string))
	if r.Status != 400 || r.errorMessage(t) != "offset: Your pagination token has expired." {
		t.Errorf("expired offset: %d %s", r.Status, r.Raw)
	}
}

func TestAsanaErrors(t *testing.T) {
	const granular = "granular"
	srv, gid := newServer(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{tok: asanatest.FullAccess, granular: asanatest.GranularScopes}},
		asanatest.WorkspaceSpec{Licensed: 2})
	cases := []struct {
		name, token, path string
		status            int
		message           string
	}{
		{"no token", "", "/workspaces", 401, "Not Authorized"},
		{"wrong token", "nope", "/workspaces", 401, "Not Authorized"},
		{"granular token on memberships", granular, "/workspaces/" + gid + "/workspace_memberships", 403, "Full permissions are required to use this endpoint."},
		{"typo from the 2019 announcement", tok, "/workspace/" + gid + "/workspace_memberships", 404, "No matching route for request"},
		{"unknown sub-resource", tok, "/workspaces/" + gid + "/seats", 404, "No matching route for request"},
		{"unknown workspace", tok, "/workspaces/1299999999999999", 404, "workspace: Not a recognized ID: 1299999999999999"},
		{"unknown workspace memberships", tok, "/workspaces/42/workspace_memberships", 404, "workspace: Not a recognized ID: 42"},
	}
	for _, tc := range cases {
		r := get(t, srv, tc.token, tc.path)
		if r.Status != tc.status || r.errorMessage(t) != tc.message {
			t.Errorf("%s: %d %s, want %d %q", tc.name, r.Status, r.Raw, tc.status, tc.message)
		}
	}
	if r := get(t, srv, granular, "/workspaces"); r.Status != 200 {
		t.Errorf("granular token on /workspaces (workspaces:read): %d", r.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/workspaces", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST /workspaces: %d, want 404", resp.StatusCode)
	}
}

// TestScopesServeTwoOrganizations: with Scopes, each organisation's service
// account sees its own workspace alone (listing, memberships, a membership
// by gid, its audit log, its user's workspaces), and the other's is answered
// as a gid that does not exist; a token without a scope sees both, and
// RevokeToken revokes one token and leaves the other as it was.
func TestScopesServeTwoOrganizations(t *testing.T) {
	org := asanatest.Generate(7, asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, Licensed: 2},
		asanatest.WorkspaceSpec{Name: "Globex", IsOrganization: true, Licensed: 3})
	acme, globex := org.Workspaces[0], org.Workspaces[1]
	srv := asanatest.NewServer(org, asanatest.Config{
		Tokens: map[string]asanatest.TokenKind{"acme": asanatest.ServiceAccount, "globex": asanatest.ServiceAccount, "pat": asanatest.FullAccess},
		Scopes: map[string][]string{"acme": {acme.GID}, "globex": {globex.GID}},
	})
	t.Cleanup(srv.Close)
	for token, own := range map[string]*asanatest.Workspace{"acme": acme, "globex": globex} {
		other := map[string]*asanatest.Workspace{"acme": globex, "globex": acme}[token]
		if ws := get(t, srv, token, "/workspaces").items(t); len(ws) != 1 || ws[0]["gid"] != own.GID {
			t.Errorf("%s lists %v, want %s alone", token, ws, own.GID)
		}
		if r := get(t, srv, token, "/workspaces/"+own.GID+"/workspace_memberships?limit=100"); r.Status != 200 || len(r.items(t)) != len(own.Memberships) {
			t.Errorf("%s on its own memberships: %d %s", token, r.Status, r.Raw)
		}
		if r := get(t, srv, token, "/workspaces/"+own.GID+"/audit_log_events"); r.Status != 200 {
			t.Errorf("%s on its own audit log: %d %s", token, r.Status, r.Raw)
		}
		for _, path := range []string{"/workspaces/" + other.GID, "/workspaces/" + other.GID + "/workspace_memberships",
			"/workspaces/" + other.GID + "/audit_log_events"} {
			if r := get(t, srv, token, path); r.Status != 404 || r.errorMessage(t) != "workspace: Not a recognized ID: "+other.GID {
				t.Errorf("%s on %s: %d %s, want 404 as for no such workspace", token, path, r.Status, r.Raw)
			}
		}
		if r := get(t, srv, token, "/workspace_memberships/"+other.Memberships[0].GID); r.Status != 404 {
			t.Errorf("%s on another organisation's membership: %d %s, want 404", token, r.Status, r.Raw)
		}
		me := get(t, srv, token, "/users/me").Body["data"].(map[string]any)
		if ws := me["workspaces"].([]any); len(ws) != 1 || ws[0].(map[string]any)["gid"] != own.GID {
			t.Errorf("%s's user belongs to %v, want %s alone", token, ws, own.GID)
		}
	}
	if ws := get(t, srv, "pat", "/workspaces").items(t); len(ws) != 2 {
		t.Errorf("a token without a scope lists %d workspaces, want both", len(ws))
	}
	srv.RevokeToken("acme")
	if r := get(t, srv, "acme", "/workspaces"); r.Status != 401 {
		t.Errorf("a revoked token: %d, want 401", r.Status)
	}
	if r := get(t, srv, "globex", "/workspaces"); r.Status != 200 {
		t.Errorf("the other token after a revocation: %d, want 200", r.Status)
	}
	srv.GrantToken("acme", asanatest.ServiceAccount)
	if ws := get(t, srv, "acme", "/workspaces").items(t); len(ws) != 1 || ws[0]["gid"] != acme.GID {
		t.Errorf("acme granted again lists %v, want its own workspace alone", ws)
	}
}

// TestTokensChangeWhileRequestsRun: GrantToken, a revocation undone and the
// offset clock moving while requests run, as a test drives the simulator
// (and the demo's drift its clock). Under -race this is what caught a token's
// kind read outside the lock; each answer must be one the token's kind at
// that moment allows.
func TestTokensChangeWhileRequestsRun(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Licensed: 3})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				switch r := get(t, srv, tok, "/workspaces/"+gid+"/workspace_memberships"); r.Status {
				case http.StatusOK, http.StatusForbidden:
				default:
					t.Errorf("%d %s while the token changed between full access and granular scopes", r.Status, r.Raw)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	kinds := []asanatest.TokenKind{asanatest.FullAccess, asanatest.GranularScopes}
	for i := 0; !isClosed(done); i++ {
		srv.GrantToken(tok, kinds[i%2])
		srv.RestoreTokens()
		srv.Advance(time.Second)
	}
	srv.GrantToken(tok, asanatest.GranularScopes)
	if r := get(t, srv, tok, "/workspaces/"+gid+"/workspace_memberships"); r.Status != http.StatusForbidden {
		t.Errorf("granular token on memberships: %d, want 403", r.Status)
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestRateLimit(t *testing.T) {
	srv, _ := newServer(t, asanatest.Config{RequestsPerWindow: 3, RateWindow: time.Hour}, asanatest.WorkspaceSpec{})
	for i := range 3 {
		if r := get(t, srv, tok, "/workspaces"); r.Status != 200 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	r := get(t, srv, tok, "/workspaces")
	if r.Status != 429 || !strings.Contains(r.errorMessage(t), "rate limit") {
		t.Fatalf("4th request: %d %s", r.Status, r.Raw)
	}
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 3590 || secs > 3600 {
		t.Errorf("Retry-After %q, want about an hour", r.Header.Get("Retry-After"))
	}
	if s := srv.Stats(tok); s.RateLimited != 1 {
		t.Errorf("stats %+v", s)
	}

}

// TestConcurrencyLimit: a third request while two are in flight is answered
// 429. In a bubble, so that the two are surely in flight when it comes.
func TestConcurrencyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := asanatest.NewMemoryServer(asanatest.Generate(7, asanatest.WorkspaceSpec{}), asanatest.Config{MaxConcurrent: 2})
		t.Cleanup(srv.Close)
		srv.Inject(asanatest.Fault{Latency: time.Second, Times: 2})
		var wg sync.WaitGroup
		codes := make(chan int, 3)
		for range 2 {
			wg.Go(func() { codes <- get(t, srv, tok, "/workspaces").Status })
		}
		synctest.Wait() // both wait out their latency
		codes <- get(t, srv, tok, "/workspaces").Status
		wg.Wait()
		close(codes)
		var got []int
		for c := range codes {
			got = append(got, c)
		}
		slices.Sort(got)
		if fmt.Sprint(got) != "[200 200 429]" {
			t.Errorf("codes with 2 slow requests in flight: %v", got)
		}
		if s := srv.Stats(tok); s.MaxInFlight != 2 {
			t.Errorf("max in flight %d, want 2", s.MaxInFlight)
		}
	})
}

// TestMemoryServer: an in-memory server answers on the bubble's fake
// clock, where an hour's latency takes an hour and no real time, and a
// client's deadline cuts it off on that clock; its transport reaches
// nothing else.
func TestMemoryServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := asanatest.NewMemoryServer(asanatest.Generate(7, asanatest.WorkspaceSpec{Licensed: 3}), asanatest.Config{})
		t.Cleanup(srv.Close)
		srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaces, Latency: time.Hour, Times: 2})
		start := time.Now()
		if r := get(t, srv, tok, "/workspaces"); r.Status != http.StatusOK || time.Since(start) != time.Hour {
			t.Errorf("an hour's latency: %d after %v", r.Status, time.Since(start))
		}
		start = time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := srv.NewClient(nil).Workspaces(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Minute {
			t.Errorf("a minute's deadline on an hour's latency: %v after %v", err, time.Since(start))
		}
		if _, err := srv.Client().Get("http://127.0.0.1:9/"); err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:9") {
			t.Errorf("the in-memory transport to another address: %v", err)
		}
	})
}

func TestFaults(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Licensed: 250})
	list := "/workspaces/" + gid + "/workspace_memberships?limit=100"
	p2 := get(t, srv, tok, list).Body["next_page"].(map[string]any)["path"].(string)

	srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 2, Status: 500, Times: 1})
	srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaces, Status: 429, RetryAfter: "7"})
	if r := get(t, srv, tok, list); r.Status != 200 {
		t.Errorf("page 1 hit a page-2 fault: %d", r.Status)
	}
	r := get(t, srv, tok, p2)
	if r.Status != 500 || r.errorMessage(t) != "Server Error" {
		t.Errorf("page 2: %d %s", r.Status, r.Raw)
	}
	phrase, _ := r.Body["errors"].([]any)[0].(map[string]any)["phrase"].(string)
	if len(strings.Fields(phrase)) != 5 {
		t.Errorf("500 without an Asana-style phrase: %s", r.Raw)
	}
	if r := get(t, srv, tok, p2); r.Status != 200 {
		t.Errorf("fault with Times 1 fired twice: %d", r.Status)
	}
	if r := get(t, srv, tok, "/workspaces"); r.Status != 429 || r.Header.Get("Retry-After") != "7" {
		t.Errorf("route fault: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	srv.ClearFaults()

	srv.Inject(asanatest.Fault{Page: 2, ExpireOffset: true, Times: 1})
	if r := get(t, srv, tok, p2); r.Status != 400 || r.errorMessage(t) != "offset: Your pagination token has expired." {
		t.Errorf("expire fault: %d %s", r.Status, r.Raw)
	}

	raw := func(f asanatest.Fault) (time.Duration, []byte, error) {
		srv.ClearFaults()
		srv.Inject(f)
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, srv.BaseURL+"/workspaces/"+gid, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		// No keep-alive: net/http must not quietly resend after a drop.
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			return time.Since(start), nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return time.Since(start), body, err
	}
	if _, _, err := raw(asanatest.Fault{Route: asanatest.RouteWorkspace, Drop: true}); err == nil {
		t.Errorf("dropped connection gave a response")
	}
	if _, body, err := raw(asanatest.Fault{Route: asanatest.RouteWorkspace, Truncate: true}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: err %v, body %q", err, body)
	}
	if _, body, err := raw(asanatest.Fault{Route: asanatest.RouteWorkspace, Malformed: true}); err != nil || json.Valid(body) {
		t.Errorf("malformed body: err %v, valid JSON %q", err, body)
	}
	if d, body, err := raw(asanatest.Fault{Route: asanatest.RouteWorkspace, SlowBody: 300 * time.Millisecond}); err != nil || !json.Valid(body) || d < 270*time.Millisecond {
		t.Errorf("slow body: %v after %v: %q", err, d, body)
	}
	if d, _, err := raw(asanatest.Fault{Route: asanatest.RouteWorkspace, Latency: 200 * time.Millisecond}); err != nil || d < 200*time.Millisecond {
		t.Errorf("latency: %v after %v", err, d)
	}

	log := srv.Requests()
	if len(log) == 0 || log[0].Route != asana.EndpointWorkspaceMemberships || log[0].Page != 1 || log[0].Query.Get("limit") != "100" || !log[0].Authorized {
		t.Errorf("request log starts with %+v", log[0])
	}
}

func TestGeneratedOrganization(t *testing.T) {
	spec := asanatest.WorkspaceSpec{Licensed: 40, Admins: 3, Pending: 4, ViewOnly: 5, Guests: 30, Inactive: 8, Readded: 2}
	a, b := asanatest.Generate(99, spec, spec), asanatest.Generate(99, spec, spec)
	w := a.Workspaces[0]
	if len(w.Memberships) != 83 {
		t.Fatalf("%d memberships, want 40+5+30+8", len(w.Memberships))
	}
	var got asana.SeatCounts
	byUser := map[string][]*asanatest.Membership{}
	pending := 0
	for i, m := range w.Memberships {
		got.Add(&asana.Membership{IsActive: m.IsActive, IsAdmin: m.IsAdmin, IsGuest: m.IsGuest, IsViewOnly: m.IsViewOnly})
		byUser[m.User.GID] = append(byUser[m.User.GID], m)
		if m.Pending {
			pending++
			if !m.IsActive {
				t.Errorf("pending invitee %s is not active", m.GID)
			}
		}
		if i > 0 && m.GID <= w.Memberships[i-1].GID {
			t.Errorf("memberships out of gid order at %d", i)
		}
		if m.GID != b.Workspaces[0].Memberships[i].GID || m.IsGuest != b.Workspaces[0].Memberships[i].IsGuest {
			t.Errorf("same seed, different organisation at %d", i)
		}
	}
	if got != spec.Seats() || pending != 4 {
		t.Errorf("seats %+v pending %d, want %+v and 4", got, pending, spec.Seats())
	}
	readded := 0
	for _, ms := range byUser {
		if len(ms) == 2 {
			readded++
			if ms[0].IsActive == ms[1].IsActive {
				t.Errorf("re-added user %s has two memberships with is_active=%v", ms[0].User.GID, ms[0].IsActive)
			}
		}
	}
	if readded != 2 {
		t.Errorf("%d re-added users, want 2", readded)
	}
	if a.Workspaces[1].GID == w.GID {
		t.Errorf("two workspaces share gid %s", w.GID)
	}
}

func TestHideInactive(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{HideInactive: true}, asanatest.WorkspaceSpec{Licensed: 5, Inactive: 3})
	for _, m := range get(t, srv, tok, "/workspaces/"+gid+"/workspace_memberships?opt_fields=is_active").items(t) {
		if m["is_active"] != true {
			t.Errorf("inactive membership listed: %v", m)
		}
	}
}

func TestPaginationSurvivesDrift(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Licensed: 250})
	list := "/workspaces/" + gid + "/workspace_memberships?limit=100"
	seen := map[string]int{}
	page := get(t, srv, tok, list)
	for {
		for _, m := range page.items(t) {
			seen[m["gid"].(string)]++
		}
		// Someone joins and the first member leaves between pages.
		srv.Mutate(func(o *asanatest.Org) {
			w := o.Workspace(gid)
			o.AddMember(w, asanatest.Membership{IsActive: true})
		})
		next, _ := page.Body["next_page"].(map[string]any)
		if next == nil {
			break
		}
		page = get(t, srv, tok, next["path"].(string))
	}
	for g, n := range seen {
		if n != 1 {
			t.Errorf("membership %s listed %d times", g, n)
		}
	}
	if len(seen) < 250 {
		t.Errorf("%d memberships listed, want at least the 250 that never changed", len(seen))
	}
}
