package asana

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/url"
	"slices"
	"strconv"

	"github.com/asana-exporter/asana_exporter/internal/excerpt"
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

// maxOffsetQuote is how much of an offset an error quotes: enough to tell
// two apart, where the server decides how long an offset is.
const maxOffsetQuote = 16

// ErrIncompleteRecord means a listed record lacks its gid or a field the
// listing asked for with opt_fields, so it cannot be counted. It is not
// retried: the same request gets the same answer.
const ErrIncompleteRecord Kind = "record lacks a field the listing needs"

// listing is one paginated list endpoint and how its records are checked.
type listing[W, T any] struct {
	endpoint  string // route template, for metrics, logs and errors
	path      string
	optFields string
	// workspace is the workspace gid the log line names; empty for
	// /workspaces.
	workspace string
	// check writes a decoded record as callers see it into item and
	// returns its gid, or says why it cannot be counted.
	check func(record *W, item *T) (gid string, err *recordError)
}

// recordError is why a listed record cannot be counted.
type recordError struct {
	field  string
	absent bool // else present but not of its type
}

func (e *recordError) Error() string {
	if e.absent {
		return "has no " + e.field
	}
	return "has an " + e.field + " that is neither true nor false"
}

// eachPage walks a listing. It asks for PageLimit records with exactly
// optFields, follows next_page.offset until next_page is null or absent,
// and gives fn each page once it is checked: every record has its gid and
// the fields check needs, and a record whose gid an earlier record of the
// listing had is dropped before fn sees the page (a listing that shifts
// while it is read repeats records). A page with no record but a next_page
// is not the end: a listing that filters after paging sends such pages. An
// offset that an earlier page of the listing gave fails it: following it
// would loop.
//
// start, when set, is called before the first page, and again whenever
// Asana says the offset expired and the listing starts over (at most
// MaxListingRestarts times): it must drop what fn gathered. Only one page
// is held at a time, and its slice is reused: fn must not keep it. It
// returns how many restarts happened.
func eachPage[W, T any](ctx context.Context, c *Client, l listing[W, T], start func() error, fn func(index int, items []T) error) (restarts int, err error) {
	w := &walker[W, T]{c: c, observer: c.observer(ctx), l: l, offsets: map[uint64]int{}, seed: maphash.MakeSeed()}
	defer w.logDropped()
	for {
		if start != nil {
			if err := start(); err != nil {
				return restarts, err
			}
		}
		err := w.walk(ctx, fn)
		if !errors.Is(err, ErrOffsetExpired) || restarts >= c.opts.MaxListingRestarts {
			return restarts, err
		}
		restarts++
		c.opts.Logger.Info("Asana pagination offset expired, restarting the listing", "endpoint", l.endpoint, "restart", restarts)
	}
}

// walker holds one listing's state across its pages and restarts.
type walker[W, T any] struct {
	c        *Client
	observer Observer // the listing's: its context's, or the client's
	l        listing[W, T]
	page     listPage[W]
	items    []T
	seen     gidSet
	// offsets maps the hash of each next_page offset the listing gave to
	// the 1-based page that gave it. Hashes, not the offsets themselves
	// (some 200 bytes each, 10,000 of them for a million memberships): two
	// of 100,000 offsets share a hash with a chance below 1e-9, and that
	// would fail one collection, never miscount.
	offsets map[uint64]int
	seed    maphash.Seed
	dropped int // duplicates dropped, restarts included
}

// walk reads the listing once, from its first page.
func (w *walker[W, T]) walk(ctx context.Context, fn func(int, []T) error) error {
	w.seen.reset()
	clear(w.offsets)
	offset := ""
	for index := 0; ; index++ {
		if index >= maxPages {
			return w.fail(ErrMalformedResponse, fmt.Errorf("listing did not end after %d pages", maxPages), hintServer)
		}
		// get resets page before each decode, so no field of the last page
		// (or of a failed attempt at this one) survives into this one.
		if err := w.c.get(ctx, w.l.endpoint, w.l.path, listQuery(w.l.optFields, offset), &w.page); err != nil {
			return err
		}
		items, err := w.accept(index + 1)
		if err != nil {
			return err
		}
		if err := fn(index, items); err != nil {
			return err
		}
		next := w.page.NextPage
		if next == nil {
			return nil
		}
		if next.Offset == "" {
			return w.fail(ErrMalformedResponse, fmt.Errorf("page %d has a next_page without an offset", index+1), hintServer)
		}
		h := maphash.String(w.seed, next.Offset)
		if gave, ok := w.offsets[h]; ok {
			return w.fail(ErrMalformedResponse, fmt.Errorf("page %d: next_page offset %q repeats the one page %d gave: the listing would loop",
				index+1, excerpt.Cut(next.Offset, maxOffsetQuote), gave), hintServer)
		}
		w.offsets[h] = index + 1
		offset = next.Offset
	}
}

// accept checks the page's records and returns those whose gid the
// listing had not given yet.
func (w *walker[W, T]) accept(page int) ([]T, error) {
	w.items = slices.Grow(w.items[:0], len(w.page.Data))
	kept := 0
	for i := range w.page.Data {
		w.items = w.items[:kept+1]
		gid, err := w.l.check(&w.page.Data[i], &w.items[kept])
		if err == nil && gid == "" {
			err = &recordError{field: "gid", absent: true}
		}
		if err != nil {
			return nil, w.recordFailure(page, i+1, err)
		}
		if w.seen.add(gid) {
			kept++
		}
	}
	w.items = w.items[:kept]
	if dropped := len(w.page.Data) - kept; dropped > 0 {
		w.dropped += dropped
		w.observer.DuplicatesDropped(w.l.endpoint, dropped)
	}
	return w.items, nil
}

