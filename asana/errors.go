package asana

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/asana-exporter/asana_exporter/internal/excerpt"
)

// Kind classifies an API failure. Every Kind is an error, so callers can test
// with errors.Is(err, asana.ErrFullPermissionsRequired).
type Kind string

func (k Kind) Error() string { return "asana: " + string(k) }

const (
	ErrBadRequest              Kind = "bad request"
	ErrOffsetExpired           Kind = "pagination offset expired"
	ErrOffsetInvalid           Kind = "pagination offset invalid"
	ErrUnauthorized            Kind = "unauthorized"
	ErrPaymentRequired         Kind = "payment required"
	ErrForbidden               Kind = "forbidden"
	ErrFullPermissionsRequired Kind = "full permissions required"
	ErrNoRoute                 Kind = "no matching route"
	ErrNotFound                Kind = "not found"
	ErrRateLimited             Kind = "rate limited"
	ErrLegal                   Kind = "unavailable for legal reasons"
	ErrServer                  Kind = "server error"
	ErrMalformedResponse       Kind = "malformed response"
	ErrUnexpectedStatus        Kind = "unexpected status"
	ErrNetwork                 Kind = "network error"
	// ErrRedirected means the server redirected to another scheme, host or
	// port, where the credentials are never sent.
	ErrRedirected Kind = "redirected to another host"
	// ErrBudgetExhausted means the next request could not start before the
	// caller's deadline without breaking the requests-per-minute budget.
	ErrBudgetExhausted Kind = "the requests-per-minute budget leaves no room for another request before the deadline"
	// ErrOutcomeUnknown means a request that changes Asana (a POST) may
	// have reached it, and no answer says whether it acted: a 5xx, a
	// garbled 2xx, a connection lost or a deadline passed while waiting.
	// It is never retried, since a retry could act twice; the caller
	// re-reads what it meant to change.
	ErrOutcomeUnknown Kind = "outcome unknown"
)

// hintOutcomeUnknown is what to do after ErrOutcomeUnknown.
const hintOutcomeUnknown = "Asana may have acted all the same: re-read the member to learn whether Asana acted"

// Error is a failed API call. It carries the status code and Asana's own
// messages, plus a hint that tells the user what to change.
type Error struct {
	Kind       Kind
	StatusCode int    // 0 when no response arrived
	Endpoint   string // route template, e.g. EndpointWorkspaceMemberships
	Messages   []ErrorMessage
	RetryAfter time.Duration // from the Retry-After header of a 429/503
	Attempts   int           // requests made before giving up
	Hint       string
	Err        error // the underlying transport or decode error, if any
}

