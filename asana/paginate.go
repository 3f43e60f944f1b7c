package asana

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// nextPage is Asana's pagination cursor. It is null on the last page and
// absent when the request had no limit.
type nextPage struct {
	Offset string `json:"offset"`
}

type listPage[T any] struct {
	Data     []T       `json:"data"`
	NextPage *nextPage `json:"next_page"`
}

// reset readies the page for the next decode, keeping its slice's storage.
// encoding/json decodes into existing elements, so they are zeroed first:
// a field absent from the next page must not keep a stale value.
func (p *listPage[T]) reset() {
	clear(p.Data[:cap(p.Data)])
	p.Data, p.NextPage = p.Data[:0], nil
}

// maxPages stops a server that never ends a listing (10 million records).
const maxPages = 100_000

// eachPage walks a paginated list endpoint. It asks for PageLimit records
// with exactly optFields, follows next_page.offset until next_page is null or
// absent or a page is empty, and calls fn with each page. Only one page is
// held at a time, and its slice is reused: fn must not keep it.
//
// When Asana says the offset expired, the listing starts over, at most
// MaxListingRestarts times; fn then sees index 0 again and must discard what
// it gathered. It returns how many restarts happened.
func eachPage[T any](ctx context.Context, c *Client, endpoint, path, optFields string, fn func(index int, items []T) error) (restarts int, err error) {
	var page listPage[T]
	for {
		err := walk(ctx, c, endpoint, path, optFields, &page, fn)
		if !errors.Is(err, ErrOffsetExpired) || restarts >= c.opts.MaxListingRestarts {
			return restarts, err
		}
		restarts++
		c.opts.Logger.Info("Asana pagination offset expired, restarting the listing", "endpoint", endpoint, "restart", restarts)
	}
}

func walk[T any](ctx context.Context, c *Client, endpoint, path, optFields string, page *listPage[T], fn func(int, []T) error) error {
	offset := ""
	for index := 0; ; index++ {
		if index >= maxPages {
			return &Error{Kind: ErrMalformedResponse, Endpoint: endpoint, Err: fmt.Errorf("listing did not end after %d pages", maxPages)}
		}
		// get resets page before each decode, so no field of the last page
		// (or of a failed attempt at this one) survives into this one.
		if err := c.get(ctx, endpoint, path, listQuery(optFields, offset), page); err != nil {
			return err
		}
		if err := fn(index, page.Data); err != nil {
			return err
		}
		if page.NextPage == nil || len(page.Data) == 0 {
			return nil
		}
		if page.NextPage.Offset == "" || page.NextPage.Offset == offset {
			return &Error{Kind: ErrMalformedResponse, Endpoint: endpoint, Err: errors.New("next_page has no new offset")}
		}
		offset = page.NextPage.Offset
	}
}

func listQuery(optFields, offset string) url.Values {
	q := url.Values{"limit": {strconv.Itoa(PageLimit)}, "opt_fields": {optFields}}
	if offset != "" {
		q.Set("offset", offset)
	}
	return q
}
