package asana

import (
	"context"
	"time"
)

// Observer is told about every request the client makes, so that the
// exporter can turn them into metrics without this package importing
// Prometheus. Implementations must be safe for concurrent use.
type Observer interface {
	// Request is called once per HTTP request, after its body was read.
	// code is 0 when no response arrived (network error, timeout).
	Request(endpoint string, code int, duration time.Duration)
	// RateLimited is called for every 429 response.
	RateLimited(endpoint string)
	// Retry is called before every retry of a failed request.
	Retry(endpoint string)
	// DuplicatesDropped is called for every page of a listing that
	// repeated n records an earlier page of the listing (or the page
	// itself) had given; they were dropped.
	DuplicatesDropped(endpoint string, n int)
}

type observerKey struct{}

// WithObserver returns a context whose requests the client tells o about
// instead of its Options.Observer: a client shared by several
// organisations (one token, and so one budget) counts each one's requests
// apart.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// observer is who is told about the requests made on ctx.
func (c *Client) observer(ctx context.Context) Observer {
	if o, ok := ctx.Value(observerKey{}).(Observer); ok {
		return o
	}
	return c.opts.Observer
}

type nopObserver struct{}

func (nopObserver) Request(string, int, time.Duration) {}
func (nopObserver) RateLimited(string)                 {}
func (nopObserver) Retry(string)                       {}
func (nopObserver) DuplicatesDropped(string, int)      {}
func (nopObserver) TokenRefresh(string, time.Time)     {}
