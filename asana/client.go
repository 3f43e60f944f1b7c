package asana

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Client. Only Transport is required.
type Options struct {
	// BaseURL is the API root, DefaultBaseURL unless set.
	BaseURL string
	// Transport authenticates every request: BearerToken for a personal
	// access token or service-account token, or an oauth2.Transport.
	Transport http.RoundTripper
	// UserAgent names the program and its version.
	UserAgent string

	// RequestsPerMinute is the client-side budget for this token. Asana
	// allows 1500 on paid plans and 150 on free ones. Default 1500.
	RequestsPerMinute int
	// MaxConcurrent caps requests in flight, well below Asana's 50
	// concurrent reads per token. Default 10.
	MaxConcurrent int

	// MaxAttempts bounds tries per request, the first included. Default 5.
	MaxAttempts int
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff for
	// 5xx, network errors and a 429 without Retry-After. Defaults 1s, 30s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxListingRestarts bounds how often a listing starts over after its
	// offset expired. Default 3.
	MaxListingRestarts int
	// RequestTimeout bounds one HTTP request, body included. Default 60s.
	RequestTimeout time.Duration

	Observer Observer
	Logger   *slog.Logger
}

// Client talks to Asana. It is safe for concurrent use; make one per token,
// since the rate budget is per token.
type Client struct {
	base     *url.URL
	http     *http.Client
	limiter  *rate.Limiter
	budget   atomic.Int64 // requests per minute, what limiter enforces
	inflight chan struct{}
	opts     Options // with defaults filled in
}

// New validates opts and returns a Client.
func New(opts Options) (*Client, error) {
	if opts.Transport == nil {
		return nil, errors.New("asana: no Transport: use asana.BearerToken(token, nil)")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("asana: base URL %q is not an absolute http(s) URL such as %s", opts.BaseURL, DefaultBaseURL)
	}
	if base.User != nil {
		return nil, errors.New("asana: base URL must not carry credentials; put the token in the token file")
	}
	setDefault(&opts.RequestsPerMinute, 1500)
	setDefault(&opts.MaxConcurrent, 10)
	setDefault(&opts.MaxAttempts, 5)
	setDefault(&opts.RetryBaseDelay, time.Second)
	setDefault(&opts.RetryMaxDelay, 30*time.Second)
	setDefault(&opts.MaxListingRestarts, 3)
	setDefault(&opts.RequestTimeout, 60*time.Second)
	if opts.UserAgent == "" {
		opts.UserAgent = "asana_exporter"
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		base:     base,
		http:     &http.Client{Transport: opts.Transport, Timeout: opts.RequestTimeout, CheckRedirect: sameOrigin(base)},
		limiter:  rate.NewLimiter(minuteBudget(opts.RequestsPerMinute)),
		inflight: make(chan struct{}, opts.MaxConcurrent),
		opts:     opts,
	}
	c.budget.Store(int64(opts.RequestsPerMinute))
	return c, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// minuteBudget returns a token bucket that never lets more than perMinute
// requests through in any 60-second window: a bucket with burst b and rate r
// admits at most b + 60r in a minute, so r is (perMinute - b) / 60.
func minuteBudget(perMinute int) (rate.Limit, int) {
	burst := max(1, min(10, perMinute/10))
	return rate.Limit(float64(perMinute-burst) / 60), burst
}

// MinDuration is the least time n requests can take within a budget of
// perMinute requests a minute: the burst goes at once, the rest at the
// bucket's refill rate. No cycle of n requests can finish sooner.
func MinDuration(n, perMinute int) time.Duration {
	limit, burst := minuteBudget(perMinute)
	if n <= burst {
		return 0
	}
	return time.Duration(float64(n-burst) / float64(limit) * float64(time.Second))
}

// SetRequestsPerMinute changes the client's budget, for a config reload.
func (c *Client) SetRequestsPerMinute(perMinute int) {
	limit, burst := minuteBudget(perMinute)
	c.limiter.SetBurst(burst)
	c.limiter.SetLimit(limit)
	c.budget.Store(int64(perMinute))
}

// RequestsPerMinute is the client's budget for its token.
func (c *Client) RequestsPerMinute() int { return int(c.budget.Load()) }

// MinDuration is the least time n requests can take within the client's
// budget.
func (c *Client) MinDuration(n int) time.Duration { return MinDuration(n, c.RequestsPerMinute()) }

// BaseURL returns the API root this client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// bodyBuffers reuse response buffers: a listing reads pages of the same
// size one after another, and io.ReadAll would grow a new one each time.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBodyBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // an outsized body is not worth keeping
		return
	}
	b.Reset()
	bodyBuffers.Put(b)
}

// get sends GET base+path?query, retrying what can be retried, and decodes
// the 2xx body into out. endpoint is the route template used for metrics.
func (c *Client) get(ctx context.Context, endpoint, path string, query url.Values, out any) error {
	return c.send(ctx, request{method: http.MethodGet, endpoint: endpoint, url: c.url(path, query)}, out)
}

