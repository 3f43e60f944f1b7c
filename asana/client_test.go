package asana_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

func TestErrorClassesTellTheUserWhatToDo(t *testing.T) {
	const granular = "granular-oauth-token"
	cfg := asanatest.Config{Tokens: map[string]asanatest.TokenKind{
		asanatest.DefaultToken: asanatest.FullAccess,
		granular:               asanatest.GranularScopes,
	}}
	cases := []struct {
		name     string
		token    string
		baseURL  func(*asanatest.Server) string
		gid      string // "" = the real workspace
		fault    *asanatest.Fault
		kind     asana.Kind
		status   int
		contains []string
	}{
		{name: "wrong token", token: "not-a-token", kind: asana.ErrUnauthorized, status: 401,
			contains: []string{`"Not Authorized"`, "invalid, expired or revoked", "token file"}},
		{name: "granular OAuth token", token: granular, kind: asana.ErrFullPermissionsRequired, status: 403,
			contains: []string{"Full permissions are required", "personal access token or a service-account token", "no granular OAuth scope covers workspace memberships"}},
		{name: "base URL without /api/1.0", baseURL: func(s *asanatest.Server) string { return s.URL }, kind: asana.ErrNoRoute, status: 404,
			contains: []string{"No matching route for request", "--asana.url", "/api/1.0"}},
		{name: "unknown workspace", gid: "1299999999999999", kind: asana.ErrNotFound, status: 404,
			contains: []string{"workspace: Not a recognized ID: 1299999999999999", "check the gid"}},
		{name: "payment required", fault: &asanatest.Fault{Status: 402}, kind: asana.ErrPaymentRequired, status: 402,
			contains: []string{"premium", "paid Asana plan"}},
		{name: "legal block", fault: &asanatest.Fault{Status: 451}, kind: asana.ErrLegal, status: 451,
			contains: []string{"legal reasons", "embargoed IP"}},
		{name: "plain forbidden", fault: &asanatest.Fault{Status: 403, Message: "You do not have access to this workspace"}, kind: asana.ErrForbidden, status: 403,
			contains: []string{"cannot read this workspace"}},
		{name: "bad request", fault: &asanatest.Fault{Status: 400, Message: "opt_fields: Unknown field"}, kind: asana.ErrBadRequest, status: 400,
			contains: []string{"opt_fields: Unknown field", "bug in asana_exporter"}},
		{name: "server error given up", fault: &asanatest.Fault{Status: 500}, kind: asana.ErrServer, status: 500,
			contains: []string{"500 Internal Server Error", `"Server Error" (phrase "`, "gave up after 5 attempts", "Asana support"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			if token == "" {
				token = asanatest.DefaultToken
			}
			h := newHarness(t, cfg, withToken(t, token), spread(10))
			if tc.baseURL != nil {
				h = newHarness(t, cfg, func(o *asana.Options) {
					withToken(t, token)(o)
					o.BaseURL = tc.baseURL(h.srv)
				}, spread(10))
				// The second harness has its own server; point it at itself.
				h = newHarness(t, cfg, nil, spread(10))
				c, err := asana.New(asana.Options{BaseURL: h.srv.URL, Transport: mustBearer(t, token)})
				if err != nil {
					t.Fatal(err)
				}
				h.client = c
			}
			if tc.fault != nil {
				h.srv.Inject(*tc.fault)
			}
			gid := tc.gid
			if gid == "" {
				gid = h.workspace(0)
			}
			_, err := h.client.CountSeats(context.Background(), gid, asana.CountOptions{})
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want kind %q", err, tc.kind)
			}
			var apiErr *asana.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status {
				t.Fatalf("err = %#v, want an *asana.Error with status %d", err, tc.status)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error leaks the token: %q", err)
			}
		})
	}
}

