package asana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for what the client does with bytes from the network. Run one
// with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzDecodeClassifyPage$' -fuzztime=1m ./asana
//
// Plain go test runs the f.Add seeds and testdata/fuzz/<FuzzName>/*.

// fuzzPageSeeds are page bodies: real shapes, and the edge cases the
// decoder and classifier must survive.
func fuzzPageSeeds() [][]byte {
	return [][]byte{
		membershipPageJSON(false),
		membershipPageJSON(true),
		// The OpenAPI example shape, with a user asked for by opt_fields.
		[]byte(`{"data":[{"gid":"12345","resource_type":"workspace_membership","user":{"gid":"12345","resource_type":"user","name":"Greg Sanchez","email":"gsanchez@example.com"},"is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false}],"next_page":{"offset":"eyJ0eXAiOJiKV1iQLCJhbGciOiJIUzI1NiJ9","path":"/workspaces/1/workspace_memberships?limit=100&offset=eyJ0eXAiOJiKV1iQLCJhbGciOiJIUzI1NiJ9","uri":"https://app.asana.com/api/1.0/workspaces/1/workspace_memberships?limit=100&offset=eyJ0eXAiOJiKV1iQLCJhbGciOiJIUzI1NiJ9"}}`),
		[]byte(`{"data":[{"gid":"1","is_active":true,"is_admin":true,"is_guest":true,"is_view_only":true},{"gid":"2","is_active":false,"is_admin":true,"is_guest":false,"is_view_only":false}],"next_page":null}`),
		[]byte(`{"data":[]}`),
		[]byte(`{"data":null,"next_page":null}`),
		[]byte(`{}`),
		[]byte(`null`),
		[]byte(`[]`),
		[]byte(`{"data":[{}]}`),
		[]byte(`{"data":[{"gid":"1","is_active":true}],"next_page":{"offset":""}}`),
		[]byte(`{"data":[{"gid":1,"is_active":"yes","is_admin":true}],"next_page":{"offset":"x"}}`),
		[]byte(`{"data":[{"gid":"1","is_active":true,"user":null}],"DATA":[{"IS_ADMIN":true}]}`),
		[]byte(`{"data":[{"gid":"1","is_active":true,"is_admin":true,"user":{"gid":"u","name":"n"}}],"next_page":{"offset":"o"}`), // truncated
		// Escapes, case variants, nulls, duplicates, numbers and nesting in
		// unknown fields, trailing bytes.
		[]byte(` {"data" : [ {"gid":"1\u0032","is_active":true} ] , "next_page" : null } `),
		[]byte(`{"data":[{"Gid":"1","IS_ACTIVE":true,"resource_type":"workspace_membership"}],"Next_Page":{"Offset":"o"}}`),
		[]byte(`{"data":[{"gid":null,"is_active":null,"is_active":true,"is_admin":false,"is_admin":null}],"next_page":{"offset":null,"path":"/x?a=\"b\"\/c"}}`),
		[]byte(`{"data":[{"gid":"1","is_active":true}],"data":[{"gid":"2"}],"next_page":{"offset":"a"},"next_page":null}`),
		[]byte(`{"data":[{"gid":"1","x":[-0.5e+10,1E2,0,{"y":[true,false,null,{}]},[]],"is_guest":true,"is_active":true}],"z":"\ud83d\ude00"}`),
		[]byte(`{"data":[{"gid":"1","is_active":true}],"next_page":null}x`),
		[]byte(`{"data":[{"gid":"1","is_active":tru}]}`),
		[]byte(`{"data":[{"gid":"1","is_active":true,"n":01}]}`),
		[]byte(`{"data":[{"gid":"é","is_active":true}],"s":"\x"}`),
		[]byte(`{"data":[null,{"gid":"1","is_active":true}]}`),
		// Nesting just inside and just past maxJSONDepth.
		nested(maxJSONDepth-2, `{"data":[`, `true`, `]}`),
		nested(maxJSONDepth-1, `{"data":[`, `true`, `]}`),
	}
}

// nested is prefix, n '[', value, n ']', suffix.
func nested(n int, prefix, value, suffix string) []byte {
	return []byte(prefix + strings.Repeat("[", n) + value + strings.Repeat("]", n) + suffix)
}

// deepSeed is a body of a million '[' after {"data":, the one that
// overflowed the decoder's stack.
func deepSeed() []byte { return []byte(`{"data":` + strings.Repeat("[", 1_000_000)) }