// post sends POST base+path?query with a JSON body and decodes the 2xx
// body into out. It retries only what Asana certainly did not act on (see
// postOutcome): a POST changes Asana, and a retry could act twice.
func (c *Client) post(ctx context.Context, endpoint, path string, query url.Values, body []byte, out any) error {
	return c.send(ctx, request{method: http.MethodPost, endpoint: endpoint, url: c.url(path, query), body: body}, out)
}

func (c *Client) url(path string, query url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	return u.String()
}

// request is one API call, sent once per attempt.
type request struct {
	method   string
	endpoint string // the route template, for metrics, logs and errors
	url      string
	body     []byte // a POST's JSON
}

// send makes the request, retrying what can be retried, and decodes the
// 2xx body into out.
func (c *Client) send(ctx context.Context, r request, out any) error {
	for attempt := 1; ; attempt++ {
		err := c.try(ctx, r, out)
		if err == nil {
			return checkAnswer(r, out)
		}
		var apiErr *Error
		if !errors.As(err, &apiErr) || !apiErr.Retryable() {
			return err
		}
		if attempt >= c.opts.MaxAttempts {
			apiErr.Attempts = attempt
			return apiErr
		}
		if !retryAfterFits(ctx, apiErr) {
			apiErr.Attempts = attempt
			return apiErr
		}
		wait := c.retryDelay(apiErr, attempt)
		if deadline, ok := plannedEnd(ctx); ok && time.Until(deadline) < wait {
			apiErr.Attempts = attempt
			return fmt.Errorf("%w (no time left to retry before the deadline)", apiErr)
		}
		c.observer(ctx).Retry(r.endpoint)
		c.opts.Logger.Debug("Retrying Asana request", "endpoint", r.endpoint, "attempt", attempt, "wait", wait, "err", apiErr)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("asana: %s %s: %w (while waiting to retry after: %v)", r.method, r.endpoint, err, apiErr)
		}
	}
}

// try makes exactly one request. A POST's failure comes back as
// postOutcome says.
func (c *Client) try(ctx context.Context, r request, out any) error {
	// The slot first, then the rate token: a token is spent only by a
	// request that leaves at once. Taken the other way round, requests
	// queued for a slot would hold tokens and leave together, a burst
	// beyond the budget, when slots free up.
	select {
	case c.inflight <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("asana: %s %s: %w", r.method, r.endpoint, ctx.Err())
	}
	defer func() { <-c.inflight }()
	if fits, err := c.waitBudget(ctx); !fits {
		return &Error{Kind: ErrBudgetExhausted, Endpoint: r.endpoint, Hint: "the work needs more requests than the deadline allows at " +
			strconv.Itoa(c.RequestsPerMinute()) + " requests a minute; raise --asana.refresh-interval"}
	} else if err != nil {
		return fmt.Errorf("asana: %s %s: waiting for the request budget: %w", r.method, r.endpoint, err)
	}
	if r.method == http.MethodGet {
		return c.exchange(ctx, r, out)
	}
	// Once a connection is had for the request, its bytes may reach Asana.
	var connected atomic.Bool
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
	err := c.exchange(traced, r, out)
	return postOutcome(r.endpoint, err, connected.Load())
}

// exchange sends the request and reads its answer.
func (c *Client) exchange(ctx context.Context, r request, out any) error {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body) // NewRequest sets GetBody, for a redirect or an OAuth renewal to send it again
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return fmt.Errorf("asana: %s %s: %w", r.method, r.endpoint, err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	endpoint := r.endpoint

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		status := 0
		if resp != nil { // a redirect that CheckRedirect refused
			status = resp.StatusCode
		}
		c.observer(ctx).Request(endpoint, status, time.Since(start))
		var authErr *Error // the transport's own, such as a failed OAuth renewal
		var redirect *redirectError
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("asana: %s %s: %w", r.method, endpoint, ctx.Err())
		case errors.As(err, &authErr):
			return authErr
		case errors.As(err, &redirect):
			return redirect.asError(endpoint)
		}
		return unreachable(endpoint, req.URL.Host, "--asana.url", StripURL(err))
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	limit := maxBodyBytes
	if !ok {
		limit = maxErrorBodyBytes
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	_, readErr := buf.ReadFrom(io.LimitReader(resp.Body, int64(limit)+1))
	resp.Body.Close()
	respBody := buf.Bytes() // decode and apiError copy what they keep
	c.observer(ctx).Request(endpoint, resp.StatusCode, time.Since(start))

	if !ok {
		apiErr := apiError(endpoint, resp.StatusCode, resp.Header, respBody)
		if apiErr.Kind == ErrRateLimited {
			c.observer(ctx).RateLimited(endpoint)
		}
		return apiErr
	}
	if readErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("asana: %s %s: %w", r.method, endpoint, ctx.Err())
		}
		return &Error{Kind: ErrNetwork, StatusCode: resp.StatusCode, Endpoint: endpoint, Err: fmt.Errorf("reading body: %w", StripURL(readErr))}
	}
	if err := decode(respBody, out); err != nil {
		// A truncated or garbled 200 is usually a proxy or connection
		// fault, so it is retried like one.
		return &Error{Kind: ErrMalformedResponse, StatusCode: resp.StatusCode, Endpoint: endpoint, Err: err, Hint: malformedHint}
	}
	return nil
}