func mustBearer(t *testing.T, token string) http.RoundTripper {
	t.Helper()
	tr, err := asana.BearerToken(token, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestNonRetryableErrorsAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 402, 403, 404, 451} {
		h := newHarness(t, asanatest.Config{}, nil, spread(10))
		h.srv.Inject(asanatest.Fault{Status: status})
		if _, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{}); err == nil {
			t.Fatalf("%d: no error", status)
		}
		if n := len(h.srv.Requests()); n != 1 {
			t.Errorf("%d: %d requests, want 1", status, n)
		}
		if len(h.obs.retries) != 0 {
			t.Errorf("%d: retries observed %v", status, h.obs.retries)
		}
	}
}

func TestRateLimitHonorsRetryAfter(t *testing.T) {
	spec := spread(250)
	h := newHarness(t, asanatest.Config{}, nil, spec)
	h.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 2, Status: 429, RetryAfter: "1", Times: 1})
	got, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Seats != spec.Seats() {
		t.Errorf("seats %+v, want %+v", got.Seats, spec.Seats())
	}
	reqs := h.srv.Requests()
	if len(reqs) != 4 || reqs[1].Status != 429 || reqs[2].Page != 2 || reqs[2].Status != 200 {
		t.Fatalf("requests %+v", reqs)
	}
	if waited := reqs[2].Time.Sub(reqs[1].Time); waited < time.Second {
		t.Errorf("retried after %v, before Retry-After: 1", waited)
	}
	ep := asana.EndpointWorkspaceMemberships
	if h.obs.rateLimited[ep] != 1 || h.obs.retries[ep] != 1 || h.obs.requests[ep][429] != 1 || h.obs.requests[ep][200] != 3 {
		t.Errorf("observed rate limited %v, retries %v, requests %v", h.obs.rateLimited, h.obs.retries, h.obs.requests)
	}
}

// A context's observer is told about the requests made on it, in place of
// the client's own: two organisations sharing one client (one token) count
// their requests apart, and neither's show in the other's numbers.
func TestWithObserverCountsAContextsRequestsApart(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, spread(250))
	h.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 2, Status: 429, RetryAfter: "0", Times: 1})
	own := newRecorder()
	ctx := asana.WithObserver(context.Background(), own)
	if _, err := h.client.CountSeats(ctx, h.workspace(0), asana.CountOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Workspaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	ep := asana.EndpointWorkspaceMemberships
	if own.requests[ep][200] != 3 || own.requests[ep][429] != 1 || own.rateLimited[ep] != 1 || own.retries[ep] != 1 || len(own.requests) != 1 {
		t.Errorf("the context's observer saw requests %v, rate limited %v, retries %v; want the count's 4 alone", own.requests, own.rateLimited, own.retries)
	}
	if len(h.obs.requests) != 1 || h.obs.requests[asana.EndpointWorkspaces][200] != 1 || len(h.obs.rateLimited)+len(h.obs.retries) != 0 {
		t.Errorf("the client's observer saw requests %v, rate limited %v, retries %v; want GET /workspaces alone", h.obs.requests, h.obs.rateLimited, h.obs.retries)
	}
}

func TestRateLimitWithoutRetryAfterBacksOff(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, func(o *asana.Options) {
		o.RetryBaseDelay, o.RetryMaxDelay = 200*time.Millisecond, 10*time.Second
	}, spread(10))
	h.srv.Inject(asanatest.Fault{Status: 429, Times: 2})
	if _, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{}); err != nil {
		t.Fatal(err)
	}
	reqs := h.srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	// Equal jitter: at least half of 200ms, then half of 400ms.
	if d := reqs[1].Time.Sub(reqs[0].Time); d < 100*time.Millisecond {
		t.Errorf("first backoff %v < 100ms", d)
	}
	if d := reqs[2].Time.Sub(reqs[1].Time); d < 200*time.Millisecond {
		t.Errorf("second backoff %v < 200ms", d)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	faults := map[string]asanatest.Fault{
		"500":            {Status: 500},
		"502":            {Status: 502},
		"503":            {Status: 503},
		"504":            {Status: 504},
		"dropped":        {Drop: true},
		"truncated body": {Truncate: true},
		"malformed JSON": {Malformed: true},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			spec := spread(150)
			h := newHarness(t, asanatest.Config{}, nil, spec)
			f.Route, f.Page, f.Times = asana.EndpointWorkspaceMemberships, 2, 2
			h.srv.Inject(f)
			got, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Seats != spec.Seats() {
				t.Errorf("seats %+v, want %+v", got.Seats, spec.Seats())
			}
			if n := len(h.srv.Requests()); n != 4 {
				t.Errorf("%d requests, want 4 (page 2 failed twice)", n)
			}
			// net/http itself resends an idempotent GET once when a reused
			// connection is closed before any response, so a dropped
			// connection may cost the client only one retry of its own.
			minRetries := 2
			if f.Drop {
				minRetries = 1
			}
			if r := h.obs.retries[asana.EndpointWorkspaceMemberships]; r < minRetries || r > 2 {
				t.Errorf("%d retries observed, want %d to 2", r, minRetries)
			}
		})
	}
}

