package asana_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

const (
	oauthClientID = "1204000000000007"
	oauthSecret   = "S3cr3tClientLeakCheck"
)

// refreshes records the renewals an OAuth transport reports.
type refreshes struct {
	mu      sync.Mutex
	results map[string]int
}

func (r *refreshes) TokenRefresh(result string, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results[result]++
}

func (r *refreshes) count(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.results[result]
}

// oauthClient is a client of srv authenticated as its OAuth app, with a
// refresh token the app issued.
func oauthClient(t *testing.T, srv *asanatest.Server, ttl time.Duration) (*asana.Client, *asana.OAuth, *refreshes, string) {
	t.Helper()
	srv.SetOAuthApp(&asanatest.OAuthApp{ClientID: oauthClientID, ClientSecret: oauthSecret, AccessTTL: ttl})
	rt := srv.IssueRefreshToken()
	tokenURL, err := asana.TokenURLFor(srv.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	obs := &refreshes{results: map[string]int{}}
	o, err := asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret, RefreshToken: rt, TokenURL: tokenURL, Base: srv.Transport, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	c, err := asana.New(asana.Options{BaseURL: srv.BaseURL, Transport: o, RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, o, obs, rt
}

// TestOAuthRenewsBeforeExpiry counts through many access-token lifetimes:
// every count is exact, no request is answered 401, and each renewal is
// one token request. In a bubble: on the real clock a slow enough machine
// sends a request with a token that lapses on its way.
func TestOAuthRenewsBeforeExpiry(t *testing.T) { synctest.Test(t, renewsBeforeExpiry) }

func renewsBeforeExpiry(t *testing.T) {
	spec := spread(450)
	srv := asanatest.NewMemoryServer(asanatest.Generate(1, spec), asanatest.Config{RequestsPerWindow: 1 << 20})
	defer srv.Close()
	c, _, obs, _ := oauthClient(t, srv, time.Second)
	deadline := time.Now().Add(3500 * time.Millisecond)
	counts := 0
	for time.Now().Before(deadline) {
		got, err := c.CountSeats(context.Background(), srv.WorkspaceGIDs()[0], asana.CountOptions{})
		if err != nil || got.Seats != spec.Seats() {
			t.Fatalf("count %d: %+v, %v", counts, got.Seats, err)
		}
		counts++
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range srv.Requests() {
		if r.Status == 401 {
			t.Fatalf("a request went out with an expired token: %+v", r)
		}
	}
	// One at the start, then one every 0.8 s (a fifth of a token's life
	// before it ends).
	if n := obs.count("success"); n != 5 || n != srv.TokenRequests() {
		t.Errorf("%d renewals reported, %d token requests, in %d counts over 3.5 s of 1 s tokens; want 5", n, srv.TokenRequests(), counts)
	}
}

// TestOAuthConcurrentRequestsShareOneRenewal: requests that all need a
// token at once make one token request.
func TestOAuthConcurrentRequestsShareOneRenewal(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(1, spread(100), spread(100), spread(100), spread(100)), asanatest.Config{})
	defer srv.Close()
	c, _, _, _ := oauthClient(t, srv, time.Hour)
	var wg sync.WaitGroup
	for _, gid := range srv.WorkspaceGIDs() {
		for range 5 {
			wg.Go(func() {
				if _, err := c.CountSeats(context.Background(), gid, asana.CountOptions{}); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("20 concurrent requests made %d token requests, want 1", n)
	}
}

// TestOAuthRetriesAnExpiredTokenOnce: a token Asana calls expired (our
// clock behind its) is renewed once and the request retried once.
func TestOAuthRetriesAnExpiredTokenOnce(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(1, spread(50)), asanatest.Config{})
	defer srv.Close()
	c, _, obs, _ := oauthClient(t, srv, time.Hour)
	if _, err := c.Workspaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.ExpireAccessTokens()
	srv.ResetRequests()
	if _, err := c.Workspaces(context.Background()); err != nil {
		t.Fatalf("after Asana expired the token: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Status != 401 || reqs[1].Status != 200 || obs.count("success") != 2 {
		t.Errorf("requests %+v, renewals %v: want one 401, one renewal, one retry", reqs, obs.results)
	}
}

// TestOAuthRevokedRefreshToken: invalid_grant is a fatal error that says
// what to do, is not asked again within the backoff, and new credentials
// recover without a new client. No error holds a secret. In a bubble, so
// that the second request surely comes within the backoff's second.
func TestOAuthRevokedRefreshToken(t *testing.T) { synctest.Test(t, revokedRefreshToken) }

func revokedRefreshToken(t *testing.T) {
	srv := asanatest.NewMemoryServer(asanatest.Generate(1, spread(50)), asanatest.Config{})
	defer srv.Close()
	c, o, obs, rt := oauthClient(t, srv, time.Hour)
	srv.RevokeRefreshToken(rt)
	_, err := c.Workspaces(context.Background())
	if !asana.IsFatal(err) || !errors.Is(err, asana.ErrUnauthorized) || !strings.Contains(err.Error(), "asana_exporter oauth login") {
		t.Fatalf("error %v: want a fatal unauthorized error that names the login command", err)
	}
	_, err2 := c.Workspaces(context.Background())
	if srv.TokenRequests() != 1 || obs.count("invalid_grant") != 1 || err2 == nil {
		t.Errorf("within the backoff: %d token requests, %v renewals reported, error %v", srv.TokenRequests(), obs.results, err2)
	}
	for _, e := range []error{err, err2} {
		s := fmt.Sprintf("%v %+v %#v", e, e, e)
		for _, secret := range []string{oauthSecret, rt, "at-"} {
			if strings.Contains(s, secret) {
				t.Errorf("the error holds a secret: %s", s)
			}
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", o, o, o); strings.Contains(s, oauthSecret) || strings.Contains(s, rt) {
		t.Errorf("the transport prints its credentials: %s", s)
	}

	o.SetCredentials(oauthSecret, srv.IssueRefreshToken())
	if _, err := c.Workspaces(context.Background()); err != nil {
		t.Errorf("with a new refresh token: %v", err)
	}
}

// TestOAuthTokenEndpointDown is a transient failure, retried.
func TestOAuthTokenEndpointDown(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(1, spread(50)), asanatest.Config{})
	defer srv.Close()
	o, err := asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret, RefreshToken: "rt", TokenURL: "http://127.0.0.1:1/-/oauth_token"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := asana.New(asana.Options{BaseURL: srv.BaseURL, Transport: o, MaxAttempts: 1})
	_, err = c.Workspaces(context.Background())
	var apiErr *asana.Error
	if !errors.As(err, &apiErr) || !apiErr.Retryable() || asana.IsFatal(err) {
		t.Errorf("a token endpoint that is down: %v, want a retryable error", err)
	}
}

// TestOAuthTokenEndpointBodiesNeverReachAnError: a token endpoint that
// echoes the request (the refresh token, the client secret) in its error
// bodies, as a proxy or a buggy server might, leaks nothing into errors.
func TestOAuthTokenEndpointBodiesNeverReachAnError(t *testing.T) {
	const refresh = "rt-S3cr3tRefreshLeakCheck"
	for _, answer := range []struct {
		status int
		body   string
	}{
		{400, `{"error":"invalid_grant","error_description":"bad refresh_token ` + refresh + ` for secret ` + oauthSecret + `"}`},
		{401, `{"error":"invalid_client","error_description":"` + oauthSecret + `"}`},
		{500, `<html>upstream said: grant_type=refresh_token&refresh_token=` + refresh + `&client_secret=` + oauthSecret + `</html>`},
		{200, `{"access_token":"","token_type":"bearer","refresh":"` + refresh + `"}`},
		// oauth2's decode error quotes the value.
		{200, `{"access_token":"at","token_type":"bearer","expires_in":"` + refresh + ` ` + oauthSecret + `"}`},
	} {
		tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(answer.status)
			io.WriteString(w, answer.body)
		}))
		o, err := asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret, RefreshToken: refresh, TokenURL: tokenSrv.URL + "/-/oauth_token"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := asana.New(asana.Options{BaseURL: tokenSrv.URL + "/api/1.0", Transport: o, MaxAttempts: 1})
		_, err = c.Workspaces(context.Background())
		tokenSrv.Close()
		if err == nil {
			t.Errorf("status %d: no error", answer.status)
			continue
		}
		if s := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(s, "S3cr3t") {
			t.Errorf("status %d: the error holds a secret: %s", answer.status, s)
		}
	}
}

// TestOAuthTokenEndpointRedirectsStayOnItsOrigin: the token request
// carries the client secret and the refresh token in its body, which a
// 307 or 308 would send again: a redirect to another origin fails before
// anything is sent there, whatever its status.
func TestOAuthTokenEndpointRedirectsStayOnItsOrigin(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-stolen","token_type":"bearer","expires_in":3600}`)
	}))
	defer other.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/-/oauth_token?grant=refresh", status)
		}))
		o, err := asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret, RefreshToken: "rt-x", TokenURL: tokenSrv.URL + "/-/oauth_token"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := asana.New(asana.Options{BaseURL: tokenSrv.URL + "/api/1.0", Transport: o, MaxAttempts: 1})
		_, err = c.Workspaces(context.Background())
		tokenSrv.Close()
		if !errors.Is(err, asana.ErrRedirected) || !asana.IsFatal(err) {
			t.Fatalf("%d: err = %v, want a fatal ErrRedirected", status, err)
		}
		for _, want := range []string{"POST /-/oauth_token: " + strconv.Itoa(status),
			"redirect from " + tokenSrv.URL + " to " + other.URL + " refused; the client secret and refresh token are only sent to " + tokenSrv.URL,
			"--asana.oauth.token-url"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%d: error %q does not say %q", status, err, want)
			}
		}
		if strings.Contains(err.Error(), "grant=") {
			t.Errorf("%d: error %q names the redirect's query", status, err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d token requests reached the redirect's target", n)
	}
}

