package auditlog_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
	"github.com/asana-exporter/asana_exporter/internal/idle"
)

// hostile puts a proxy before the fixture's simulator and returns a client
// of it: a server that misbehaves in ways the exporter was not written for.
// hook sees each request's query first, holding f.mu: it may change the
// query, or return a message to refuse the request with, as a 400 in
// Asana's error body.
func (f *fixture) hostile(t *testing.T, hook func(q url.Values) (refusal string)) *asana.Client {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		refusal := hook(q)
		f.mu.Unlock()
		if refusal != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errors":[{"message":%q}]}`, refusal)
			return
		}
		r.URL.RawQuery = q.Encode()
		f.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return f.srv.NewClient(func(o *asana.Options) {
		fastRetries(o)
		o.BaseURL = proxy.URL + "/api/1.0"
	})
}

// locked runs fn holding f.mu, to share state with a hostile hook.
func (f *fixture) locked(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// ofType is the queries of one event type's requests.
func ofType(queries []url.Values, eventType string) []url.Values {
	return slices.DeleteFunc(slices.Clone(queries), func(q url.Values) bool { return q.Get("event_type") != eventType })
}

// addLogins adds n logins of the organisation's members, all created in
// the same millisecond, so that they straddle pages.
func (f *fixture) addLogins(n int) {
	f.srv.Mutate(func(o *asanatest.Org) {
		w := o.Workspaces[0]
		now := time.Now().Truncate(time.Millisecond)
		for i := range n {
			m := w.Memberships[i%len(w.Memberships)]
			o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: now, Type: asana.EventLoginSucceeded, User: &m.User})
		}
	})
}

// addInvite adds one user_invited event.
func (f *fixture) addInvite() {
	f.srv.Mutate(func(o *asanatest.Org) {
		w := o.Workspaces[0]
		o.AddAuditEvent(w, asanatest.AuditEvent{CreatedAt: time.Now(), Type: asana.EventInvited, User: &w.Memberships[0].User})
	})
}

// userGIDs are the gids of the organisation's users, which no log line may
// carry.
func (f *fixture) userGIDs() []string {
	var gids []string
	f.srv.Mutate(func(o *asanatest.Org) {
		for _, m := range o.Workspaces[0].Memberships {
			gids = append(gids, m.User.GID)
		}
	})
	return gids
}

func (f *fixture) checkNoUserGIDLogged(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	for _, gid := range f.userGIDs() {
		if strings.Contains(logs, gid) {
			t.Fatalf("a log line carries user gid %s:\n%s", gid, logs)
		}
	}
}

// TestAnyRefusedOffsetRestartsTheStream: a 400 to a request with an offset,
// in words the exporter has never seen, restarts that stream from its last
// event, and every one of 250 logins in one millisecond is counted once.
func TestAnyRefusedOffsetRestartsTheStream(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	var (
		seen    []url.Values
		refuse  bool
		refused = map[string]bool{}
	)
	client := f.hostile(t, func(q url.Values) string {
		seen = append(seen, maps.Clone(q))
		if typ := q.Get("event_type"); refuse && q.Has("offset") && !refused[typ] {
			refused[typ] = true
			return "offset: This token was issued by another region."
		}
		return ""
	})
	r := f.reader(false, client)
	f.poll(t, r)
	f.addLogins(250)
	f.locked(func() { seen, refuse = nil, true })
	f.poll(t, r)

	l := r.Ledger(f.gid)
	if got := l.Status().Events[asana.EventLoginSucceeded]; got != 250 {
		t.Errorf("%d logins counted, want 250", got)
	}
	f.locked(func() {
		if !refused[asana.EventLoginSucceeded] || len(refused) < 3 {
			t.Fatalf("offsets refused for %v only; the test tests too little", refused)
		}
		for typ := range refused {
			qs := ofType(seen, typ)
			if len(qs) < 2 || !qs[0].Has("offset") || qs[1].Has("offset") || !qs[1].Has("start_at") {
				t.Errorf("%s: requests %v, want the refused offset, then a restart from start_at", typ, qs)
			}
		}
	})
	if s := l.Status(); len(s.Stalled) != 0 {
		t.Errorf("streams %v stalled after restarts that read on", s.Stalled)
	}
}

// TestRefusedWithoutOffsetIsAnError: a stream whose query is refused with
// and without its offset is a real error, after one restart; the streams
// after it still go on.
func TestRefusedWithoutOffsetIsAnError(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	var (
		seen   []url.Values
		refuse bool
	)
	client := f.hostile(t, func(q url.Values) string {
		seen = append(seen, maps.Clone(q))
		if refuse && q.Get("event_type") == asana.EventBillingPaused {
			return "event_type: Not a recognized value."
		}
		return ""
	})
	r := f.reader(false, client)
	f.poll(t, r)
	f.addInvite() // user_invited is polled after domain_user_billing_paused
	f.locked(func() { seen, refuse = nil, true })
	err := r.Poll(context.Background(), []string{f.gid}, nil)
	if !errors.Is(err, asana.ErrBadRequest) {
		t.Fatalf("poll: %v, want the 400", err)
	}
	f.locked(func() {
		if qs := ofType(seen, asana.EventBillingPaused); len(qs) != 2 || !qs[0].Has("offset") || qs[1].Has("offset") {
			t.Errorf("the refused stream sent %v, want its offset, then one restart without it", qs)
		}
	})
	if got := r.Ledger(f.gid).Status().Events[asana.EventInvited]; got != 1 {
		t.Errorf("%d invites counted, want 1: the streams after a refused one go on", got)
	}
}

