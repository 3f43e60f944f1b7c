package auditlog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Source is the part of the Asana client the reader uses.
type Source interface {
	AuditLogPage(ctx context.Context, workspaceGID string, q asana.AuditQuery) (asana.AuditPage, error)
}

// stream is the position in one event type's stream. The log is ascending
// by created_at; Asana's offset is the fast way on, and LastAt with the gids
// seen at that instant the way back when the offset is refused: a restart
// from start_at=LastAt (inclusive) drops those gids, so nothing is applied
// twice and nothing is skipped.
type stream struct {
	EventType string `json:"event_type"`
	Offset    string `json:"offset,omitempty"`
	// StartAt is the start_at the offset's chain of requests began with,
	// sent again with each offset. Zero in a state file written before it
	// was kept: the offset then goes alone, as it did then.
	StartAt time.Time `json:"start_at,omitzero"`
	LastAt  time.Time `json:"last_at,omitzero"`
	// Boundary holds the gids of the events created at LastAt, oldest
	// first, at most maxBoundary of them.
	Boundary []string `json:"boundary,omitempty"`
	// CaughtUpAt is when a poll last reached the end of the stream: every
	// event created before then has been applied. Zero while backfilling.
	CaughtUpAt time.Time `json:"caught_up_at,omitzero"`

	// inBoundary indexes Boundary. It is built at the first event, since a
	// state file fills only Boundary.
	inBoundary map[string]struct{}
	// idlePolls counts the polls in a row that asked for the stream and
	// neither applied an event nor reached its end.
	idlePolls int
}

// maxBoundary bounds the gids a stream keeps of the events created at
// LastAt. A restart from LastAt reads them all again, 100 a page, so 1,000
// cost it 10 requests; more events than that in one millisecond is a bulk
// operation, such as a CSV import's invitations. Beyond it the oldest gids
// are forgotten, and a restart at that instant applies those events again:
// the seats are judged the same, only the event counters count them twice
// (see Ledger.apply).
const maxBoundary = 1000

func (s *stream) CaughtUp() bool { return !s.CaughtUpAt.IsZero() }

// stalled reports whether the stream has made no progress for StallPolls
// polls.
func (s *stream) stalled() bool { return s.idlePolls >= StallPolls }

// advance reports whether e is new to the stream, and moves the stream past
// it. An event older than LastAt was applied already: the log is ascending.
func (s *stream) advance(e *asana.AuditEvent) bool {
	if s.inBoundary == nil {
		s.index()
	}
	at := e.CreatedAt.Time
	switch {
	case at.Before(s.LastAt):
		return false
	case at.After(s.LastAt):
		s.LastAt, s.Boundary = at, s.Boundary[:0]
		clear(s.inBoundary)
	default:
		if _, seen := s.inBoundary[e.GID]; seen {
			return false
		}
		if len(s.Boundary) == maxBoundary {
			delete(s.inBoundary, s.Boundary[0])
			s.Boundary = s.Boundary[1:]
		}
	}
	s.Boundary = append(s.Boundary, e.GID)
	s.inBoundary[e.GID] = struct{}{}
	return true
}

// index builds inBoundary from Boundary, keeping its newest maxBoundary
// gids: an exporter before the bound kept them all.
func (s *stream) index() {
	s.Boundary = s.Boundary[max(0, len(s.Boundary)-maxBoundary):]
	s.inBoundary = make(map[string]struct{}, len(s.Boundary))
	for _, gid := range s.Boundary {
		s.inBoundary[gid] = struct{}{}
	}
}

// query is the stream's next request. Without an offset a new chain starts
// where the stream stands: at LastAt, or at start (the backfill's start)
// before its first event.
func (s *stream) query(start time.Time) asana.AuditQuery {
	q := asana.AuditQuery{EventType: s.EventType, Offset: s.Offset, StartAt: s.StartAt}
	if q.Offset == "" {
		q.StartAt = start
		if !s.LastAt.IsZero() {
			q.StartAt = s.LastAt
		}
	}
	return q
}

// maxRestarts bounds how often one poll of a stream starts over from LastAt
// after its offset led nowhere. An offset can expire between polls and
// again during a long backfill; a server that refuses every fresh offset
// would otherwise be asked forever.
const maxRestarts = 3