// FuzzDecodeClassifyPage decodes body as one page of workspace memberships,
// as the client does, checks the result against encoding/json's, and
// classifies it. prev is what the reused page buffer
// held before: the previous page of the listing, or a failed attempt at the
// same page that the client retries. Whatever prev held, the page must read
// as body decoded into a fresh buffer.
func FuzzDecodeClassifyPage(f *testing.F) {
	seeds := fuzzPageSeeds()
	for _, body := range seeds {
		f.Add([]byte(nil), body)
		if len(body) < 1000 { // the 100-record page slows the fuzzer down as a pair
			f.Add(seeds[1], body)
			f.Add(seeds[2], body)
		}
	}
	// A 200 whose body does not fit the page (here gid is a number) is
	// retried; the retry here is the good body.
	f.Add([]byte(`{"data":[{"gid":1,"is_active":true,"is_admin":true}],"next_page":{"offset":"a"}}`),
		[]byte(`{"data":[{"gid":"1","is_active":true,"is_admin":true}],"next_page":{"offset":"a"}}`))
	f.Add(deepSeed(), seeds[1])
	f.Fuzz(func(t *testing.T, prev, body []byte) {
		var fresh listPage[Membership]
		freshErr := decode(body, &fresh)
		if freshErr == nil {
			checkSeatCounts(t, fresh.Data)
		}

		// The client's decoder stands in for encoding/json and must agree
		// with it on every input within the limits.
		var std listPage[Membership]
		if limitErr := checkBody(body, maxBodyBytes); limitErr != nil {
			if freshErr == nil || freshErr.Error() != limitErr.Error() {
				t.Fatalf("a body past the limits (%v) decoded with error %v", limitErr, freshErr)
			}
		} else if stdErr := json.Unmarshal(body, &std); (stdErr == nil) != (freshErr == nil) {
			t.Fatalf("decode: %v; encoding/json: %v", freshErr, stdErr)
		} else if stdErr == nil {
			if d := pageDiff(&fresh, &std); d != "" {
				t.Fatalf("decode differs from encoding/json: %s", d)
			}
		}

		// Across pages, the client resets the one page buffer and decodes
		// the next page into it.
		var page listPage[Membership]
		_ = decode(prev, &page)
		err := decode(body, &page)
		if (err == nil) != (freshErr == nil) {
			t.Fatalf("reused page buffer: err %v, fresh page: err %v", err, freshErr)
		}
		if err == nil {
			if d := pageDiff(&page, &fresh); d != "" {
				t.Fatalf("page decoded into a reused buffer differs from a fresh decode: %s", d)
			}
		}

		// Within a page, get retries a body that failed to decode into the
		// same buffer: the real client, with prev as the first response
		// and body as the retry.
		if decode(prev, new(listPage[Membership])) != nil {
			page.reset()
			err := getTwice(t, prev, body, &page)
			if (err == nil) != (freshErr == nil) {
				t.Fatalf("after a retry: err %v, fresh page: err %v", err, freshErr)
			}
			if err == nil {
				if d := pageDiff(&page, &fresh); d != "" {
					t.Fatalf("page decoded on a retry differs from a fresh decode: %s", d)
				}
			}
		}
	})
}

// getTwice runs Client.get against a transport that answers 200 with first,
// then 200 with second, allowing exactly one retry and no backoff.
func getTwice(t *testing.T, first, second []byte, out any) error {
	t.Helper()
	bodies := [][]byte{first, second}
	c, err := New(Options{
		Transport:      fuzzTransport(func(*http.Request) []byte { b := bodies[0]; bodies = bodies[1:]; return b }),
		MaxAttempts:    2,
		RetryBaseDelay: time.Nanosecond,
		RetryMaxDelay:  time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.get(context.Background(), EndpointWorkspaceMemberships, "/workspaces/1/workspace_memberships", listQuery(SeatFlags.optFields(), ""), out)
	if len(bodies) != 0 {
		t.Fatalf("a body that failed to decode was not retried")
	}
	return err
}

type fuzzTransport func(*http.Request) []byte

func (f fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(f(r))), Request: r}, nil
}

// checkSeatCounts classifies ms record by record against the rules in
// seats.go, and checks the invariants SeatCounts documents.
func checkSeatCounts(t *testing.T, ms []Membership) {
	t.Helper()
	var s SeatCounts
	s.AddPage(ms)
	var want SeatCounts
	for _, m := range ms {
		switch {
		case !m.IsActive:
			want.Inactive++
			continue
		case m.IsGuest:
			want.Guest++
		case m.IsViewOnly:
			want.ViewOnly++
		default:
			want.Licensed++
		}
		if m.IsAdmin {
			want.Admins++
		}
	}
	if s != want {
		t.Fatalf("SeatCounts %+v, want %+v", s, want)
	}
	if s.Total() != len(ms) || s.Licensed+s.ViewOnly+s.Guest+s.Inactive != len(ms) {
		t.Fatalf("SeatCounts %+v: total %d, %d records", s, s.Total(), len(ms))
	}
	if s.Licensed < 0 || s.ViewOnly < 0 || s.Guest < 0 || s.Inactive < 0 || s.Admins < 0 {
		t.Fatalf("negative count in %+v", s)
	}
	if s.Admins > s.Licensed+s.ViewOnly+s.Guest {
		t.Fatalf("%d admins but only %d active members", s.Admins, s.Licensed+s.ViewOnly+s.Guest)
	}
	// Counting is additive across pages.
	again := s
	again.AddPage(ms)
	if again != (SeatCounts{Licensed: 2 * s.Licensed, ViewOnly: 2 * s.ViewOnly, Guest: 2 * s.Guest, Inactive: 2 * s.Inactive, Admins: 2 * s.Admins}) {
		t.Fatalf("counting the page twice gave %+v, once %+v", again, s)
	}
}