// TestFollowUpsCarryTheStreamQuery: each request with an offset carries the
// query its chain began with (start_at, event_type, limit), as
// next_page.path does, also after a restart from the state file; a state
// file written before start_at was kept still works.
func TestFollowUpsCarryTheStreamQuery(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	checkChains := func(t *testing.T) (followUps int) {
		t.Helper()
		chainStart := map[string]string{}
		for _, req := range auditRequests(f.srv) {
			q, typ := req.Query, req.Query.Get("event_type")
			if q.Get("limit") != "100" || typ == "" {
				t.Errorf("request %s: want limit=100 and one event_type", q.Encode())
			}
			if !q.Has("offset") {
				chainStart[typ] = q.Get("start_at")
				continue
			}
			followUps++
			if want, ok := chainStart[typ]; ok && q.Get("start_at") != want {
				t.Errorf("%s: a follow-up has start_at %q, its chain began with %q", typ, q.Get("start_at"), want)
			}
			if q.Get("start_at") == "" {
				t.Errorf("%s: a follow-up without start_at: %s", typ, q.Encode())
			}
		}
		return followUps
	}
	first := f.reader(true, f.client)
	f.poll(t, first)
	var judged auditlog.Usage // by a reader that kept every start_at
	if n := checkChains(t); n < 10 {
		t.Fatalf("%d follow-ups in the backfill; the test tests too little", n)
	}

	t.Run("after a restart", func(t *testing.T) {
		f.addLogins(250)
		f.srv.ResetRequests()
		second := f.reader(true, f.client)
		f.poll(t, second)
		if n := checkChains(t); n < 3 {
			t.Fatalf("%d follow-ups; the test tests too little", n)
		}
		judged = f.judge(t, second)
		// The chains go on from the state file: their start_at is the
		// backfill's, 90 days back.
		for _, req := range auditRequests(f.srv)[:1] {
			at, err := time.Parse(time.RFC3339, req.Query.Get("start_at"))
			if !req.Query.Has("offset") || err != nil || time.Since(at) < 80*idle.Day {
				t.Errorf("the first request after the restart: %s, want the backfill's chain", req.Query.Encode())
			}
		}
	})

	t.Run("state file without start_at", func(t *testing.T) {
		file := filepath.Join(f.dir, auditlog.StateFile)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		old := regexp.MustCompile(`"start_at":"[^"]*",`).ReplaceAll(raw, nil)
		if len(old) == len(raw) {
			t.Fatal("the state file keeps no start_at")
		}
		if err := os.WriteFile(file, old, 0o600); err != nil {
			t.Fatal(err)
		}
		f.logs.Reset()
		f.srv.ResetRequests()
		r := f.reader(true, f.client)
		if strings.Contains(f.logs.String(), "Cannot use") {
			t.Fatalf("an older state file was refused: %s", f.logs.String())
		}
		f.poll(t, r)
		if q := auditRequests(f.srv)[0].Query; !q.Has("offset") || q.Has("start_at") {
			t.Errorf("first request %s: want the kept offset alone, as the older exporter sent it", q.Encode())
		}
		if got := f.judge(t, r); !reflect.DeepEqual(got, judged) {
			t.Errorf("judged %+v, want %+v as before", got, judged)
		}
	})
}

// TestStalledStreamIsVisible: a stream whose requests keep failing is
// reported stalled after StallPolls polls, in Status and in one log line,
// and recovers with one more; the caught-up streams with nothing new stay
// healthy all along.
func TestStalledStreamIsVisible(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	refuse := false
	client := f.hostile(t, func(q url.Values) string {
		if refuse && q.Get("event_type") == asana.EventBillingPaused {
			return "event_type: Not a recognized value."
		}
		return ""
	})
	r := f.reader(false, client)
	f.poll(t, r)
	f.locked(func() { refuse = true })
	stalled := func() map[string]bool { return r.Ledger(f.gid).Status().Stalled }
	for i := range auditlog.StallPolls + 2 {
		if err := r.Poll(context.Background(), []string{f.gid}, nil); err == nil {
			t.Fatal("a poll with a refused stream succeeded")
		}
		want := i+1 >= auditlog.StallPolls
		if got := stalled(); got[asana.EventBillingPaused] != want || len(got) > 1 {
			t.Fatalf("after %d failed polls: stalled %v, want %s only: %t", i+1, got, asana.EventBillingPaused, want)
		}
	}
	if n := strings.Count(f.logs.String(), "has made no progress"); n != 1 {
		t.Errorf("the stall was logged %d times, want once:\n%s", n, f.logs.String())
	}
	line := f.logs.String()[strings.Index(f.logs.String(), "has made no progress"):]
	line = line[:strings.IndexByte(line, '\n')]
	for _, want := range []string{"workspace_gid=" + f.gid, "event_type=" + asana.EventBillingPaused, "Not a recognized value"} {
		if !strings.Contains(line, want) {
			t.Errorf("the stall's log line lacks %q: %s", want, line)
		}
	}

	f.locked(func() { refuse = false })
	f.poll(t, r)
	if got := stalled(); len(got) != 0 {
		t.Errorf("stalled %v after a poll that read every stream", got)
	}
	if n := strings.Count(f.logs.String(), "stream moves again"); n != 1 {
		t.Errorf("the recovery was logged %d times, want once", n)
	}
	f.checkNoUserGIDLogged(t)
}