// recordFailure fails the listing for a record it cannot count. Nothing is
// retried: the same request gets the same answer.
func (w *walker[W, T]) recordFailure(page, record int, e *recordError) error {
	err := fmt.Errorf("page %d, record %d %w", page, record, e)
	switch {
	case !e.absent:
		return w.fail(ErrMalformedResponse, err, hintServer)
	case e.field == "gid":
		return w.fail(ErrIncompleteRecord, err, "a record without its gid cannot be told from the others, so it cannot be counted once; "+hintServer)
	}
	return w.fail(ErrIncompleteRecord, err, "opt_fields was not honoured: the listing asked for opt_fields="+w.l.optFields+
		" and got records without them, which would count every member as inactive. Check that no proxy between "+
		"the exporter and Asana drops or rewrites the query string")
}

// hintServer is the hint for an answer that no request of the exporter's
// can have caused.
const hintServer = "the answer is at fault, not the request; if this persists, check that no proxy between " +
	"the exporter and Asana caches or rewrites responses, else report it to Asana support"

func (w *walker[W, T]) fail(kind Kind, err error, hint string) error {
	return &Error{Kind: kind, Endpoint: w.l.endpoint, Err: err, Hint: hint}
}

// logDropped says once per listing that duplicates were dropped; the
// metric counts them as they come.
func (w *walker[W, T]) logDropped() {
	if w.dropped == 0 {
		return
	}
	args := []any{"endpoint", w.l.endpoint, "dropped", w.dropped}
	if w.l.workspace != "" {
		args = append(args, "workspace", w.l.workspace)
	}
	w.c.opts.Logger.Warn("Asana listed some records more than once; the repeats were dropped", args...)
}

func listQuery(optFields, offset string) url.Values {
	q := url.Values{"limit": {strconv.Itoa(PageLimit)}, "opt_fields": {optFields}}
	if offset != "" {
		q.Set("offset", offset)
	}
	return q
}

// gidSet is the gids a listing gave, to drop a record given twice. A
// listing may hold a million memberships, for which the exporter's peak
// RSS is 21 MiB (BENCHMARKS.md), so the set is compact: Asana's gids are
// decimal numbers of 16 digits or more that fit in 64 bits, kept as
// uint64 in a sorted slice (8 bytes each), those that come out of order in
// a small map until they are merged in. A million gids take about 10 MB
// in any order, where a map of them takes 38 MB and one of strings 72 MB.
// Any other gid is kept as a string.
type gidSet struct {
	sorted []uint64            // merged gids, ascending
	top    uint64              // the largest gid in sorted and recent
	recent map[uint64]struct{} // gids not merged yet
	batch  []uint64            // merge's buffer, kept for the next merge
	strs   map[string]struct{}
}

// Merging recent into sorted copies sorted, so it waits until recent holds
// a sixteenth as many gids (mergeRatio) and at least mergeMin: a listing
// of n gids then makes O(log n) merges, and recent costs at most 1/16 of
// the memory as a map.
const (
	mergeMin   = 4096
	mergeRatio = 16
)

// add reports whether gid is new, and remembers it.
func (s *gidSet) add(gid string) bool {
	n, ok := decimal(gid)
	if !ok {
		if _, ok := s.strs[gid]; ok {
			return false
		}
		if s.strs == nil {
			s.strs = map[string]struct{}{}
		}
		s.strs[gid] = struct{}{}
		return true
	}
	// The simulator, and Asana as far as anyone has seen, list in gid
	// order: a gid above every other is new, and sorted stays sorted.
	if n > s.top {
		s.sorted = append(s.sorted, n)
		s.top = n
		return true
	}
	if _, ok := s.recent[n]; ok {
		return false
	}
	if _, ok := slices.BinarySearch(s.sorted, n); ok {
		return false
	}
	if s.recent == nil {
		s.recent = map[uint64]struct{}{}
	}
	s.recent[n] = struct{}{}
	if len(s.recent) >= max(mergeMin, len(s.sorted)/mergeRatio) {
		s.merge()
	}
	return true
}

// decimal is gid as a number, when gid is one in its shortest form and of
// at most 19 digits, which cannot overflow: strconv.ParseUint costs more
// than the rest of add.
func decimal(gid string) (uint64, bool) {
	if len(gid) == 0 || len(gid) > 19 || gid[0] == '0' && len(gid) > 1 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(gid); i++ {
		d := gid[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + uint64(d)
	}
	return n, true
}

// merge moves recent into sorted, merging from the back so that sorted
// needs no second slice.
func (s *gidSet) merge() {
	s.batch = s.batch[:0]
	for n := range s.recent {
		s.batch = append(s.batch, n)
	}
	clear(s.recent)
	slices.Sort(s.batch)
	i, j := len(s.sorted)-1, len(s.batch)-1
	s.sorted = append(s.sorted, s.batch...)
	for k := len(s.sorted) - 1; j >= 0; k-- {
		if i >= 0 && s.sorted[i] > s.batch[j] {
			s.sorted[k] = s.sorted[i]
			i--
		} else {
			s.sorted[k] = s.batch[j]
			j--
		}
	}
}

// reset forgets every gid: the listing starts over.
func (s *gidSet) reset() {
	s.sorted, s.top = s.sorted[:0], 0
	clear(s.recent)
	clear(s.strs)
}