// pageDiff compares two pages as walk sees them: an empty Data is empty
// whether nil or not.
func pageDiff(got, want *listPage[Membership]) string {
	if len(got.Data) != len(want.Data) {
		return fmt.Sprintf("%d records, want %d", len(got.Data), len(want.Data))
	}
	for i := range got.Data {
		if g, w := got.Data[i], want.Data[i]; g != w {
			return fmt.Sprintf("record %d: %+v, want %+v", i, g, w)
		}
	}
	if (got.NextPage == nil) != (want.NextPage == nil) || (got.NextPage != nil && *got.NextPage != *want.NextPage) {
		return fmt.Sprintf("next_page %+v, want %+v", got.NextPage, want.NextPage)
	}
	return ""
}

// fuzzToken is the bearer token in the request headers handed to apiError.
const fuzzToken = "1/1234567890:fuzzsecret"

var allKinds = []Kind{
	ErrBadRequest, ErrOffsetExpired, ErrUnauthorized, ErrPaymentRequired, ErrForbidden,
	ErrFullPermissionsRequired, ErrNoRoute, ErrNotFound, ErrRateLimited, ErrLegal,
	ErrServer, ErrMalformedResponse, ErrUnexpectedStatus, ErrNetwork, ErrRedirected, ErrOutcomeUnknown,
}

// fuzzErrorBody is the {"errors":[…]} body Asana sends.
func fuzzErrorBody(msg, phrase string) []byte {
	e := map[string]string{"message": msg, "help": "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}
	if phrase != "" {
		e["phrase"] = phrase
	}
	b, _ := json.Marshal(map[string][]map[string]string{"errors": {e}})
	return b
}

// FuzzAPIError builds an Error from a non-2xx response, as the client does.
func FuzzAPIError(f *testing.F) {
	for _, s := range []struct {
		status     int
		body       []byte
		retryAfter string
	}{
		{401, fuzzErrorBody("Not Authorized", ""), ""},
		{403, fuzzErrorBody("Full permissions are required to use this endpoint.", ""), ""},
		{403, fuzzErrorBody("You do not have access to this workspace.", ""), ""},
		{404, fuzzErrorBody("No matching route for request", ""), ""},
		{404, fuzzErrorBody("workspace: Unknown object: 1", ""), ""},
		{429, fuzzErrorBody("You've made too many requests and hit a rate limit. Please retry after the given amount of time.", ""), "30"},
		{429, []byte(`{"errors":[{"message":"rate limited"}]}`), "Wed, 21 Oct 2015 07:28:00 GMT"},
		{503, []byte(`<html>Service Unavailable</html>`), "120"},
		{500, fuzzErrorBody("Server Error", "6 sad squid snuggle softly"), ""},
		{400, fuzzErrorBody("offset: Your pagination token has expired.", ""), ""},
		{400, fuzzErrorBody("limit: Not a valid integer", ""), ""},
		{402, fuzzErrorBody("This feature is only available to premium organizations and workspaces.", ""), ""},
		{424, nil, "5"},
		{451, fuzzErrorBody("This request is blocked for legal reasons.", ""), ""},
		{302, nil, ""},
		{418, []byte(`{"errors":null}`), ""},
		{401, []byte(`{"errors":[{"message":"bad token ` + fuzzToken + `"}]}`), ""},
		{400, fuzzErrorBody("a"+strings.Repeat("é", 200), strings.Repeat("\x01", 400)), ""},
		{500, []byte(`{"errors":[{},{},{},{},{},{},{},{}]}`), ""},
		{429, nil, "99999999999"},
		{429, nil, "-1"},
		{429, []byte(`{"errors":` + strings.Repeat("[", 1_000_000)), "1"},
		{500, nested(maxJSONDepth-2, `{"errors":[`, `{"message":"deep"}`, `]}`), ""},
		{500, nested(maxJSONDepth-1, `{"errors":[`, `{"message":"deep"}`, `]}`), ""},
		{503, []byte(`{"errors":[{"message":"` + strings.Repeat("x", maxErrorBodyBytes) + `"}]}`), "1"},
	} {
		f.Add(s.status, s.body, s.retryAfter)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		status = 100 + int(uint(status)%500)
		header := http.Header{}
		header.Set("Authorization", "Bearer "+fuzzToken)
		header.Set("Retry-After", retryAfter)
		for _, endpoint := range fuzzEndpoints {
			checkAPIError(t, endpoint, status, header, body, retryAfter)
		}
	})
}