func TestServerErrorsGiveUpAfterMaxAttempts(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, func(o *asana.Options) { o.MaxAttempts = 3 }, spread(10))
	h.srv.Inject(asanatest.Fault{Status: 503})
	_, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
	if !errors.Is(err, asana.ErrServer) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
	if n := len(h.srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestRetryNeverOutlivesTheDeadline: a backoff longer than the time left
// fails at once. The message is only written before sleeping, so it shows
// the client did not wait.
func TestRetryNeverOutlivesTheDeadline(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, func(o *asana.Options) { o.RetryBaseDelay, o.RetryMaxDelay = time.Hour, time.Hour }, spread(10))
	h.srv.Inject(asanatest.Fault{Status: 503})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.client.CountSeats(ctx, h.workspace(0), asana.CountOptions{})
	if !errors.Is(err, asana.ErrServer) || !strings.Contains(err.Error(), "no time left to retry before the deadline") {
		t.Fatalf("err = %v", err)
	}
	if n := len(h.srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestRetryAfterBeyondTheTimeLeftFailsAtOnce: a Retry-After longer than the
// deadline allows, or than maxRetryAfter without one, fails at once and
// says how long Asana asked for. Had the client slept, the test would hang.
func TestRetryAfterBeyondTheTimeLeftFailsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		deadline   time.Duration // none when 0
		want       []string
	}{
		{"a billion seconds before a deadline", "1000000000", time.Hour,
			[]string{"Asana asked to wait 277777h46m40s before retrying, more than the ", " left before the deadline"}},
		{"an HTTP date a year ahead, before a deadline", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat), time.Hour,
			[]string{"Asana asked to wait 87", "h", " before retrying, more than the ", " left before the deadline"}},
		{"16 minutes without a deadline", "960", 0,
			[]string{"Asana asked to wait 16m0s before retrying, more than the 15m0s the client waits at most without a deadline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, asanatest.Config{}, nil, spread(10))
			h.srv.Inject(asanatest.Fault{Status: 429, RetryAfter: tc.retryAfter})
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			_, err := h.client.Workspaces(ctx)
			if !errors.Is(err, asana.ErrRateLimited) {
				t.Fatalf("err = %v, want a rate-limit error", err)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if n := len(h.srv.Requests()); n != 1 || len(h.obs.retries) != 0 {
				t.Errorf("%d requests and retries %v, want 1 request and none", n, h.obs.retries)
			}
		})
	}
}

// TestCancellationStopsPromptly: every wait ends when the caller cancels.
// Each fault would hold the client for 30 s or more, and the bound is 20 s
// after the cancel: a margin no loaded machine eats into.
func TestCancellationStopsPromptly(t *testing.T) {
	cases := map[string]asanatest.Fault{
		"during a slow response":  {Latency: time.Minute},
		"during a Retry-After":    {Status: 429, RetryAfter: "60"},
		"during a 5xx backoff":    {Status: 500},
		"during a slow body read": {SlowBody: time.Minute},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, asanatest.Config{}, func(o *asana.Options) { o.RetryBaseDelay, o.RetryMaxDelay = time.Minute, time.Minute }, spread(10))
			h.srv.Inject(f)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := h.client.CountSeats(ctx, h.workspace(0), asana.CountOptions{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if elapsed := time.Since(start); elapsed > 20*time.Second {
				t.Errorf("returned %v after the start, cancelled after 100ms", elapsed)
			}
		})
	}
}