// StallPolls is how many polls in a row a stream may make no progress
// before it is reported stalled. A failed poll is retried by the next one,
// and a refused offset is restarted within its poll, so three polls in a
// row (15 minutes at the default interval) that neither apply an event nor
// reach the end of the stream are no passing hiccup.
const StallPolls = 3

// errRepeating is a stream whose offsets bring back events it has applied
// already instead of new ones: more in a row than the maxBoundary a restart
// from LastAt may legitimately bring back, or a page with nothing new that
// gives back the offset it was asked with, so asking again brings it again.
var errRepeating = errors.New("the audit log serves events already read instead of new ones, so the stream's offset leads nowhere; " +
	"the stream starts over from its last event (if this persists, Asana or a proxy in between replays pages: report it to Asana support)")

// pollResult is what one poll of a stream did.
type pollResult struct {
	requests, pages, events, restarts int
	caughtUp                          bool // it reached the end of the stream
}

// progressed reports whether the poll moved the stream on: it applied an
// event, or it reached the end of the stream. A caught-up stream with
// nothing new is healthy.
func (r pollResult) progressed() bool { return r.events > 0 || r.caughtUp }

// streamRefused reports whether err concerns the stream's own request:
// Asana refused it (any 400: the text for an expired or invalid offset is
// not the only one a refusal may carry), or served only events already
// read. With an offset the stream starts over without it; without one, the
// other streams still go on.
func streamRefused(err error) bool {
	var apiErr *asana.Error
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest || errors.Is(err, errRepeating)
}

// poll reads a stream from where it stands until it is caught up: a page
// with no events. start is where a stream with no position begins (the
// backfill). wait, when set, is called before each request, so that the
// membership listing sharing the token goes first. On error the stream
// keeps the position of its last applied page, to resume from.
func (l *Ledger) poll(ctx context.Context, src Source, workspaceGID string, st *stream, start time.Time, now func() time.Time, wait func(context.Context) error, show Display) (pollResult, error) {
	var res pollResult
	stale := 0 // events already applied, in pages in a row with nothing new
	for {
		if wait != nil {
			if err := wait(ctx); err != nil {
				return res, err
			}
		}
		q := st.query(start)
		asked := now()
		res.requests++
		page, err := src.AuditLogPage(ctx, workspaceGID, q)
		if err == nil {
			res.pages++
			fresh := l.apply(st, page.Events)
			res.events += fresh
			if stale += len(page.Events) - fresh; fresh > 0 {
				stale = 0
			}
			standing := q.Offset != "" && page.Next == q.Offset && fresh == 0 && len(page.Events) > 0
			if stale > maxBoundary || standing {
				err = fmt.Errorf("%s: %w", st.EventType, errRepeating)
			}
		}
		if err != nil {
			if q.Offset == "" || !streamRefused(err) || res.restarts == maxRestarts {
				return res, err
			}
			res.restarts++
			stale = 0
			l.mu.Lock()
			st.Offset, st.StartAt = "", time.Time{}
			l.mu.Unlock()
			continue
		}
		if show != nil {
			show.Page(len(page.Events))
			if span := now().Sub(start); span > 0 && !st.LastAt.IsZero() {
				show.Covered(float64(st.LastAt.Sub(start)) / float64(span))
			}
		}
		l.mu.Lock()
		if page.Next != "" {
			if q.Offset == "" { // a new chain, whose query each offset carries
				st.StartAt = q.StartAt
			}
			st.Offset = page.Next
		}
		// Caught up: an empty page, or no next_page (no event matched, or
		// the server ended the stream).
		res.caughtUp = len(page.Events) == 0 || page.Next == ""
		if res.caughtUp {
			st.CaughtUpAt = asked
		}
		l.mu.Unlock()
		if res.caughtUp {
			return res, nil
		}
	}
}

// judge records a poll that asked for the stream, and reports whether the
// stream became stalled or recovered with it.
func (l *Ledger) judge(st *stream, res pollResult) (changed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := st.stalled()
	st.idlePolls++
	if res.progressed() {
		st.idlePolls = 0
	}
	return st.stalled() != was
}
