package asanatest_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// auditServer serves one organisation whose first members logged in at
// the given times.
func auditServer(t *testing.T, cfg asanatest.Config, logins ...time.Time) (*asanatest.Server, string, []asanatest.User) {
	t.Helper()
	o := asanatest.Generate(7, asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, Licensed: 5, Guests: 1},
		asanatest.WorkspaceSpec{Name: "Plain", Licensed: 2})
	w := o.Workspaces[0]
	var users []asanatest.User
	for i, at := range logins {
		u := &w.Memberships[i%len(w.Memberships)].User
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: at, Type: asana.EventLoginSucceeded, User: u})
		users = append(users, *u)
	}
	o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: time.Now().Add(-time.Hour), Type: asana.EventAdminRoleChanged,
		User: &w.Memberships[0].User, OldValue: "member", NewValue: "super_admin"})
	srv := asanatest.NewServer(o, cfg)
	t.Cleanup(srv.Close)
	return srv, srv.WorkspaceGIDs()[0], users
}

func auditPath(gid string, q url.Values) string {
	return "/workspaces/" + gid + "/audit_log_events?" + q.Encode()
}

// TestAuditLogStreams: ascending order, no next_page while nothing
// matches, then next_page on every later answer, empty data when caught up,
// and the new event on the next poll.
func TestAuditLogStreams(t *testing.T) {
	now := time.Now()
	srv, gid, _ := auditServer(t, asanatest.Config{}, now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour))
	logins := url.Values{"limit": {"2"}, "event_type": {asana.EventLoginSucceeded}}

	none := get(t, srv, tok, auditPath(gid, url.Values{"limit": {"2"}, "event_type": {asana.EventLoginSucceeded}, "start_at": {now.Format(time.RFC3339)}}))
	if none.Status != 200 || len(none.items(t)) != 0 || none.Body["next_page"] != nil {
		t.Fatalf("no event matched: want empty data and next_page null, got %d %s", none.Status, none.Raw)
	}
	var seen []string
	q := logins
	for page := 1; page <= 4; page++ {
		r := get(t, srv, tok, auditPath(gid, q))
		items := r.items(t)
		for _, e := range items {
			if e["event_type"] != asana.EventLoginSucceeded {
				t.Fatalf("event_type filter let %v through", e["event_type"])
			}
			if keys(e) != "actor,context,created_at,details,event_category,event_type,gid,resource" {
				t.Fatalf("event fields %s", keys(e))
			}
			seen = append(seen, e["created_at"].(string))
		}
		next, ok := r.Body["next_page"].(map[string]any)
		if !ok {
			t.Fatalf("page %d: once a response carried next_page, every later one must: %s", page, r.Raw)
		}
		if page == 3 && len(items) != 0 {
			t.Fatalf("page 3 should be empty (caught up), got %d", len(items))
		}
		q = url.Values{"limit": {"2"}, "event_type": {asana.EventLoginSucceeded}, "offset": {next["offset"].(string)}}
		if page == 3 {
			srv.Mutate(func(o *asanatest.Org) {
				w := o.Workspaces[0]
				o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: time.Now(), Type: asana.EventLoginSucceeded, User: &w.Memberships[1].User})
			})
		}
	}
	if len(seen) != 4 || !(seen[0] < seen[1] && seen[1] < seen[2] && seen[2] <= seen[3]) {
		t.Errorf("created_at %v: want the 3 logins then the new one, ascending", seen)
	}
}

// TestAuditLogParameters: start_at inclusive, end_at exclusive, limit
// 1..100 (1000 without it, a GUESS), 90 days kept, resource and actor.
func TestAuditLogParameters(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	old, edge := now.Add(-100*24*time.Hour), now.Add(-2*time.Hour)
	srv, gid, users := auditServer(t, asanatest.Config{}, old, edge, now.Add(-time.Hour))
	count := func(q url.Values) int {
		t.Helper()
		q.Set("event_type", asana.EventLoginSucceeded)
		r := get(t, srv, tok, auditPath(gid, q))
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q.Encode(), r.Status, r.Raw)
		}
		return len(r.items(t))
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	for name, c := range map[string]struct {
		q    url.Values
		want int
	}{
		"90 days kept":        {url.Values{}, 2},
		"start_at inclusive":  {url.Values{"start_at": {ts(edge)}}, 2},
		"end_at exclusive":    {url.Values{"end_at": {ts(edge)}}, 0},
		"start_at before 90d": {url.Values{"start_at": {ts(old)}}, 2},
		"resource_gid":        {url.Values{"resource_gid": {users[1].GID}}, 1},
		"actor_gid":           {url.Values{"actor_gid": {users[2].GID}}, 1},
		"actor_type":          {url.Values{"actor_type": {"user"}}, 2},
		"limit 1":             {url.Values{"limit": {"1"}}, 1},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d events, want %d", name, got, c.want)
		}
	}
	for _, limit := range []string{"0", "101", "x"} {
		r := get(t, srv, tok, auditPath(gid, url.Values{"limit": {limit}}))
		if r.Status != 400 {
			t.Errorf("limit=%s: status %d, want 400", limit, r.Status)
		}
	}
	if r := get(t, srv, tok, auditPath(gid, url.Values{"start_at": {"yesterday"}})); r.Status != 400 {
		t.Errorf("start_at=yesterday: status %d, want 400", r.Status)
	}
	all := get(t, srv, tok, auditPath(gid, url.Values{})) // every type, merged in order
	if items := all.items(t); len(items) != 3 || items[2]["event_type"] != asana.EventAdminRoleChanged {
		t.Errorf("without event_type: %d events, want the 2 logins and the role change in created_at order", len(items))
	}
}

// TestAuditLogAccess: offsets expire, and a token that is not a service account's,
// or a plain workspace, is refused.
func TestAuditLogAccess(t *testing.T) {
	srv, gid, _ := auditServer(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{
		"sa": asanatest.ServiceAccount, "pat": asanatest.FullAccess, "scoped": asanatest.GranularScopes}}, time.Now().Add(-time.Hour))
	q := url.Values{"limit": {"1"}, "event_type": {asana.EventLoginSucceeded}}
	first := get(t, srv, "sa", auditPath(gid, q))
	next := first.Body["next_page"].(map[string]any)["offset"].(string)
	srv.Advance(16 * time.Minute)
	q.Set("offset", next)
	if r := get(t, srv, "sa", auditPath(gid, q)); r.Status != 400 || r.errorMessage(t) != "offset: Your pagination token has expired." {
		t.Errorf("an old offset: %d %s", r.Status, r.Raw)
	}
	for token, want := range map[string]int{"pat": 403, "scoped": 403} {
		if r := get(t, srv, token, auditPath(gid, url.Values{})); r.Status != want {
			t.Errorf("%s token: status %d, want %d", token, r.Status, want)
		}
	}
	if r := get(t, srv, "sa", auditPath(srv.WorkspaceGIDs()[1], url.Values{})); r.Status != 403 {
		t.Errorf("a plain workspace's audit log: status %d, want 403", r.Status)
	}
}