// sendLog records when each request leaves the client.
type sendLog struct {
	mu    sync.Mutex
	times []time.Time
	next  http.RoundTripper
}

func (s *sendLog) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return s.next.RoundTrip(r)
}

// TestLimiterKeepsBurstInsideTheRate runs in a synctest bubble against the
// simulated API in memory: the clock is fake and moves only when every
// goroutine waits, so each request leaves at the instant the client lets
// it, and a loaded machine cannot bunch or spread requests. The test then
// asserts exact bounds, with no slack for the scheduler: no one-second
// window holds more than burst + rate requests, the server (whose limit is
// exactly that) answers no 429, at most MaxConcurrent are in flight, and
// the whole takes no less than the budget allows.
//
// The first requests hold every slot for half a second while the others
// queue. When requests took a rate token before a slot, the queued ones
// spent tokens while waiting and left together once slots freed: 150 in a
// second here.
func TestLimiterKeepsBurstInsideTheRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 6000/min: burst 10 and (6000-10)/60 = 99.8 requests a second.
		const calls, perMinute, burst, slots = 300, 6000, 10, 4
		ratePerSec := float64(perMinute-burst) / 60
		srv := asanatest.NewMemoryServer(asanatest.Generate(1, spread(5)),
			asanatest.Config{RequestsPerWindow: burst + int(ratePerSec), RateWindow: time.Second, MaxConcurrent: slots})
		defer srv.Close()
		api := srv.API
		api.Inject(asanatest.Fault{Latency: 500 * time.Millisecond, Times: slots})
		api.Inject(asanatest.Fault{Latency: 5 * time.Millisecond}) // keeps requests in flight together
		sent := &sendLog{next: srv.Transport}
		c, err := asana.New(asana.Options{BaseURL: srv.BaseURL, Transport: mustBearerOver(t, asanatest.DefaultToken, sent),
			RequestsPerMinute: perMinute, MaxConcurrent: slots, MaxAttempts: 1}) // a 429 must surface, not be retried away
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, calls)
		for range calls {
			wg.Go(func() {
				if _, err := c.Workspaces(context.Background()); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		stats := api.Stats(asanatest.DefaultToken)
		if stats.RateLimited != 0 {
			t.Errorf("server rate-limited %d requests", stats.RateLimited)
		}
		if stats.MaxInFlight > slots {
			t.Errorf("%d requests in flight at once, cap is %d", stats.MaxInFlight, slots)
		}
		if minimum := time.Duration(float64(calls-burst) / ratePerSec * float64(time.Second)); elapsed < minimum {
			t.Errorf("%d calls took %v, faster than the budget allows (%v)", calls, elapsed, minimum)
		}
		times := sent.times
		if len(times) != calls {
			t.Fatalf("%d requests sent, want %d", len(times), calls)
		}
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < time.Second {
				j++
			}
			if n := j - i; float64(n) > burst+ratePerSec {
				t.Fatalf("%d requests left within one second from request %d at %v", n, i, times[i].Sub(start))
			}
		}
	})
}

