package asanatest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// OAuthApp is an OAuth app registered with the simulated Asana, with Full
// permissions. The simulator serves Asana's authorization and token
// endpoints for it, at /-/oauth_authorize and /-/oauth_token on its host
// (Asana serves them on app.asana.com, beside /api/1.0).
type OAuthApp struct {
	ClientID, ClientSecret string
	// AccessTTL is how long an access token lasts, in whole seconds as
	// expires_in says it (at least 1s); Asana's last an hour. Short ones
	// let a test see many expiries.
	AccessTTL time.Duration
	// Deny answers the authorization with error=access_denied, as when the
	// user declines consent.
	Deny bool
	// RotateRefreshTokens answers each refresh with a new refresh token
	// and retires the old one. Asana's do not rotate; this is for the
	// client's handling of one that does.
	RotateRefreshTokens bool
}

// Asana's message for an expired access token (developer docs, /docs/oauth;
// the 401 status is a GUESS the notes call highly likely).
const msgTokenExpired = "The bearer token has expired. If you have a refresh token, please use it to request a new bearer token, otherwise allow the user to re-authenticate."

// grant is a code or a refresh token the token endpoint accepts.
type grant struct {
	redirectURI, challenge string // codes only
	revoked                bool   // refresh tokens only
}

type oauthState struct {
	app           *OAuthApp
	codes         map[string]grant
	refreshTokens map[string]*grant
	tokenRequests int
}

// SetOAuthApp registers app (nil removes it).
func (a *API) SetOAuthApp(app *OAuthApp) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.oauth = oauthState{app: app, codes: map[string]grant{}, refreshTokens: map[string]*grant{}}
}

// IssueRefreshToken makes a refresh token for the app, as a completed
// login would.
func (a *API) IssueRefreshToken() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	rt := "rt-" + randomToken()
	a.oauth.refreshTokens[rt] = &grant{}
	return rt
}

// RevokeRefreshToken revokes rt, as a user removing the app's
// authorization does; the token endpoint then answers invalid_grant.
func (a *API) RevokeRefreshToken(rt string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if g := a.oauth.refreshTokens[rt]; g != nil {
		g.revoked = true
	}
}

// ExpireAccessTokens makes every access token issued so far expired, as
// when the client's clock runs behind Asana's.
func (a *API) ExpireAccessTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.tokens {
		if !u.expires.IsZero() {
			u.expires = time.Now()
		}
	}
}

// TokenRequests is how many requests the token endpoint has answered.
func (a *API) TokenRequests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.oauth.tokenRequests
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveOAuth answers the OAuth endpoints, and reports whether the request
// was one of them.
func (a *API) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/-/oauth_authorize":
		a.authorize(w, r)
	case "/-/oauth_token":
		a.token(w, r)
	default:
		return false
	}
	return true
}

// authorize approves at once (a test acts as the browser), redirecting to
// the app's redirect URI with a code and the state.
func (a *API) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	defer a.mu.Unlock()
	app := a.oauth.app
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if app == nil || q.Get("client_id") != app.ClientID || err != nil || redirect.Scheme == "" {
		http.Error(w, "invalid_request: unknown client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	switch {
	case app.Deny:
		back.Set("error", "access_denied")
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		// Asana accepts plain PKCE and none too; the exporter always sends
		// S256, so anything else here is a bug in it.
		back.Set("error", "invalid_request")
	default:
		code := "code-" + randomToken()
		a.oauth.codes[code] = grant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token is POST /-/oauth_token for the authorization_code and refresh_token
// grants, form-encoded, with the client's id and secret in the form (as
// Asana's docs show) or in Basic auth. Its errors follow RFC 6749, as
// Asana's do ({"error":"invalid_grant"} with 400, observed).
func (a *API) token(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.oauth.tokenRequests++
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	app := a.oauth.app
	if r.Method != http.MethodPost || r.ParseForm() != nil || app == nil {
		fail(http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != app.ClientID || secret != app.ClientSecret {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	resp := map[string]any{"token_type": "bearer", "data": map[string]string{"gid": "1200000000000002", "name": "OAuth user"}}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		g, ok := a.oauth.codes[code]
		delete(a.oauth.codes, code) // a code is good once
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || g.redirectURI != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			fail(http.StatusBadRequest, "invalid_grant")
			return
		}
		rt := "rt-" + randomToken()
		a.oauth.refreshTokens[rt] = &grant{}
		resp["refresh_token"] = rt
	case "refresh_token":
		// No new refresh token: Asana's do not rotate (docs, and the
		// legacy SDK keeps the old one).
		old := r.PostForm.Get("refresh_token")
		if g := a.oauth.refreshTokens[old]; g == nil || g.revoked {
			fail(http.StatusBadRequest, "invalid_grant")
			return
		}
		if app.RotateRefreshTokens {
			a.oauth.refreshTokens[old].revoked = true
			rt := "rt-" + randomToken()
			a.oauth.refreshTokens[rt] = &grant{}
			resp["refresh_token"] = rt
		}
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	ttl := app.AccessTTL.Round(time.Second)
	switch {
	case app.AccessTTL <= 0:
		ttl = time.Hour
	case ttl < time.Second:
		ttl = time.Second
	}
	access := "at-" + randomToken()
	a.tokens[access] = &tokenUse{kind: FullAccess, expires: time.Now().Add(ttl)}
	resp["access_token"] = access
	resp["expires_in"] = int(ttl.Seconds())
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(resp)
}
