package asanatest

import (
	"context"
	"net/http"
	"time"
)

// Fault makes matching requests misbehave. A request matches when Route is
// empty or equal to its route template (asana.Endpoint*), and Page is 0 or
// equal to the 1-based page it asks for. A Fault fires Times times, or for
// every match when Times is 0. The first matching fault wins.
type Fault struct {
	Route string
	Page  int
	Times int

	// Status answers with this code and Asana's error body for it.
	Status     int
	Message    string // error message; the usual one for Status when empty
	RetryAfter string // Retry-After header value, e.g. "2"

	Latency  time.Duration // wait before answering
	SlowBody time.Duration // spread the body's bytes over this long
	Drop     bool          // close the connection without answering
	// Truncate sends a 200 whose body stops halfway, with the full
	// Content-Length declared, so the client sees an unexpected EOF.
	Truncate bool
	// Malformed sends a 200 whose body is not valid JSON.
	Malformed bool
	// WrongTypes sends a 200 whose JSON is valid but whose fields have the
	// wrong types ("is_active": "yes").
	WrongTypes bool
	// Revoke revokes the request's token, as an admin would mid-cycle, and
	// answers 401; every later request with it gets 401 too, until
	// GrantToken.
	Revoke bool
	// Delete deletes the requested workspace from the organisation, as if
	// it were deleted mid-cycle, and answers 404 as Asana then does.
	Delete bool
	// Reset sends the real answer's headers and half its body, then resets
	// the TCP connection (RST), as a proxy or load balancer dying mid-body
	// would.
	Reset bool
	// ExpireOffset answers 400 "offset: Your pagination token has expired."
	// (only for requests that carry an offset).
	ExpireOffset bool
	// Late acts the fault out after the route has served the request, so
	// that a removeUser or addUser has made its change before it answers
	// Status, drops the connection, sends a garbled body or waits
	// Latency: failures after which a client cannot know that Asana
	// acted. Without Late, a fault that answers does so in the route's
	// stead, and nothing changes; Latency, SlowBody and Reset alone delay
	// or cut the route's own answer, so the change is made either way.
	Late bool

	hits int
}

// Inject adds a fault. Faults are checked in the order they were added.
func (a *API) Inject(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = append(a.faults, &f)
}

// GrantToken makes token valid with the given kind, as after a revocation
// is undone or a new token is created.
func (a *API) GrantToken(token string, kind TokenKind) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.tokens[token]; u != nil {
		u.kind, u.revoked = kind, false
		return
	}
	a.tokens[token] = &tokenUse{kind: kind, scope: a.cfg.Scopes[token]}
}

// RevokeToken revokes token, as an admin would in the Admin Console: every
// later request with it is answered 401 until GrantToken or RestoreTokens.
func (a *API) RevokeToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.tokens[token]; u != nil {
		u.revoked = true
	}
}

// RestoreTokens undoes every revocation (Fault.Revoke), of tokens and
// OAuth access tokens alike.
func (a *API) RestoreTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.tokens {
		u.revoked = false
	}
}

// ClearFaults removes every fault.
func (a *API) ClearFaults() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = nil
}

// matchFault returns a copy of the first fault for this request and counts
// the hit; the caller holds a.mu.
func (a *API) matchFault(route string, page int, hasOffset bool) (Fault, bool) {
	for _, f := range a.faults {
		if f.Route != "" && f.Route != route || f.Page != 0 && f.Page != page ||
			f.Times > 0 && f.hits >= f.Times || f.ExpireOffset && !hasOffset {
			continue
		}
		f.hits++
		return *f, true
	}
	return Fault{}, false
}

// writeSlowly spreads body over d in ten chunks, and stops when the client
// goes away.
func writeSlowly(ctx context.Context, w http.ResponseWriter, body []byte, d time.Duration) {
	const chunks = 10
	step := max(1, (len(body)+chunks-1)/chunks)
	for i := 0; i < len(body); i += step {
		if _, err := w.Write(body[i:min(i+step, len(body))]); err != nil {
			return
		}
		http.NewResponseController(w).Flush()
		select {
		case <-time.After(d / chunks):
		case <-ctx.Done():
			return
		}
	}
}