// ErrorMessage is one entry of Asana's {"errors":[…]} body.
type ErrorMessage struct {
	Message string `json:"message"`
	Help    string `json:"help,omitempty"`
	Phrase  string `json:"phrase,omitempty"` // 500s only; quote it to Asana support
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("asana: " + methodOf(e.Endpoint) + " ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	} else {
		b.WriteString(string(e.Kind))
	}
	for _, m := range e.Messages {
		fmt.Fprintf(&b, ": %q", m.Message)
		if m.Phrase != "" {
			fmt.Fprintf(&b, " (phrase %q)", m.Phrase)
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (gave up after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString(" - ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// methodOf is the HTTP method of the requests to endpoint.
func methodOf(endpoint string) string {
	switch endpoint {
	case EndpointOAuthToken, EndpointRemoveUser, EndpointAddUser:
		return http.MethodPost
	}
	return http.MethodGet
}

func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed if sent again.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case ErrRateLimited, ErrServer, ErrMalformedResponse, ErrNetwork:
		return true
	}
	return false
}

// Fatal reports whether the token, the URL or the plan must change before
// any request can succeed: waiting and retrying will not help.
func (e *Error) Fatal() bool {
	switch e.Kind {
	case ErrUnauthorized, ErrForbidden, ErrFullPermissionsRequired, ErrNoRoute, ErrPaymentRequired, ErrLegal, ErrBadRequest, ErrRedirected:
		return true
	}
	return false
}

// IsFatal reports whether err is an Error that is Fatal.
func IsFatal(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Fatal()
}

// unreachable is the error of a request to host that got no answer: err
// says why, and the hint names host and flag, the one that set it.
func unreachable(endpoint, host, flag string, err error) *Error {
	return &Error{Kind: ErrNetwork, Endpoint: endpoint, Err: err,
		Hint: "could not reach " + host + ": " + whyUnreachable(err) + "; check " + flag + " and the network on the way (DNS, proxy, firewall)"}
}

// whyUnreachable says in words what kept a request from its host.
func whyUnreachable(err error) string {
	var dns *net.DNSError
	var certificate *tls.CertificateVerificationError
	var notTLS tls.RecordHeaderError
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return "no such host name (DNS)"
	case errors.As(err, &dns):
		return "its name could not be looked up (DNS)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused: nothing listens there"
	case errors.As(err, &certificate):
		return "its TLS certificate is not trusted"
	// net/http words this one itself, without a type to test.
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "it answers in plain HTTP, not HTTPS: write its URL http://"
	case errors.As(err, &notTLS):
		return "it does not answer in TLS"
	case errors.As(err, &timeout) && timeout.Timeout():
		return "it did not answer in time"
	}
	return "the connection failed"
}

// maxMessageLen and maxMessages bound what we copy from a response body into
// an error, so a misbehaving proxy cannot flood the logs.
const (
	maxMessageLen = 300
	maxMessages   = 3
)

// apiError builds an Error from a non-2xx response.
func apiError(endpoint string, status int, header http.Header, body []byte) *Error {
	e := &Error{StatusCode: status, Endpoint: endpoint}
	var envelope struct {
		Errors []ErrorMessage `json:"errors"`
	}
	if err := checkBody(body, maxErrorBodyBytes); err != nil {
		e.Err = fmt.Errorf("error body not decoded: %w", err)
	} else if json.Unmarshal(body, &envelope) == nil {
		for _, m := range envelope.Errors[:min(len(envelope.Errors), maxMessages)] {
			m.Message = truncate(m.Message)
			m.Phrase = truncate(m.Phrase)
			m.Help = truncate(m.Help)
			e.Messages = append(e.Messages, m)
		}
	}
	e.Kind, e.Hint = classify(status, e.firstMessage())
	if hint := memberHint(endpoint, e.Kind); hint != "" {
		e.Hint = hint
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	return e
}

func (e *Error) firstMessage() string {
	if len(e.Messages) == 0 {
		return ""
	}
	return e.Messages[0].Message
}

// classify maps a status and Asana's message to a Kind and a hint for the
// user. The texts for 403 and 404 name the traps that real admins hit.
func classify(status int, msg string) (Kind, string) {
	switch {
	case status == http.StatusBadRequest && strings.Contains(msg, "pagination token has expired"):
		return ErrOffsetExpired, "the listing is restarted from the first page"
	case status == http.StatusBadRequest && strings.Contains(msg, "pagination token is invalid"):
		return ErrOffsetInvalid, "an offset kept from an earlier run is no longer accepted; the stream restarts from its last event"
	case status == http.StatusBadRequest:
		return ErrBadRequest, "the request was rejected as malformed; this is a bug in asana_exporter, please report it"
	case status == http.StatusUnauthorized:
		return ErrUnauthorized, "the token is invalid, expired or revoked, or an admin blocked API access for it: " +
			"create a new personal access token or service-account token and update the token file or ASANA_TOKEN"
	case status == http.StatusPaymentRequired:
		return ErrPaymentRequired, "this API needs a paid Asana plan for the workspace; check the workspace's subscription"
	case status == http.StatusForbidden && strings.Contains(msg, "Full permissions are required"):
		return ErrFullPermissionsRequired, "use a personal access token or a service-account token, or an OAuth app registered with " +
			"Full permissions: no granular OAuth scope covers workspace memberships"
	case status == http.StatusForbidden:
		return ErrForbidden, "the token's user cannot read this workspace; use a token of a workspace member or a service-account token"
	case status == http.StatusNotFound && strings.Contains(msg, "No matching route"):
		return ErrNoRoute, "the base URL or path is wrong: --asana.url must be the API root ending in /api/1.0 " +
			"(default https://app.asana.com/api/1.0), and memberships live at /workspaces/{gid}/workspace_memberships"
	case status == http.StatusNotFound:
		return ErrNotFound, "the workspace gid does not exist or the token's user cannot see it; check the gid in the config file"
	case status == http.StatusTooManyRequests, status == http.StatusFailedDependency:
		// The spec maps 424 to its TooManyRequests response, so treat it alike.
		return ErrRateLimited, "Asana's rate limit was hit: another program shares the token's budget; lower requests_per_minute in the config file or give the exporter a token of its own"
	case status == http.StatusUnavailableForLegalReasons:
		return ErrLegal, "Asana blocked the request for legal reasons, usually an embargoed IP address; run the exporter from another network"
	case status >= 500:
		return ErrServer, "Asana had a server problem; quote the phrase to Asana support if it persists"
	}
	return ErrUnexpectedStatus, ""
}

// memberHint replaces classify's hint, written for the listings, for the
// endpoints that read or change one member, where it would mislead; ""
// keeps it.
func memberHint(endpoint string, kind Kind) string {
	changes := endpoint == EndpointRemoveUser || endpoint == EndpointAddUser
	switch {
	case changes && kind == ErrForbidden:
		return "Asana refused the change: only an admin of the workspace may remove or add members, and no one may remove themselves; " +
			"use the token of an admin or of the organisation's service account"
	case changes && kind == ErrNotFound:
		return "the workspace or the user does not exist, or the token's user cannot see them: check the workspace gid and the user"
	case endpoint == EndpointWorkspaceMembership && kind == ErrNotFound:
		return "the membership does not exist, or the token's user cannot see it: check the membership gid"
	}
	return ""
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	// Beyond maxSeconds, time.Duration overflows to a negative wait.
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 && int64(secs) <= maxSeconds {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func truncate(s string) string { return excerpt.Cut(s, maxMessageLen) }
