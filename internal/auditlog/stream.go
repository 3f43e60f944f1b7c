package auditlog

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Source is the part of the Asana client the reader uses.
type Source interface {
	AuditLogPage(ctx context.Context, workspaceGID string, q asana.AuditQuery) (asana.AuditPage, error)
}

// stream is the position in one event type's stream. The log is ascending
// by created_at; Asana's offset is the fast way on, and LastAt with the gids
// seen at that instant the way back when the offset expires: a restart from
// start_at=LastAt (inclusive) drops those gids, so nothing is applied twice
// and nothing is skipped.
type stream struct {
	EventType string    `json:"event_type"`
	Offset    string    `json:"offset,omitempty"`
	LastAt    time.Time `json:"last_at,omitzero"`
	// Boundary holds the gids of the events created at LastAt.
	Boundary []string `json:"boundary,omitempty"`
	// CaughtUpAt is when a poll last reached the end of the stream: every
	// event created before then has been applied. Zero while backfilling.
	CaughtUpAt time.Time `json:"caught_up_at,omitzero"`
}

func (s *stream) CaughtUp() bool { return !s.CaughtUpAt.IsZero() }

// advance reports whether e is new to the stream, and moves the stream past
// it. An event older than LastAt was applied already: the log is ascending.
func (s *stream) advance(e *asana.AuditEvent) bool {
	at := e.CreatedAt.Time
	switch {
	case at.Before(s.LastAt):
		return false
	case at.Equal(s.LastAt):
		if slices.Contains(s.Boundary, e.GID) {
			return false
		}
		s.Boundary = append(s.Boundary, e.GID)
	default:
		s.LastAt, s.Boundary = at, append(s.Boundary[:0], e.GID)
	}
	return true
}

// maxRestarts bounds how often one poll of a stream starts over after its
// offset was refused.
const maxRestarts = 3

// pollResult is what one poll of a stream did.
type pollResult struct {
	pages, events, restarts int
}

// poll reads a stream from where it stands until it is caught up: a page
// with no events. start is where a stream with no position begins (the
// backfill). wait, when set, is called before each request, so that the
// membership listing sharing the token goes first. On error the stream
// keeps the position of its last applied page, to resume from.
func (l *Ledger) poll(ctx context.Context, src Source, workspaceGID string, st *stream, start time.Time, now func() time.Time, wait func(context.Context) error, show Progress) (pollResult, error) {
	var res pollResult
	for {
		if wait != nil {
			if err := wait(ctx); err != nil {
				return res, err
			}
		}
		q := asana.AuditQuery{EventType: st.EventType, Offset: st.Offset, StartAt: start}
		if !st.LastAt.IsZero() {
			q.StartAt = st.LastAt
		}
		asked := now()
		page, err := src.AuditLogPage(ctx, workspaceGID, q)
		if st.Offset != "" && (errors.Is(err, asana.ErrOffsetExpired) || errors.Is(err, asana.ErrOffsetInvalid)) && res.restarts < maxRestarts {
			res.restarts++
			l.mu.Lock()
			st.Offset = ""
			l.mu.Unlock()
			continue
		}
		if err != nil {
			return res, err
		}
		res.pages++
		res.events += l.apply(st, page.Events)
		if show != nil {
			show.Page(len(page.Events))
			if span := now().Sub(start); span > 0 && !st.LastAt.IsZero() {
				show.Covered(float64(st.LastAt.Sub(start)) / float64(span))
			}
		}
		l.mu.Lock()
		if page.Next != "" {
			st.Offset = page.Next
		}
		// Caught up: an empty page, or no next_page (no event matched, or
		// the server ended the stream).
		end := len(page.Events) == 0 || page.Next == ""
		if end {
			st.CaughtUpAt = asked
		}
		l.mu.Unlock()
		if end {
			return res, nil
		}
	}
}