// TestReplayingServerIsStopped: a server that, given an offset, serves the
// log from its start again (its next_page always says there is more) ends
// the poll of that stream in a few dozen requests instead of looping until
// the poll's time is up; the stream is reported stalled, and the other
// streams go on.
func TestReplayingServerIsStopped(t *testing.T) {
	f := newFixture(t, asanatest.Config{})
	var (
		replay bool
		logins int
		cancel context.CancelFunc
	)
	// A looping poll is cut here, so that the test ends either way.
	const tooMany = 200
	client := f.hostile(t, func(q url.Values) string {
		if !replay || q.Get("event_type") != asana.EventLoginSucceeded {
			return ""
		}
		if logins++; logins == tooMany {
			cancel()
		}
		if q.Has("offset") {
			q.Del("offset")
			q.Del("start_at")
		}
		return ""
	})
	r := f.reader(false, client)
	f.poll(t, r)
	for i := range auditlog.StallPolls {
		f.addInvite()
		ctx, stop := context.WithCancel(context.Background())
		f.locked(func() { replay, logins, cancel = true, 0, stop })
		err := r.Poll(ctx, []string{f.gid}, nil)
		stop()
		if err == nil || !strings.Contains(err.Error(), "leads nowhere") {
			t.Fatalf("poll %d: %v, want the replay named", i+1, err)
		}
		f.locked(func() {
			if logins >= tooMany {
				t.Fatalf("poll %d: %d login requests; the replay was not stopped", i+1, logins)
			}
		})
	}
	st := r.Ledger(f.gid).Status()
	if !st.Stalled[asana.EventLoginSucceeded] || len(st.Stalled) != 1 {
		t.Errorf("stalled %v, want the login stream only", st.Stalled)
	}
	if got := st.Events[asana.EventInvited]; got != uint64(auditlog.StallPolls) {
		t.Errorf("%d invites counted, want %d: the streams after a replayed one go on", got, auditlog.StallPolls)
	}
	f.checkNoUserGIDLogged(t)
}

// TestStandingOffsetIsStopped: a server whose every answer to an offset is
// that same offset with an event already read (next_page says there is
// more, but the stream never moves) costs a few requests a stream per
// poll, not one per event until the poll's time is up; the streams are
// reported stalled.
func TestStandingOffsetIsStopped(t *testing.T) {
	at := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	var (
		mu       sync.Mutex
		requests = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		requests[q.Get("event_type")]++
		mu.Unlock()
		event := func(gid string) string {
			return fmt.Sprintf(`{"gid":%q,"created_at":%q,"event_type":%q,"resource":{"gid":"1200000000000001","resource_type":"user"}}`,
				gid, at, q.Get("event_type"))
		}
		data := event("1") + "," + event("2")
		if q.Has("offset") {
			data = event("2")
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":[%s],"next_page":{"offset":"standing"}}`, data)
	}))
	t.Cleanup(srv.Close)
	bearer, err := asana.BearerToken("token", nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := asana.Options{BaseURL: srv.URL, Transport: bearer}
	fastRetries(&opts)
	client, err := asana.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := auditlog.NewReader(auditlog.ReaderOptions{Source: client})
	// The first poll applies the two events; the next ones apply nothing.
	for i := range auditlog.StallPolls + 1 {
		mu.Lock()
		clear(requests)
		mu.Unlock()
		if err := r.Poll(context.Background(), []string{"1200000000000001"}, nil); err == nil || !strings.Contains(err.Error(), "leads nowhere") {
			t.Fatalf("poll %d: %v, want the standing offset named", i+1, err)
		}
		mu.Lock()
		for typ, n := range requests {
			if n > 10 {
				t.Errorf("poll %d: %d requests of %s; the standing offset was not stopped", i+1, n, typ)
			}
		}
		if len(requests) != len(asana.SeatEventTypes) {
			t.Errorf("poll %d: streams %v asked, want every one", i+1, requests)
		}
		mu.Unlock()
	}
	if st := r.Ledger("1200000000000001").Status(); len(st.Stalled) != len(asana.SeatEventTypes) {
		t.Errorf("stalled %v, want every stream", st.Stalled)
	}
}
