package asana

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/asana-exporter/asana_exporter/internal/excerpt"
)

// OAuthOptions are an OAuth app's credentials and where to renew them.
type OAuthOptions struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
	// TokenURL is the token endpoint; TokenURLFor(base URL) by default.
	TokenURL string
	// Base carries the requests, to the API and the token endpoint alike;
	// net/http's default transport when nil (see BearerToken).
	Base http.RoundTripper
	// RefreshTokenChanged is called when the token endpoint hands out a new
	// refresh token, so that it can be saved. Asana's do not rotate, so it
	// should not happen.
	RefreshTokenChanged func(string)
	// Observer hears of every renewal.
	Observer OAuthObserver
}

// OAuthObserver hears of access-token renewals: result is "success",
// "invalid_grant" or "error"; expiry is the new token's, on success.
type OAuthObserver interface {
	TokenRefresh(result string, expiry time.Time)
}

// TokenURLFor is Asana's token endpoint for an API root: /-/oauth_token on
// the same host (https://app.asana.com/-/oauth_token for the default root).
func TokenURLFor(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("asana: cannot derive the OAuth token endpoint from %q", baseURL)
	}
	return u.Scheme + "://" + u.Host + "/-/oauth_token", nil
}

// renewEarly renews an access token this long before it expires (or a
// fifth of its life, if shorter), so that no request goes out with a token
// about to lapse.
const renewEarly = time.Minute

// Backoff after a renewal that failed: the token endpoint is not asked
// again before it, whatever the number of requests waiting.
const (
	minRenewBackoff = time.Second
	maxRenewBackoff = 5 * time.Minute
)

// OAuth is a RoundTripper that authenticates with an OAuth app's access
// token, renewed with its refresh token (golang.org/x/oauth2) before it
// expires. Concurrent requests share one renewal. A 401 that says the token
// expired renews it once and retries the request once.
type OAuth struct {
	base     http.RoundTripper
	tokenURL string
	// tokens carries the token requests: oauth2 takes its *http.Client
	// from the context.
	tokens   *http.Client
	changed  func(string)
	observer OAuthObserver

	mu           sync.Mutex // held through a renewal, so that it is shared
	clientID     string
	clientSecret string
	refreshToken string
	access       *oauth2.Token
	renewAt      time.Time // when access is to be renewed
	lastErr      error     // the last renewal's failure
	retryAt      time.Time // no renewal before then, after a failure
	backoff      time.Duration
}

// NewOAuth checks the credentials and returns the RoundTripper. It makes no
// request: the first one renews the access token.
func NewOAuth(opts OAuthOptions) (*OAuth, error) {
	if opts.ClientID == "" {
		return nil, errors.New("asana: OAuth: no client id")
	}
	if opts.TokenURL == "" {
		return nil, errors.New("asana: OAuth: no token endpoint")
	}
	if opts.Base == nil {
		opts.Base = defaultTransport()
	}
	tokens, err := TokenEndpointClient(opts.TokenURL, opts.Base)
	if err != nil {
		return nil, err
	}
	for what, v := range map[string]string{"client secret": opts.ClientSecret, "refresh token": opts.RefreshToken} {
		if err := ValidToken(v); err != nil {
			return nil, fmt.Errorf("asana: OAuth %s: %s", what, strings.TrimPrefix(err.Error(), "asana: "))
		}
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	return &OAuth{base: opts.Base, tokenURL: opts.TokenURL, changed: opts.RefreshTokenChanged, observer: opts.Observer,
		tokens:   tokens,
		clientID: opts.ClientID, clientSecret: opts.ClientSecret, refreshToken: opts.RefreshToken}, nil
}

// TokenEndpointClient is the HTTP client for an OAuth token endpoint, for
// golang.org/x/oauth2 to use (through the oauth2.HTTPClient context key):
// it follows no redirect to another origin, since the request carries the
// client secret and a code or refresh token, and it bounds the answers as
// every other body is bounded. A nil base is net/http's default transport.
func TokenEndpointClient(tokenURL string, base http.RoundTripper) (*http.Client, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("asana: OAuth token endpoint %q is not an absolute http(s) URL such as https://app.asana.com/-/oauth_token: check --asana.oauth.token-url", excerpt.Cut(tokenURL, 100))
	}
	if base == nil {
		base = defaultTransport()
	}
	return &http.Client{Transport: tokenBodies{base}, CheckRedirect: sameOrigin(u)}, nil
}

// SetCredentials replaces the client secret and the refresh token, as a
// reload does, and forgets the access token and any failure.
func (o *OAuth) SetCredentials(clientSecret, refreshToken string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clientSecret, o.refreshToken = clientSecret, refreshToken
	o.access, o.lastErr, o.retryAt, o.backoff = nil, nil, time.Time{}, 0
}