func mustBearerOver(t *testing.T, token string, base http.RoundTripper) http.RoundTripper {
	t.Helper()
	tr, err := asana.BearerToken(token, base)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTokenNeverAppearsInErrorsOrLogs(t *testing.T) {
	const secret = "2/1200000000000001/1200000000000002:0123456789abcdef0123456789abcdef"
	cfg := asanatest.Config{Tokens: map[string]asanatest.TokenKind{secret: asanatest.FullAccess}}
	faults := []asanatest.Fault{{Status: 400}, {Status: 401}, {Status: 402}, {Status: 403}, {Status: 404}, {Status: 429}, {Status: 451},
		{Status: 500}, {Status: 503}, {Drop: true}, {Truncate: true}, {Malformed: true}, {ExpireOffset: true}}
	for _, f := range faults {
		h := newHarness(t, cfg, func(o *asana.Options) { withToken(t, secret)(o); o.MaxAttempts = 2 }, spread(250))
		h.srv.Inject(f)
		_, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
		_, err2 := h.client.Workspaces(context.Background())
		for _, e := range []error{err, err2} {
			if e != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", e, e, e), secret) {
				t.Errorf("fault %+v: error leaks the token: %v", f, e)
			}
		}
		if strings.Contains(h.logs.String(), secret) {
			t.Errorf("fault %+v: log leaks the token", f)
		}
	}
	tr := mustBearer(t, secret)
	if s := fmt.Sprintf("%v %+v %#v %s", tr, tr, tr, tr); strings.Contains(s, secret) {
		t.Errorf("formatting the transport leaks the token: %s", s)
	}
	for _, bad := range []string{"", "tok en", "token\n", "tok\x00en"} {
		_, err := asana.BearerToken(bad, nil)
		if err == nil {
			t.Errorf("BearerToken(%q) accepted", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("BearerToken error echoes the token: %v", err)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tr := mustBearer(t, "x")
	for _, tc := range []struct {
		opts asana.Options
		want string
	}{
		{asana.Options{}, "no Transport"},
		{asana.Options{Transport: tr, BaseURL: "app.asana.com/api/1.0"}, "not an absolute http(s) URL"},
		{asana.Options{Transport: tr, BaseURL: "ftp://app.asana.com"}, "not an absolute http(s) URL"},
		{asana.Options{Transport: tr, BaseURL: "https://user:secret@app.asana.com/api/1.0"}, "must not carry credentials"},
	} {
		_, err := asana.New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.opts.BaseURL, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error echoes the URL's password: %v", err)
		}
	}
	c, err := asana.New(asana.Options{Transport: tr})
	if err != nil || c.BaseURL() != asana.DefaultBaseURL {
		t.Errorf("default base URL = %v, %v", c, err)
	}
}

// TestRedirectsStayOnTheConfiguredOrigin: a redirect to another scheme,
// host or port fails before anything is sent there, is not retried, and
// names both origins but never the path or query. The REST calls and the
// audit log's share the mechanism. A redirect on the same origin is
// followed: it reaches the server the token is meant for.
func TestRedirectsStayOnTheConfiguredOrigin(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.WriteString(w, `{"data":[]}`)
	}))
	defer other.Close()
	otherURL, _ := url.Parse(other.URL)
	for _, tc := range []struct {
		name     string
		status   int
		tls      bool
		location func(self *url.URL) string
		wantTo   func(self *url.URL) string
	}{
		{name: "302 to another port", status: http.StatusFound,
			location: func(*url.URL) string { return other.URL + "/api/1.0/workspaces?offset=eyJzZWNyZXQiOjF9" },
			wantTo:   func(*url.URL) string { return other.URL }},
		{name: "307 to another host name", status: http.StatusTemporaryRedirect,
			location: func(*url.URL) string { return "http://localhost:" + otherURL.Port() + "/steal?offset=eyJzZWNyZXQiOjF9" },
			wantTo:   func(*url.URL) string { return "http://localhost:" + otherURL.Port() }},
		{name: "301 from https to http on the same host and port", status: http.StatusMovedPermanently, tls: true,
			location: func(self *url.URL) string { return "http://" + self.Host + "/api/1.0/workspaces" },
			wantTo:   func(self *url.URL) string { return "http://" + self.Host }},
		{name: "308 relative to another host", status: http.StatusPermanentRedirect,
			location: func(*url.URL) string { return "//" + otherURL.Host + "/api/1.0/workspaces" },
			wantTo:   func(*url.URL) string { return other.URL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			var self *url.URL
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				http.Redirect(w, r, tc.location(self), tc.status)
			})
			srv := httptest.NewUnstartedServer(handler)
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			self, _ = url.Parse(srv.URL)
			c, err := asana.New(asana.Options{BaseURL: srv.URL + "/api/1.0", Transport: mustBearerOver(t, asanatest.DefaultToken, srv.Client().Transport),
				RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err1 := c.Workspaces(context.Background())
			_, err2 := c.AuditLogPage(context.Background(), "1", asana.AuditQuery{EventType: asana.EventLoginSucceeded})
			for _, err := range []error{err1, err2} {
				if !errors.Is(err, asana.ErrRedirected) || !asana.IsFatal(err) {
					t.Fatalf("err = %v, want a fatal ErrRedirected", err)
				}
				msg := err.Error()
				for _, s := range []string{
					fmt.Sprintf("%d %s", tc.status, http.StatusText(tc.status)),
					"redirect from " + srv.URL + " to " + tc.wantTo(self) + " refused",
					"the token is only sent to " + srv.URL, "check --asana.url",
				} {
					if !strings.Contains(msg, s) {
						t.Errorf("error %q does not say %q", msg, s)
					}
				}
				for _, s := range []string{"offset", "steal", "eyJ", asanatest.DefaultToken} {
					if strings.Contains(msg, s) {
						t.Errorf("error %q holds %q", msg, s)
					}
				}
			}
			if n := requests.Load(); n != 2 {
				t.Errorf("the configured server saw %d requests, want one per call: a refused redirect is not retried", n)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("%d requests reached the redirect's target", n)
			}
		})
	}

	t.Run("same origin is followed", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/api/1.0/workspaces":
				http.Redirect(w, r, "/api/1.0/moved/workspaces?"+r.URL.RawQuery, http.StatusFound)
			case r.Header.Get("Authorization") == "Bearer "+asanatest.DefaultToken:
				io.WriteString(w, `{"data":[{"gid":"1","name":"Moved"}],"next_page":null}`)
			default:
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		defer srv.Close()
		c, err := asana.New(asana.Options{BaseURL: srv.URL + "/api/1.0", Transport: mustBearer(t, asanatest.DefaultToken)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Workspaces(context.Background())
		if err != nil || len(got) != 1 || got[0].Name != "Moved" {
			t.Errorf("Workspaces = %+v, %v; want the workspace behind the same-origin redirect", got, err)
		}
	})
}