// fuzzEndpoints are the endpoints whose error bodies apiError reads.
var fuzzEndpoints = []string{EndpointWorkspaces, EndpointWorkspaceMemberships, EndpointAuditLogEvents,
	EndpointUser, EndpointWorkspaceMembership, EndpointRemoveUser, EndpointAddUser}

// checkAPIError checks the Error apiError builds for an answer to
// endpoint, and, for a change, what postOutcome makes of it.
func checkAPIError(t *testing.T, endpoint string, status int, header http.Header, body []byte, retryAfter string) {
	t.Helper()
	e := apiError(endpoint, status, header, body)
	if e == nil {
		t.Fatal("apiError returned nil")
	}
	if e.StatusCode != status || e.Endpoint != endpoint {
		t.Fatalf("status %d endpoint %q, want %d %q", e.StatusCode, e.Endpoint, status, endpoint)
	}
	var err error = e
	msg := err.Error()

	if !errors.Is(err, e.Kind) {
		t.Fatalf("errors.Is(err, %q) is false", e.Kind)
	}
	known := false
	for _, k := range allKinds {
		if k == e.Kind {
			known = true
		} else if errors.Is(err, k) {
			t.Fatalf("error of kind %q also matches %q", e.Kind, k)
		}
	}
	if !known {
		t.Fatalf("unknown kind %q", e.Kind)
	}
	if want := kindForStatus(status); want != "" && e.Kind != want {
		t.Fatalf("status %d: kind %q, want %q", status, e.Kind, want)
	}
	if (e.Hint == "") != (e.Kind == ErrUnexpectedStatus) {
		t.Fatalf("kind %q with hint %q", e.Kind, e.Hint)
	}
	k, h := classify(status, e.firstMessage())
	if member := memberHint(endpoint, k); member != "" {
		h = member
	}
	if k != e.Kind || h != e.Hint {
		t.Fatalf("classify disagrees with apiError: %q %q", k, h)
	}
	if e.Retryable() != (e.Kind == ErrRateLimited || e.Kind == ErrServer) {
		t.Fatalf("kind %q: Retryable() = %t", e.Kind, e.Retryable())
	}

	if e.RetryAfter < 0 {
		t.Fatalf("Retry-After %q: RetryAfter %v is negative", retryAfter, e.RetryAfter)
	}
	if e.RetryAfter != 0 && status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		t.Fatalf("status %d has RetryAfter %v", status, e.RetryAfter)
	}

	if !utf8.ValidString(msg) {
		t.Fatalf("Error() is not valid UTF-8: %q", msg)
	}
	if len(e.Messages) > maxMessages {
		t.Fatalf("%d messages kept, at most %d", len(e.Messages), maxMessages)
	}
	if limitErr := checkBody(body, maxErrorBodyBytes); (limitErr != nil) != (e.Err != nil) || limitErr != nil && len(e.Messages) != 0 {
		t.Fatalf("body past the limits: %v; error %v with %d messages", limitErr, e.Err, len(e.Messages))
	}
	for _, m := range e.Messages {
		for _, s := range []string{m.Message, m.Phrase, m.Help} {
			if len(s) > maxMessageLen+len("…") || !utf8.ValidString(s) {
				t.Fatalf("message field of %d bytes, valid UTF-8 %t: %q", len(s), utf8.ValidString(s), s)
			}
		}
	}
	// %q spends at most 4 bytes per byte (\x01), plus quotes and "…".
	quoted := 2 + 4*maxMessageLen + len("…")
	bound := len("asana: ") + len(methodOf(endpoint)) + 1 + len(endpoint) + len(": ") + len(strconv.Itoa(status)) + 1 + len(http.StatusText(status)) +
		maxMessages*(len(": ")+quoted+len(" (phrase ")+quoted+len(")")) + len(" - ") + len(e.Hint)
	if e.Err != nil {
		bound += len(": ") + len(e.Err.Error())
	}
	if len(msg) > bound {
		t.Fatalf("Error() is %d bytes, bound %d", len(msg), bound)
	}

	if strings.Contains(msg, fuzzToken) {
		echoed := false
		for _, m := range e.Messages {
			echoed = echoed || strings.Contains(m.Message, fuzzToken) || strings.Contains(m.Phrase, fuzzToken)
		}
		if !echoed {
			t.Fatalf("Error() leaks the Authorization header: %q", msg)
		}
	}

	if endpoint != EndpointRemoveUser && endpoint != EndpointAddUser {
		return
	}
	// A change is retried only after a refusal that Asana rate-limits;
	// any answer but a 4xx leaves its outcome unknown.
	var outcome *Error
	if !errors.As(postOutcome(endpoint, e, true), &outcome) {
		t.Fatal("postOutcome lost the *Error")
	}
	refused := status >= 400 && status <= 499
	switch {
	case refused && outcome != e:
		t.Fatalf("status %d: a refusal became %q", status, outcome.Kind)
	case !refused && outcome.Kind != ErrOutcomeUnknown:
		t.Fatalf("status %d: kind %q, want %q", status, outcome.Kind, ErrOutcomeUnknown)
	case outcome.Retryable() && outcome.Kind != ErrRateLimited:
		t.Fatalf("status %d: a change of kind %q would be retried", status, outcome.Kind)
	case !utf8.ValidString(outcome.Error()):
		t.Fatalf("Error() is not valid UTF-8: %q", outcome.Error())
	}
}