// TestOAuthTokenResponsesAreBounded: a token response nested past
// maxJSONDepth or longer than 64 KiB fails the renewal with an error that
// names the limit, before oauth2 reads it.
func TestOAuthTokenResponsesAreBounded(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"access_token":` + strings.Repeat("[", 60_000), "JSON nested deeper than 64 levels"},
		{`{"access_token":"at","pad":"` + strings.Repeat("x", 64<<10) + `"}`, "body larger than 65536 bytes"},
	} {
		tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tc.body)
		}))
		o, err := asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret, RefreshToken: "rt-x", TokenURL: tokenSrv.URL + "/-/oauth_token"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := asana.New(asana.Options{BaseURL: tokenSrv.URL + "/api/1.0", Transport: o, MaxAttempts: 1})
		_, err = c.Workspaces(context.Background())
		tokenSrv.Close()
		if !errors.Is(err, asana.ErrMalformedResponse) || !strings.Contains(err.Error(), "POST /-/oauth_token") || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), "check --asana.oauth.token-url") {
			t.Errorf("err = %.300v, want a malformed token response saying %q", err, tc.want)
		}
	}
}

func TestNewOAuthRejectsABadTokenURL(t *testing.T) {
	for _, u := range []string{"app.asana.com/-/oauth_token", "ftp://app.asana.com/-/oauth_token", "https://", "http://%zz"} {
		_, err := asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret, RefreshToken: "rt-x", TokenURL: u})
		if err == nil || !strings.Contains(err.Error(), "--asana.oauth.token-url") {
			t.Errorf("NewOAuth(TokenURL %q) = %v, want an error naming --asana.oauth.token-url", u, err)
		}
	}
}