// TestHostileBodiesFailTheirRequest: a body nested past maxJSONDepth or
// longer than its limit fails its request with an error that names the
// limit, on every endpoint, 2xx bodies and error bodies alike. A million
// '[' used to overflow the goroutine stack, a crash no recover catches.
func TestHostileBodiesFailTheirRequest(t *testing.T) {
	deep := `{"data":` + strings.Repeat("[", 1_000_000)
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   asana.Kind
		want   string
	}{
		{"200 nested a million deep", 200, deep, asana.ErrMalformedResponse, "JSON nested deeper than 64 levels"},
		{"200 nested 66 deep, behind brackets and escapes in a string", 200, `{"data":[{"gid":"\"[[[\\\\","x":` + strings.Repeat(`{"a":`, 63) + `1` + strings.Repeat("}", 63) + `}]}`,
			asana.ErrMalformedResponse, "JSON nested deeper than 64 levels"},
		{"200 over 16 MiB", 200, `{"data":[],"pad":"` + strings.Repeat("x", 16<<20) + `"}`, asana.ErrMalformedResponse, "body larger than 16777216 bytes"},
		{"429 nested 60,000 deep", 429, `{"errors":` + strings.Repeat("[", 60_000), asana.ErrRateLimited, "error body not decoded: JSON nested deeper than 64 levels"},
		{"500 over 64 KiB", 500, `{"errors":[{"message":"` + strings.Repeat("x", 64<<10) + `"}]}`, asana.ErrServer, "error body not decoded: body larger than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := asana.New(asana.Options{BaseURL: srv.URL + "/api/1.0", Transport: mustBearer(t, asanatest.DefaultToken), MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, err1 := c.Workspaces(ctx)
			_, err2 := c.CountSeats(ctx, "1", asana.CountOptions{})
			_, err3 := c.AuditLogPage(ctx, "1", asana.AuditQuery{EventType: asana.EventLoginSucceeded})
			for _, err := range []error{err1, err2, err3} {
				if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %.300v, want kind %q saying %q", err, tc.kind, tc.want)
				}
				if tc.kind == asana.ErrMalformedResponse && !strings.Contains(err.Error(), "check --asana.url") {
					t.Errorf("err = %.300v does not say what to check", err)
				}
			}
		})
	}
}