func (o *OAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := o.token(req.Context(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.base.RoundTrip(authorized(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.Body != nil && req.GetBody == nil {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes+1)) // +1: the client sees it is too long
	resp.Body.Close()
	if !bytes.Contains(body, []byte("bearer token has expired")) {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	// Our clock or Asana's ran ahead: renew once and retry once.
	if tok, err = o.token(req.Context(), tok); err != nil {
		return nil, err
	}
	return o.base.RoundTrip(authorized(req, tok))
}

// authorized is a copy of req with the access token: RoundTrippers must
// not change the caller's request.
func authorized(req *http.Request, tok *oauth2.Token) *http.Request {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		r.Body, _ = req.GetBody()
	}
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return r
}

// token returns an access token that is not about to expire, renewing it
// if needed, or if it is stale (a token Asana called expired).
func (o *OAuth) token(ctx context.Context, stale *oauth2.Token) (*oauth2.Token, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.access != nil && o.access != stale && time.Now().Before(o.renewAt) {
		return o.access, nil
	}
	if time.Now().Before(o.retryAt) {
		return nil, o.lastErr
	}
	// The renewal outlives a request that gives up: others wait for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.tokens)
	conf := &oauth2.Config{ClientID: o.clientID, ClientSecret: o.clientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: o.tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: o.refreshToken}).Token()
	if err != nil {
		o.lastErr = o.renewalError(err)
		o.backoff = min(max(2*o.backoff, minRenewBackoff), maxRenewBackoff)
		o.retryAt = time.Now().Add(o.backoff)
		return nil, o.lastErr
	}
	o.observer.TokenRefresh("success", tok.Expiry)
	o.access, o.lastErr, o.retryAt, o.backoff = tok, nil, time.Time{}, 0
	o.renewAt = tok.Expiry.Add(-min(renewEarly, time.Until(tok.Expiry)/5))
	if tok.RefreshToken != "" && tok.RefreshToken != o.refreshToken {
		o.refreshToken = tok.RefreshToken
		if o.changed != nil {
			o.changed(tok.RefreshToken)
		}
	}
	return tok, nil
}

// renewalError turns a failed renewal into an Error, from the token
// endpoint's error code only: its body is never copied, so that nothing it
// echoes reaches a log.
func (o *OAuth) renewalError(err error) error {
	var re *oauth2.RetrieveError
	isRetrieve, status := errors.As(err, &re), 0
	if isRetrieve && re.Response != nil {
		status = re.Response.StatusCode
	}
	if isRetrieve && re.ErrorCode == "invalid_grant" {
		o.observer.TokenRefresh("invalid_grant", time.Time{})
		return &Error{Kind: ErrUnauthorized, StatusCode: status, Endpoint: EndpointOAuthToken, Err: errors.New("invalid_grant"),
			Hint: "the refresh token was revoked or is wrong: run `asana_exporter oauth login` again, then reload"}
	}
	o.observer.TokenRefresh("error", time.Time{})
	var own *Error // tokenBodies'
	var redirect *redirectError
	var network *url.Error
	switch {
	case errors.As(err, &own):
		return own
	case errors.As(err, &redirect):
		return redirect.asError(EndpointOAuthToken)
	case isRetrieve && re.ErrorCode == "invalid_client":
		return &Error{Kind: ErrUnauthorized, StatusCode: status, Endpoint: EndpointOAuthToken, Err: errors.New("invalid_client"),
			Hint: "the client id or client secret is wrong: check --asana.oauth.client-id and the client secret file"}
	case isRetrieve:
		kind := ErrServer
		if status > 0 && status < 500 {
			kind = ErrUnexpectedStatus
		}
		return &Error{Kind: kind, StatusCode: status, Endpoint: EndpointOAuthToken, Err: fmt.Errorf("token endpoint error %q", excerpt.Cut(re.ErrorCode, 64))}
	case errors.As(err, &network):
		host := "the token endpoint"
		if u, err := url.Parse(network.URL); err == nil {
			host = u.Host
		}
		return unreachable(EndpointOAuthToken, host, "--asana.oauth.token-url (default: on the --asana.url host)", network.Err)
	}
	// oauth2's own verdict on a 2xx answer, such as "oauth2: cannot parse
	// json: <the decoder's error>", which may quote the answer: only the
	// verdict is kept.
	verdict, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "oauth2: "), ": ")
	return &Error{Kind: ErrMalformedResponse, Endpoint: EndpointOAuthToken, Err: errors.New("oauth2: " + excerpt.Cut(verdict, 80)), Hint: malformedTokenHint}
}

// String and GoString keep the credentials out of any %v or %#v.
func (o *OAuth) String() string   { return "asana.OAuth(<redacted>)" }
func (o *OAuth) GoString() string { return o.String() }

// malformedTokenHint is what to check when the token endpoint's answer is
// not a token.
const malformedTokenHint = "the answer is not the token JSON Asana sends: if this persists, check --asana.oauth.token-url and any proxy between the exporter and Asana"

// tokenBodies bounds the token endpoint's answers before oauth2 reads
// them, as every other body is bounded: oauth2 itself reads up to 1 MiB and
// drops the rest unsaid, and encoding/json nests up to 10,000 levels.
type tokenBodies struct{ base http.RoundTripper }

func (t tokenBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := checkBody(body, maxErrorBodyBytes); err != nil {
		return nil, &Error{Kind: ErrMalformedResponse, StatusCode: resp.StatusCode, Endpoint: EndpointOAuthToken, Err: err, Hint: malformedTokenHint}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
