package asana

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// BearerToken returns a RoundTripper that authenticates every request with a
// personal access token or a service-account token. It is the seam for other
// auth schemes: an oauth2.Transport from golang.org/x/oauth2 can be passed to
// Options.Transport instead, and refreshes its token by itself.
//
// The token is validated here (not echoed) so that a token file with stray
// whitespace or control characters fails at startup with a clear message.
//
// A nil base is net/http's default transport with room to keep a connection
// per request in flight (see idleConnsPerHost).
func BearerToken(token string, base http.RoundTripper) (*Bearer, error) {
	if base == nil {
		base = defaultTransport()
	}
	t := &Bearer{base: base}
	if err := t.SetToken(token); err != nil {
		return nil, err
	}
	return t, nil
}

// idleConnsPerHost is Asana's limit of 50 concurrent reads per token, more
// than the client ever has in flight. net/http keeps only 2 idle connections
// per host by default, so concurrent listings over HTTP/1.1 would close and
// reopen connections between pages, a TCP and TLS handshake each time.
const idleConnsPerHost = 50

// defaultTransport is net/http's default transport, keeping
// idleConnsPerHost idle connections.
func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerHost
	return t
}

// Bearer is the RoundTripper BearerToken returns.
type Bearer struct {
	header atomic.Pointer[string]
	base   http.RoundTripper
}

// SetToken replaces the token for the requests that follow, as when a
// rotated token file is reloaded. An invalid token is refused and the old
// one kept.
func (t *Bearer) SetToken(token string) error {
	if err := ValidToken(token); err != nil {
		return err
	}
	header := "Bearer " + token
	t.header.Store(&header)
	return nil
}

// ValidToken reports why token cannot be sent as a bearer token, if it
// cannot. It never echoes the token.
func ValidToken(token string) error {
	if token == "" {
		return errors.New("asana: token is empty")
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("asana: token contains whitespace or control characters; check the token file for extra lines or spaces")
	}
	return nil
}

func (t *Bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	// RoundTrippers must not modify the caller's request.
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", *t.header.Load())
	return t.base.RoundTrip(r)
}

// String and GoString keep the token out of any accidental %v or %#v.
func (t *Bearer) String() string   { return "asana.BearerToken(<redacted>)" }
func (t *Bearer) GoString() string { return t.String() }

// maxRedirects is net/http's own limit on a chain of redirects, kept for
// the same-origin redirects that are followed.
const maxRedirects = 10

// sameOrigin is the CheckRedirect of every request that carries
// credentials: the API's and the OAuth token endpoint's. It follows a
// redirect only to origin's scheme, host and port. The transport adds the
// credentials to every request it sends, a redirected one too, so a
// redirect elsewhere would hand them to another server (in clear text, if
// to http), and that server's answer would be taken for Asana's.
// Same-origin redirects are followed: they reach the server the
// credentials are meant for, as the first request did.
func sameOrigin(origin *url.URL) func(*http.Request, []*http.Request) error {
	want := originKey(origin)
	return func(req *http.Request, via []*http.Request) error {
		if originKey(req.URL) != want {
			return &redirectError{status: req.Response.StatusCode, from: originName(origin), to: originName(req.URL)}
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// originKey is u's scheme, host and port, the port made explicit.
func originKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// originName is u's scheme and host as an error shows them: never the
// path or the query, which may carry an offset or a secret.
func originName(u *url.URL) string { return truncate(u.Scheme + "://" + u.Host) }

// redirectError is a redirect that sameOrigin refused.
type redirectError struct {
	status   int
	from, to string
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirect from %s to %s refused", e.from, e.to)
}

// asError is the Error a request to endpoint fails with.
func (e *redirectError) asError(endpoint string) *Error {
	what, flag := "the token is", "--asana.url"
	if endpoint == EndpointOAuthToken {
		what, flag = "the client secret and refresh token are", "--asana.oauth.token-url (by default /-/oauth_token on the --asana.url host)"
	}
	return &Error{Kind: ErrRedirected, StatusCode: e.status, Endpoint: endpoint,
		Err:  fmt.Errorf("%w; %s only sent to %s", e, what, e.from),
		Hint: "check " + flag + ", and that no proxy on the way redirects elsewhere"}
}