// checked is an answer that says, once decoded, whether it has the shape
// its endpoint promises: a 2xx that has not is an error, never a success.
// It is not retried, as a listing's records are not: the same request gets
// the same answer.
type checked interface {
	check() *Error
}

// checkAnswer is out's verdict on itself, if it gives one.
func checkAnswer(r request, out any) error {
	v, ok := out.(checked)
	if !ok {
		return nil
	}
	err := v.check()
	if err == nil {
		return nil
	}
	err.Endpoint = r.endpoint
	if r.method == http.MethodGet {
		return err
	}
	return postOutcome(r.endpoint, err, true)
}

// postOutcome is what a POST's failure is returned as. connected says
// whether a connection was had for it, after which its bytes may have
// reached Asana. Asana certainly did not act when it refused the request
// (a 4xx: a 429 is retried, the others are returned as they are) or when
// nothing left: the budget or an OAuth renewal failed, or no connection
// could be made, which is retried as a GET would be. Anything else (a
// 5xx, a garbled 2xx, a redirect, a connection lost or a deadline passed
// while waiting for the answer) may come after Asana acted, and is
// returned as ErrOutcomeUnknown, never retried.
func postOutcome(endpoint string, err error, connected bool) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &e):
		// The caller's context ended (the error wraps its Err): nothing
		// else is known.
		if connected {
			cause := err
			if inner := errors.Unwrap(err); inner != nil {
				cause = inner
			}
			return &Error{Kind: ErrOutcomeUnknown, Endpoint: endpoint, Err: cause, Hint: hintOutcomeUnknown}
		}
		return err
	case e.StatusCode >= 400 && e.StatusCode <= 499, e.Endpoint == EndpointOAuthToken, !connected && e.StatusCode == 0:
		return e
	}
	return &Error{Kind: ErrOutcomeUnknown, StatusCode: e.StatusCode, Endpoint: endpoint, Messages: e.Messages, Err: e.Err, Hint: hintOutcomeUnknown}
}

// malformedHint is what to check when a 2xx body is not Asana's JSON,
// retries included.
const malformedHint = "the answer is not the JSON Asana sends: if this persists, check --asana.url and any proxy between the exporter and Asana"

// maxRetryAfter bounds the Retry-After the client obeys when the caller set
// no deadline. Asana's is the time until its one-minute rate window frees
// up; one past three refresh intervals (the default is 5m) comes from
// something else, and the counts a retry would bring are stale by then.
const maxRetryAfter = 15 * time.Minute

// retryAfterFits reports whether e's Retry-After fits in the time the
// caller has left, or in maxRetryAfter without a deadline. When it does
// not, e says so, and the client gives up at once rather than after
// sleeping.
func retryAfterFits(ctx context.Context, e *Error) bool {
	left, what := maxRetryAfter, "the client waits at most without a deadline"
	if deadline, ok := plannedEnd(ctx); ok {
		left, what = time.Until(deadline), "left before the deadline"
	}
	if e.RetryAfter <= left {
		return true
	}
	//lint:ignore ST1005 it starts with a name, and follows a colon in the error it joins
	refusal := fmt.Errorf("Asana asked to wait %v before retrying, more than the %v %s", roughly(e.RetryAfter), roughly(max(left, 0)), what)
	if e.Err != nil {
		refusal = fmt.Errorf("%w; %w", e.Err, refusal)
	}
	e.Err = refusal
	return false
}

// roughly rounds d to the second, or to the millisecond below one.
func roughly(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

// retryDelay is Retry-After plus up to 10% (at least 100ms) of jitter for a
// 429 that has one, and capped exponential backoff with jitter otherwise.
func (c *Client) retryDelay(e *Error, attempt int) time.Duration {
	if e.RetryAfter > 0 {
		jitter := max(e.RetryAfter/10, 100*time.Millisecond)
		return e.RetryAfter + rand.N(jitter)
	}
	backoff := min(c.opts.RetryBaseDelay<<(attempt-1), c.opts.RetryMaxDelay)
	if backoff <= 0 { // shift overflow
		backoff = c.opts.RetryMaxDelay
	}
	// "Equal jitter": never less than half the backoff, so retries stay spaced.
	return backoff/2 + rand.N(backoff/2+1)
}

// waitBudget takes a request's share of the budget, waiting for it; fits is
// false, and nothing is taken, when the wait would end after the planned
// end of the work (its deadline or horizon).
func (c *Client) waitBudget(ctx context.Context) (fits bool, err error) {
	if err := ctx.Err(); err != nil {
		return true, err
	}
	now := time.Now()
	r := c.limiter.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if end, ok := plannedEnd(ctx); !r.OK() || ok && now.Add(delay).After(end) {
		r.CancelAt(now)
		return false, nil
	}
	if delay == 0 {
		return true, nil
	}
	if err := sleep(ctx, delay); err != nil {
		r.Cancel()
		return true, err
	}
	return true, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StripURL drops the *url.Error wrapper: its URL adds noise (query strings,
// offsets) to every log line and the endpoint already says where we were.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
