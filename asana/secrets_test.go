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
	"sync/atomic"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// secretToken is a token whose secret part the client must never show.
const (
	secretToken = "2/1204000000000042:S3cr3tT0kenLeakCheck"
	secretPart  = "S3cr3tT0kenLeakCheck"
)

// TestClientErrorsNeverHoldTheToken formats every error the client returns
// on every error path, and the client and its transport themselves, with
// %v, %+v and %#v: the token is in none.
func TestClientErrorsNeverHoldTheToken(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(11, asanatest.WorkspaceSpec{Licensed: 150}, asanatest.WorkspaceSpec{Licensed: 350}),
		asanatest.Config{Tokens: map[string]asanatest.TokenKind{secretToken: asanatest.FullAccess}})
	defer srv.Close()
	bearer, err := asana.BearerToken(secretToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	gid := srv.WorkspaceGIDs()[1]
	check := func(what string, v any) {
		t.Helper()
		if s := fmt.Sprintf("%v|%+v|%#v", v, v, v); strings.Contains(s, secretPart) {
			t.Errorf("%s holds the token: %s", what, s)
		}
	}
	for _, base := range []string{srv.BaseURL, srv.URL} { // srv.URL: 404 "No matching route"
		client, err := asana.New(asana.Options{BaseURL: base, Transport: bearer, MaxAttempts: 2,
			RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, MaxListingRestarts: 1})
		if err != nil {
			t.Fatal(err)
		}
		check("the client", client)
		check("the transport", bearer)
		errs := 0
		for _, f := range asanatest.EveryFault() {
			srv.ClearFaults()
			srv.Inject(f)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, err1 := client.Workspaces(ctx)
			_, err2 := client.CountSeats(ctx, gid, asana.CountOptions{})
			cancel()
			for _, err := range []error{err1, err2} {
				if err != nil {
					errs++
					check(fmt.Sprintf("the error for %+v", f), err)
				}
			}
			srv.GrantToken(secretToken, asanatest.FullAccess) // after Revoke
		}
		if errs < len(asanatest.EveryFault()) {
			t.Errorf("only %d errors from %d error paths: the faults did not bite", errs, len(asanatest.EveryFault()))
		}
		// The member endpoints, through the catalogue of failed changes.
		changes := 0
		for _, sc := range asanatest.ChangeScenarios {
			for _, route := range []string{asana.EndpointRemoveUser, asana.EndpointAddUser} {
				srv.ClearFaults()
				for _, f := range sc.On(route) {
					srv.Inject(f)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				_, err1 := client.Me(ctx)
				_, _, err2 := client.WorkspaceMembership(ctx, "1299999999999999", asana.Roster)
				err3 := client.RemoveUser(ctx, gid, "someone@example.com")
				_, err4 := client.AddUser(ctx, gid, "someone@example.com")
				cancel()
				for _, err := range []error{err1, err2, err3, err4} {
					if err != nil {
						changes++
						check(fmt.Sprintf("the error for %s on %s", sc.Name, route), err)
					}
				}
				srv.GrantToken(secretToken, asanatest.FullAccess)
			}
		}
		if changes < 2*len(asanatest.ChangeScenarios) {
			t.Errorf("only %d errors from the member endpoints: the faults did not bite", changes)
		}
	}
}

// TestRedirectsNeverCarryTheCredentials: a server that redirects each
// request to another origin, echoing the credentials it got into the
// redirect's query, gets none of them to that origin, and no error shows
// one: a token, an OAuth app's access token on its API requests, and its
// client secret and refresh token on its token request.
func TestRedirectsNeverCarryTheCredentials(t *testing.T) {
	const (
		accessPart  = "S3cr3tAccessLeakCheck"
		refreshPart = "S3cr3tRefreshLeakCheck"
	)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.WriteString(w, `{"data":[]}`)
	}))
	defer other.Close()
	// redirect sends every request to other, with what it carried.
	redirect := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		leak := url.Values{"auth": {r.Header.Get("Authorization")}, "body": {string(body)}}
		http.Redirect(w, r, other.URL+"/?"+leak.Encode(), http.StatusTemporaryRedirect)
	}
	for _, tc := range []struct {
		name      string
		transport func(tokenURL string) (http.RoundTripper, error)
		// tokens answers the token request, if not redirected.
		tokens http.HandlerFunc
	}{
		{name: "token", transport: func(string) (http.RoundTripper, error) { return asana.BearerToken(secretToken, nil) }},
		{name: "OAuth access token", transport: oauthTransport(refreshPart), tokens: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"at-`+accessPart+`","token_type":"bearer","expires_in":3600}`)
		}},
		{name: "OAuth client secret and refresh token", transport: oauthTransport(refreshPart)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == asana.EndpointOAuthToken && tc.tokens != nil {
					tc.tokens(w, r)
					return
				}
				redirect(w, r)
			}))
			defer srv.Close()
			tr, err := tc.transport(srv.URL + asana.EndpointOAuthToken)
			if err != nil {
				t.Fatal(err)
			}
			c, err := asana.New(asana.Options{BaseURL: srv.URL + "/api/1.0", Transport: tr, MaxAttempts: 2,
				RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err1 := c.Workspaces(context.Background())
			_, err2 := c.AuditLogPage(context.Background(), "1", asana.AuditQuery{EventType: asana.EventLoginSucceeded})
			_, err3 := c.Me(context.Background())
			// A change redirected may have reached Asana before: only a
			// re-read can tell. One whose token renewal was redirected
			// never left.
			err4 := c.RemoveUser(context.Background(), "1", "S3cr3t@example.com")
			for i, err := range []error{err1, err2, err3, err4} {
				want := asana.ErrRedirected
				if i == 3 && tc.tokens != nil || i == 3 && tc.name == "token" {
					want = asana.ErrOutcomeUnknown
				}
				if !errors.Is(err, want) || !strings.Contains(err.Error(), "redirect from") {
					t.Errorf("err = %v, want %s naming the redirect", err, want)
				}
				s := fmt.Sprintf("%v|%+v|%#v", err, err, err)
				for _, secret := range []string{secretPart, accessPart, refreshPart, "S3cr3t"} {
					if strings.Contains(s, secret) {
						t.Errorf("the error holds %q: %s", secret, s)
					}
				}
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("%d requests reached the redirect's target", n)
			}
		})
	}
}

// oauthTransport is an OAuth app's transport with refresh token
// "rt-"+refreshPart, renewing at the token URL it is given.
func oauthTransport(refreshPart string) func(string) (http.RoundTripper, error) {
	return func(tokenURL string) (http.RoundTripper, error) {
		return asana.NewOAuth(asana.OAuthOptions{ClientID: oauthClientID, ClientSecret: oauthSecret,
			RefreshToken: "rt-" + refreshPart, TokenURL: tokenURL})
	}
}
