package asana

import (
	"errors"
	"net/http"
	"strings"
)

// BearerToken returns a RoundTripper that authenticates every request with a
// personal access token or a service-account token. It is the seam for other
// auth schemes: an oauth2.Transport from golang.org/x/oauth2 can be passed to
// Options.Transport instead, and refreshes its token by itself.
//
// The token is validated here (not echoed) so that a token file with stray
// whitespace or control characters fails at startup with a clear message.
func BearerToken(token string, base http.RoundTripper) (http.RoundTripper, error) {
	if token == "" {
		return nil, errors.New("asana: token is empty")
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("asana: token contains whitespace or control characters; check the token file for extra lines or spaces")
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &bearerTransport{header: "Bearer " + token, base: base}, nil
}

type bearerTransport struct {
	header string
	base   http.RoundTripper
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// RoundTrippers must not modify the caller's request.
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", t.header)
	return t.base.RoundTrip(r)
}

// String and GoString keep the token out of any accidental %v or %#v.
func (t *bearerTransport) String() string   { return "asana.BearerToken(<redacted>)" }
func (t *bearerTransport) GoString() string { return t.String() }