// kindForStatus is the Kind a status implies whatever the message says, or
// "" when the message decides.
func kindForStatus(status int) Kind {
	switch {
	case status == 400, status == 403, status == 404:
		return ""
	case status == 401:
		return ErrUnauthorized
	case status == 402:
		return ErrPaymentRequired
	case status == 424, status == 429:
		return ErrRateLimited
	case status == 451:
		return ErrLegal
	case status >= 500:
		return ErrServer
	}
	return ErrUnexpectedStatus
}

// FuzzParseRetryAfter parses a Retry-After value v at time now (nowSec,
// nowNsec). n drives two generated values: n seconds as delta-seconds and
// as an HTTP-date n seconds after now.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	for _, v := range []string{
		"", "0", "1", "30", "120", " 7 ", "+5", "-1", "-0", "1.5", "1e3", "0x10", "٣",
		"3600", "86400", "9223372036", "9223372037", "99999999999", "9223372036854775807", "9223372036854775808",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 01 Mar 2026 12:00:30 GMT", "Sunday, 01-Mar-26 12:00:30 GMT",
		"Sun Mar  1 12:00:30 2026", "Fri, 31 Dec 9999 23:59:59 GMT", "Sun, 01 Mar 2026 12:00:00 GMT", "soon",
	} {
		f.Add(v, now.Unix(), int64(now.Nanosecond()), int64(30))
	}
	f.Fuzz(func(t *testing.T, v string, nowSec, nowNsec, n int64) {
		// 1970 to 2200, so that now plus a billion seconds is a four-digit year.
		now := time.Unix(int64(uint64(nowSec)%7_258_118_400), int64(uint64(nowNsec)%1e9))

		d := parseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", v, d)
		}
		trimmed := strings.TrimSpace(v)
		secs, atoiErr := strconv.Atoi(trimmed)
		date, dateErr := http.ParseTime(v)
		switch {
		case atoiErr == nil && secs >= 0 && int64(secs) <= math.MaxInt64/int64(time.Second):
			if d != time.Duration(secs)*time.Second {
				t.Fatalf("parseRetryAfter(%q) = %v, want %ds", v, d, secs)
			}
		case atoiErr == nil || isDigits(trimmed):
			// A negative or overflowing delta: ignored, so not a wait.
			if d != 0 {
				t.Fatalf("parseRetryAfter(%q) = %v, want 0", v, d)
			}
		case dateErr == nil:
			want := max(0, date.Sub(now))
			if d != want {
				t.Fatalf("parseRetryAfter(%q) at %v = %v, want %v", v, now, d, want)
			}
		default:
			if d != 0 {
				t.Fatalf("parseRetryAfter(%q) = %v, want 0 for a value that is neither seconds nor a date", v, d)
			}
		}

		n = int64(uint64(n) % 1_000_000_000)
		if got := parseRetryAfter(strconv.FormatInt(n, 10), now); got != time.Duration(n)*time.Second {
			t.Fatalf("parseRetryAfter(%q) = %v, want %ds", strconv.FormatInt(n, 10), got, n)
		}
		at := now.Add(time.Duration(n) * time.Second)
		httpDate := at.UTC().Format(http.TimeFormat)
		want := max(0, at.Truncate(time.Second).Sub(now))
		if got := parseRetryAfter(httpDate, now); got != want {
			t.Fatalf("parseRetryAfter(%q) at %v = %v, want %v", httpDate, now, got, want)
		}
		past := now.Add(-time.Duration(n) * time.Second).UTC().Format(http.TimeFormat)
		if got := parseRetryAfter(past, now); got != 0 {
			t.Fatalf("parseRetryAfter(%q) at %v = %v, a date in the past", past, now, got)
		}
	})
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// TestRetryDecodesIntoACleanPage is the regression test for what
// FuzzDecodeClassifyPage found: a 200 whose body decoded in part before a
// type error left its records and next_page in the page buffer, and the
// retry decoded over them, so a field the good body leaves out kept the
// failed attempt's value.
func TestRetryDecodesIntoACleanPage(t *testing.T) {
	var queries []string
	bodies := []string{
		`{"next_page":{"offset":"stale"},"data":[{"gid":"1","is_active":true,"is_admin":true},{"gid":2}]}`,
		`{"data":[{"gid":"1","is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false}]}`,
		`{"data":[{"gid":"3","is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false}],"next_page":null}`,
	}
	c, err := New(Options{
		Transport: fuzzTransport(func(r *http.Request) []byte {
			queries = append(queries, r.URL.Query().Get("offset"))
			b := bodies[0]
			bodies = bodies[1:]
			return []byte(b)
		}),
		RetryBaseDelay: time.Nanosecond,
		RetryMaxDelay:  time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CountSeats(context.Background(), "1", CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (SeatListing{Seats: SeatCounts{Licensed: 1}, Pages: 1}); got != want {
		t.Errorf("CountSeats = %+v, want %+v (requests with offsets %q)", got, want, queries)
	}
}

// FuzzDecodeAuditPage decodes body as one page of the audit log, as the
// client does: it must agree with encoding/json, read every created_at as
// UTC, and read the same into a buffer that held prev.
func FuzzDecodeAuditPage(f *testing.F) {
	for _, body := range []string{
		`{"data":[{"gid":"1","created_at":"2021-10-21T23:38:10.364Z","event_type":"user_login_succeeded","resource":{"gid":"2","resource_type":"user"}}],"next_page":{"offset":"o"}}`,
		`{"data":[{"gid":"1","created_at":"2022-12-16 19:32:22.377","event_type":"user_workspace_admin_role_changed","details":{"new_value":"domain_admin","old_value":"member","group":{"gid":"1"}}}]}`,
		`{"data":[{"gid":"1","created_at":"2022-12-16T19:32:22+02:00","details":{"new_value":null}}],"next_page":null}`,
		`{"data":[{"created_at":null},{"created_at":"yesterday"}]}`,
		`{"data":[{"created_at":12}]}`,
		`{"data":[],"next_page":{"offset":"eyJ0eXAiOiJKV1QifQ"}}`,
		string(nested(maxJSONDepth-5, `{"data":[{"details":{"new_value":"x","group":`, `{}`, `}}]}`)), // 64 deep
		string(nested(maxJSONDepth-4, `{"data":[{"details":{"new_value":"x","group":`, `{}`, `}}]}`)), // 65 deep
	} {
		f.Add([]byte(nil), []byte(body))
	}
	f.Add([]byte(nil), deepSeed())
	f.Fuzz(func(t *testing.T, prev, body []byte) {
		var fresh listPage[AuditEvent]
		err := decode(body, &fresh)
		var std listPage[AuditEvent]
		if limitErr := checkBody(body, maxBodyBytes); limitErr != nil {
			if err == nil {
				t.Fatalf("a body past the limits (%v) decoded", limitErr)
			}
		} else if stdErr := json.Unmarshal(body, &std); (stdErr == nil) != (err == nil) {
			t.Fatalf("decode: %v; encoding/json: %v", err, stdErr)
		} else if err == nil && !reflect.DeepEqual(fresh, std) {
			t.Fatalf("decode differs from encoding/json:\n%+v\n%+v", fresh, std)
		}
		if err != nil {
			return
		}
		for _, e := range fresh.Data {
			if !e.CreatedAt.IsZero() && e.CreatedAt.Location() != time.UTC {
				t.Fatalf("created_at %v is not UTC", e.CreatedAt)
			}
		}
		var reused listPage[AuditEvent]
		_ = decode(prev, &reused)
		if err := decode(body, &reused); err != nil || !reflect.DeepEqual(reused.Data, fresh.Data) && len(fresh.Data) > 0 {
			t.Fatalf("a reused buffer reads differently: %v\n%+v\n%+v", err, reused, fresh)
		}
	})
}

// FuzzBodyLimits feeds every decoder (a page of memberships, of audit
// events and of workspaces, an error body, an OAuth token response) body
// wrapped in nest pairs of brackets and followed by pad spaces; pad
// math.MaxUint32 stands for a body one byte past maxBodyBytes. Whatever
// the body, nothing crashes; checkBody refuses exactly the bodies past a
// limit, counting depth as encoding/json's tokenizer does; every decoder
// fails such a body with the limit's error; and a decode error holds a
// field path, a JSON type and a syntax reason, never a value.
func FuzzBodyLimits(f *testing.F) {
	f.Add(deepSeed(), uint16(0), uint32(0))
	// Small seeds keep the minimizer quick; the other targets hold full pages.
	f.Add([]byte(`{"data":[{"gid":"1","is_active":true,"user":{"gid":"2","email":"a@b.c"}}],"next_page":{"offset":"o"}}`), uint16(0), uint32(0))
	f.Add([]byte(`{"data":[{"gid":"1","created_at":"2021-10-21T23:38:10.364Z","details":{"new_value":null}}]}`), uint16(0), uint32(0))
	f.Add([]byte(`{"access_token":"at","token_type":"bearer","expires_in":3600}`), uint16(0), uint32(0))
	f.Add([]byte(`{"errors":[{"message":"Not Authorized"}]}`), uint16(0), uint32(maxErrorBodyBytes))
	f.Add([]byte(`{"data":[{"gid":"1","is_active":"grace@example.com"}]}`), uint16(0), uint32(0))
	f.Add([]byte(`"\\\"[[[\\\\"`), uint16(maxJSONDepth), uint32(0))
	f.Add([]byte(`true`), uint16(maxJSONDepth+1), uint32(0))
	f.Add([]byte(`{"data":[]}`), uint16(0), uint32(math.MaxUint32))
	fieldNames := jsonFieldNames(reflect.TypeFor[listPage[Membership]](), reflect.TypeFor[listPage[AuditEvent]](), reflect.TypeFor[listPage[Workspace]]())
	f.Fuzz(func(t *testing.T, body []byte, nest uint16, pad uint32) {
		var b bytes.Buffer
		b.WriteString(strings.Repeat("[", int(nest)))
		b.Write(body)
		b.WriteString(strings.Repeat("]", int(nest)))
		if pad == math.MaxUint32 {
			b.WriteString(strings.Repeat(" ", max(0, maxBodyBytes+1-b.Len())))
		} else {
			b.WriteString(strings.Repeat(" ", int(pad%(2*maxErrorBodyBytes))))
		}
		in := b.Bytes()

		limitErr := checkBody(in, maxBodyBytes)
		if limitErr == nil && int(nest) > maxJSONDepth {
			t.Fatalf("%d brackets deep, accepted", nest)
		}
		if len(in) <= maxBodyBytes {
			if depth, ok := tokenDepth(in); ok && (limitErr != nil) != (depth > maxJSONDepth) {
				t.Fatalf("%d levels deep: checkBody says %v", depth, limitErr)
			}
		}
		for _, out := range []any{new(listPage[Membership]), new(listPage[AuditEvent]), new(listPage[Workspace])} {
			checkDecodeOutcome(t, limitErr, decode(in, out), out, fieldNames)
		}

		errorLimit := checkBody(in, maxErrorBodyBytes)
		if e := apiError(EndpointWorkspaces, http.StatusInternalServerError, http.Header{}, in); (errorLimit != nil) != (e.Err != nil) ||
			errorLimit != nil && (len(e.Messages) != 0 || !strings.Contains(e.Error(), errorLimit.Error())) {
			t.Fatalf("error body past the limits (%v): %v with %d messages", errorLimit, e, len(e.Messages))
		}
		o, err := NewOAuth(OAuthOptions{ClientID: "1", ClientSecret: "s", RefreshToken: "r", TokenURL: "https://app.asana.com/-/oauth_token",
			Base: fuzzTransport(func(*http.Request) []byte { return in })})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.token(context.Background(), nil); errorLimit != nil && (!errors.Is(err, ErrMalformedResponse) || !strings.Contains(err.Error(), errorLimit.Error())) {
			t.Fatalf("token response past the limits (%v): %v", errorLimit, err)
		}
	})
}

// tokenDepth is how deeply valid JSON nests, by encoding/json's tokenizer,
// which keeps its own stack rather than recursing.
func tokenDepth(b []byte) (int, bool) {
	if !json.Valid(b) {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return deepest, true
		}
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// decodeErrorShapes are the forms decodeError writes.
var decodeErrorShapes = []*regexp.Regexp{
	regexp.MustCompile(`^(the body|[^: ]+): cannot decode a JSON (string|number|array|object|bool|null|value) into [^ ]+$`),
	regexp.MustCompile(`^not valid JSON: ([^:]|:[^ ]){1,80}$`), // "invalid character ':'" is one
	regexp.MustCompile(`^a value did not decode \([^ ]+\)$`),
}

// checkDecodeOutcome fails unless decode's err into out is limitErr for a
// body past the limits, or none or one checkDecodeError accepts for any
// other.
func checkDecodeOutcome(t *testing.T, limitErr, err error, out any, fieldNames []string) {
	t.Helper()
	switch {
	case limitErr != nil && (err == nil || err.Error() != limitErr.Error()):
		t.Fatalf("a body past the limits (%v) decoded into %T with error %v", limitErr, out, err)
	case limitErr == nil && err != nil:
		checkDecodeError(t, err, fieldNames)
	}
}

// checkDecodeError fails unless err has one of decodeErrorShapes and its
// field path is made of indices and the decoded types' field names.
func checkDecodeError(t *testing.T, err error, fieldNames []string) {
	t.Helper()
	msg := err.Error()
	shape := -1
	for i, re := range decodeErrorShapes {
		if re.MatchString(msg) {
			shape = i
		}
	}
	if shape < 0 {
		t.Fatalf("decode error of no known shape: %q", msg)
	}
	if path, _, _ := strings.Cut(msg, ": "); shape == 0 && path != "the body" {
		for elem := range strings.SplitSeq(path, ".") {
			if _, err := strconv.Atoi(elem); err != nil && !slices.ContainsFunc(fieldNames, func(n string) bool { return strings.EqualFold(n, elem) }) {
				t.Fatalf("decode error %q: path element %q is neither an index nor a field name", msg, elem)
			}
		}
	}
}

// jsonFieldNames are the JSON names of the fields of types, and of the
// structs they hold.
func jsonFieldNames(types ...reflect.Type) []string {
	var names []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for f := range t.Fields() {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
				names = append(names, name)
			}
			walk(f.Type)
		}
	}
	for _, t := range types {
		walk(t)
	}
	return names
}

// TestCheckBody pins checkBody's limits: depth counts brackets outside
// strings only, escapes included, and the size limit is inclusive.
func TestCheckBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  []byte
		limit int
		want  string // "" when accepted
	}{
		{"64 deep", nested(maxJSONDepth, "", "1", ""), maxBodyBytes, ""},
		{"65 deep", nested(maxJSONDepth+1, "", "1", ""), maxBodyBytes, "JSON nested deeper than 64 levels"},
		{"65 deep in objects", []byte(strings.Repeat(`{"a":`, maxJSONDepth+1)), maxBodyBytes, "JSON nested deeper than 64 levels"},
		{"brackets in a string", []byte(`{"a":"` + strings.Repeat("[", 1000) + `"}`), maxBodyBytes, ""},
		{"an escaped quote keeps the string open", []byte(`{"a":"\"` + strings.Repeat("[", 1000) + `"}`), maxBodyBytes, ""},
		{"an escaped backslash closes it", []byte(`{"a":"\\"` + strings.Repeat("[", 1000)), maxBodyBytes, "JSON nested deeper than 64 levels"},
		// The decoder stops at the first stray closer, before any depth.
		{"stray closers", []byte(strings.Repeat("]", 100) + strings.Repeat("[", 100)), maxBodyBytes, ""},
		{"an unterminated string", []byte(`["` + strings.Repeat("[", 1000)), maxBodyBytes, ""},
		{"at the size limit", []byte(`"abc"`), 5, ""},
		{"past the size limit", []byte(`"abcd"`), 5, "body larger than 5 bytes"},
	} {
		err := checkBody(tc.body, tc.limit)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("%s: checkBody = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeSingleRecord decodes body as the answer of each endpoint that
// returns one record (GET /users/me, GET /workspace_memberships/{gid},
// removeUser, addUser) and checks it, as the client does. Whatever the
// body, nothing crashes; an answer that passes its check has every field
// the caller relies on; and no error quotes a value of the body.
func FuzzDecodeSingleRecord(f *testing.F) {
	const member = `"gid":"1200000000000001","is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false`
	for _, body := range []string{
		`{"data":{}}`,
		`{"data":null}`,
		`{}`,
		`{"data":{"gid":"1100000000000001","name":"Grace","email":"grace@example.com"}}`,
		`{"data":{"name":"Grace","email":"grace@example.com"}}`,
		`{"data":{"gid":7}}`,
		`{"data":[{"gid":"1"}]}`,
		`{"data":{` + member + `,"workspace":{"gid":"1"},"user":{"gid":"9","email":"grace@example.com"}}}`,
		`{"data":{` + member + `,"user":{"gid":"9"}}}`,
		`{"data":{"gid":"1200000000000001","is_active":"grace@example.com","workspace":{"gid":"1"}}}`,
		`{"data":{` + member + `,"workspace":{"gid":"1"},"created_at":"grace@example.com"}}`,
	} {
		f.Add([]byte(body))
	}
	f.Add(deepSeed())
	names := jsonFieldNames(reflect.TypeFor[userAnswer](), reflect.TypeFor[emptyAnswer](), reflect.TypeFor[membershipAnswer]())
	f.Fuzz(func(t *testing.T, body []byte) {
		limitErr := checkBody(body, maxBodyBytes)
		for _, a := range []checked{&userAnswer{}, &emptyAnswer{}, &membershipAnswer{gid: "1200000000000001", user: true}} {
			if err := decode(body, a); err != nil {
				checkDecodeOutcome(t, limitErr, err, a, names)
				continue
			}
			if limitErr != nil {
				t.Fatalf("a body past the limits (%v) decoded into %T", limitErr, a)
			}
			if err := a.check(); err != nil {
				if msg := err.Error(); strings.Contains(msg, "@") || !utf8.ValidString(msg) {
					t.Fatalf("%T: the error quotes the body: %q", a, msg)
				}
				continue
			}
			switch a := a.(type) {
			case *userAnswer:
				if a.Data == nil || a.Data.GID == "" {
					t.Fatalf("a user without a gid passed: %+v", a.Data)
				}
			case *emptyAnswer:
				if a.Data == nil {
					t.Fatal("a removal without data passed")
				}
			case *membershipAnswer:
				if a.membership.GID != a.gid || a.Data.Workspace.GID == "" || a.membership.User.GID == "" {
					t.Fatalf("an incomplete membership passed: %+v in %q", a.membership, a.Data.Workspace.GID)
				}
			}
		}
	})
}