// TestDecodeErrorsNeverQuoteTheBody: a 2xx body that does not decode
// fails with the field's path and the JSON type found. The decoder's own
// errors quote the bytes after the bad field, and in a membership page
// those are names, emails and gids.
func TestDecodeErrorsNeverQuoteTheBody(t *testing.T) {
	const email, name, gid = "grace.hopper@example.com", "Grace Hopper", "1209999999999999"
	for _, tc := range []struct {
		name string
		call func(context.Context, *asana.Client) error
		body string
		want string
	}{
		{"membership flag", countSeats,
			`{"data":[{"gid":"` + gid + `","is_active":"` + email + `","user":{"name":"` + name + `"}}]}`,
			"record 1 has an is_active that is neither true nor false"},
		{"membership created_at", countSeats,
			`{"data":[{"gid":"` + gid + `","is_active":true,"created_at":"` + name + ` <` + email + `>"}]}`,
			"data.0.created_at: cannot decode a JSON string into time.Time"},
		{"workspace name", workspaces,
			`{"data":[{"gid":"` + gid + `","name":{"first":"` + name + `"},"email_domains":["` + email + `"]}]}`,
			"data.0.name: cannot decode a JSON object into string"},
		{"audit created_at a string", auditPage,
			`{"data":[{"gid":"` + gid + `","created_at":"` + name + ` <` + email + `>"}]}`,
			"data.0.created_at: cannot decode a JSON string into asana.EventTime"},
		{"audit created_at a number", auditPage,
			`{"data":[{"gid":"` + gid + `","created_at":` + gid + `}]}`,
			"data.0.created_at: cannot decode a JSON number into asana.EventTime"},
		{"not JSON", countSeats,
			`{"data":[{"gid":"` + gid + `","is_active":true,"user":{"name":"` + name + `","email":` + email + `}}]}`,
			"not valid JSON: invalid character 'g' looking for beginning of value"},
		{"cut short", workspaces,
			`{"data":[{"gid":"` + gid + `","name":"` + name,
			"not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) }))
			defer srv.Close()
			c, err := asana.New(asana.Options{BaseURL: srv.URL + "/api/1.0", Transport: mustBearer(t, asanatest.DefaultToken), MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(context.Background(), c)
			if !errors.Is(err, asana.ErrMalformedResponse) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a malformed response saying %q", err, tc.want)
			}
			s := fmt.Sprintf("%v|%+v|%#v", err, err, err)
			for _, secret := range []string{email, name, gid, "grace", "Hopper"} {
				if strings.Contains(s, secret) {
					t.Errorf("the error quotes %q from the body: %s", secret, s)
				}
			}
		})
	}
}

func countSeats(ctx context.Context, c *asana.Client) error {
	_, err := c.CountSeats(ctx, "1", asana.CountOptions{})
	return err
}

func workspaces(ctx context.Context, c *asana.Client) error {
	_, err := c.Workspaces(ctx)
	return err
}

func auditPage(ctx context.Context, c *asana.Client) error {
	_, err := c.AuditLogPage(ctx, "1", asana.AuditQuery{EventType: asana.EventLoginSucceeded})
	return err
}
