package auditlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
	"github.com/asana-exporter/asana_exporter/internal/progress"
)

// Retention is how long Asana keeps audit log events, and so how far back
// a first start reads.
const Retention = 90 * idle.Day

// ReaderOptions configure a Reader.
type ReaderOptions struct {
	Source Source
	// Wait, when the audit log shares the token of the membership
	// listings, holds each request while a listing runs: the seat counts
	// come first.
	Wait func(context.Context) error
	// StoragePath is the directory of the state file; "" keeps the state
	// in memory only, and every start reads the 90 days again.
	StoragePath string
	Logger      *slog.Logger
	Now         func() time.Time
}

// Reader polls the seat event streams of every organisation into its
// Ledger. It alone writes the Ledgers and the state file.
type Reader struct {
	opts ReaderOptions

	mu      sync.Mutex
	ledgers map[string]*Ledger
	polled  bool      // a poll has finished
	err     error     // why the last poll failed, nil if it did not
	denied  bool      // the last poll was refused access to the log
	success time.Time // when a poll last read every log
}

// NewReader loads the state file, if any. A state file that cannot be read
// is logged and left to be rebuilt by a backfill: it never stops the
// exporter and never yields a wrong number.
func NewReader(opts ReaderOptions) *Reader {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reader{opts: opts, ledgers: map[string]*Ledger{}}
	if opts.StoragePath == "" {
		return r
	}
	ledgers, err := load(opts.StoragePath)
	if err != nil {
		opts.Logger.Warn("Cannot use the audit log state file; reading the last 90 days of the audit log again",
			"file", statePath(opts.StoragePath), "err", err)
		return r
	}
	now := opts.Now()
	for gid, l := range ledgers {
		// Asana deleted what was logged while nobody read it: the login
		// history is whole only from what it still keeps.
		if logins := l.streams[asana.EventLoginSucceeded]; !logins.CaughtUp() || logins.CaughtUpAt.Before(now.Add(-Retention)) {
			l.historyStart = maxTime(l.historyStart, now.Add(-Retention))
		}
		r.ledgers[gid] = l
	}
	opts.Logger.Info("Resuming the audit log from the state file", "workspaces", len(ledgers))
	return r
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Ledger returns an organisation's Ledger, nil before its first poll.
func (r *Reader) Ledger(gid string) *Ledger {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ledgers[gid]
}

// Health is how the polls go.
type Health struct {
	Polled bool // a poll has finished
	// Err is why the last poll failed, nil if it did not; Denied when
	// Asana refused the token access to the log.
	Err         error
	Denied      bool
	LastSuccess time.Time // zero until a poll reads every log
}

// Health reports how the polls go.
func (r *Reader) Health() Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Health{Polled: r.polled, Err: r.err, Denied: r.denied, LastSuccess: r.success}
}

// Display shows how the read of one organisation's audit log goes: its
// pages of events, and how much of the history they cover. A command's
// progress line (progress.Task) is one; so is backfillLog.
type Display interface {
	Page(events int)
	Covered(fraction float64)
}

// Poll reads the streams of the organisations given until they are caught
// up or ctx ends, then saves the state. What ctx cuts short resumes at the
// next poll. show, when set, gives each one's Display; without it a
// backfill is logged every 30 seconds.
func (r *Reader) Poll(ctx context.Context, orgs []string, show func(gid string) Display) error {
	var errs []error
	denied, start := false, r.opts.Now()
	if len(orgs) == 0 {
		return nil
	}
	for _, gid := range orgs {
		err := r.pollWorkspace(ctx, gid, show)
		switch {
		case outOfTime(err):
			// The poll's time or budget ran out (a long backfill, or
			// membership listings first): the next poll goes on.
			r.opts.Logger.Debug("The audit log poll ran out of time; the next one resumes", "workspace_gid", gid, "err", err)
			continue
		case NotPermitted(err):
			denied = true
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	r.report(err, denied, start)
	if r.opts.StoragePath != "" {
		r.mu.Lock()
		ledgers := maps.Clone(r.ledgers)
		r.mu.Unlock()
		if serr := save(r.opts.StoragePath, ledgers); serr != nil {
			r.opts.Logger.Error("Cannot write the audit log state file; the next start reads the audit log again", "err", serr)
		}
	}
	return err
}

// report logs a change of the poll's outcome once, not at every poll.
func (r *Reader) report(err error, denied bool, start time.Time) {
	r.mu.Lock()
	wasDenied, prev, first := r.denied, r.err, !r.polled
	r.polled, r.err, r.denied = true, err, denied
	if err == nil {
		r.success = start
	}
	r.mu.Unlock()
	log := r.opts.Logger
	switch {
	case denied && !wasDenied:
		log.Error("The token may not read the Asana audit log, so idle and paused seats are not exported; the seat counts go on. "+
			"It needs a service account's token of an Enterprise+ organisation with the Audit logs permission: "+
			"give one with --asana.audit-token-file, or turn audit_log off in the config file", "err", err)
	case err != nil && !denied && (prev == nil || prev.Error() != err.Error()):
		log.Error("Cannot read the Asana audit log; the next poll resumes where this one stopped", "err", err)
	case err == nil && (prev != nil || first):
		log.Info("The Asana audit log is readable")
	}
}

func outOfTime(err error) bool {
	return errors.Is(err, asana.ErrBudgetExhausted) || errors.Is(err, context.DeadlineExceeded)
}

// NotPermitted reports whether err means the token may not read the log.
// Asana's status for it is not documented: 402, 403 and 404 are all taken
// to mean it.
func NotPermitted(err error) bool {
	return errors.Is(err, asana.ErrForbidden) || errors.Is(err, asana.ErrPaymentRequired) ||
		errors.Is(err, asana.ErrNotFound) || errors.Is(err, asana.ErrFullPermissionsRequired)
}

func (r *Reader) pollWorkspace(ctx context.Context, gid string, show func(gid string) Display) error {
	r.mu.Lock()
	l := r.ledgers[gid]
	if l == nil {
		l = newLedger(r.opts.Now().Add(-Retention))
		r.ledgers[gid] = l
	}
	r.mu.Unlock()
	status := l.Status()
	var display Display
	switch {
	case show != nil:
		display = show(gid)
	case !status.BackfillDone:
		display = &backfillLog{log: r.opts.Logger, gid: gid, now: r.opts.Now, start: r.opts.Now()}
	}
	var errs []error
	for _, t := range asana.SeatEventTypes {
		st := l.streams[t]
		var streamDisplay Display
		if t == asana.EventLoginSucceeded && display != nil { // logins are nearly all of the work
			streamDisplay = display
		}
		res, err := l.poll(ctx, r.opts.Source, gid, st, status.HistoryStart, r.opts.Now, r.opts.Wait, streamDisplay)
		r.opts.Logger.Debug("Polled the audit log", "workspace_gid", gid, "event_type", t,
			"pages", res.pages, "events", res.events, "restarts", res.restarts, "caught_up", st.CaughtUp())
		if res.requests > 0 && l.judge(st, res) {
			r.reportStall(gid, st, err)
		}
		if err == nil {
			continue
		}
		if outOfTime(err) && len(errs) > 0 {
			break // the streams that failed before are the news
		}
		errs = append(errs, err)
		if !streamRefused(err) { // the token, the network or the poll's time: the next stream would fail alike
			break
		}
	}
	if after := l.Status(); !status.BackfillDone && after.BackfillDone {
		r.opts.Logger.Info("Read the audit log back to the start of its history", "workspace_gid", gid,
			"history_start", after.HistoryStart.Format(time.RFC3339), "users", after.Users)
	}
	return errors.Join(errs...)
}

// reportStall logs a stream that became stalled, with the error of the
// poll that made it so, or that moves again.
func (r *Reader) reportStall(gid string, st *stream, err error) {
	if st.stalled() {
		r.opts.Logger.Warn("An audit log stream has made no progress for "+strconv.Itoa(StallPolls)+" polls in a row; "+
			"the idle and paused seats miss its newer events until it moves again (asana_audit_log_stream_stalled)",
			"workspace_gid", gid, "event_type", st.EventType, "err", err)
		return
	}
	r.opts.Logger.Info("The audit log stream moves again", "workspace_gid", gid, "event_type", st.EventType)
}

// backfillLogEvery is how often a backfill is logged.
const backfillLogEvery = 30 * time.Second

// backfillLog logs a workspace's first read of its audit log (its logins,
// nearly all of the work) every 30 seconds: events read, how far the
// history is covered, and the time left at that pace.
type backfillLog struct {
	log      *slog.Logger
	gid      string
	now      func() time.Time
	start    time.Time
	logged   time.Time
	events   int
	fraction float64
}

func (b *backfillLog) Page(events int) {
	b.events += events
	now := b.now()
	if b.logged.IsZero() {
		b.logged = b.start
	}
	if now.Sub(b.logged) < backfillLogEvery {
		return
	}
	b.logged = now
	b.log.Info("Reading the audit log's history", "workspace_gid", b.gid, "events", b.events,
		"history_read", fmt.Sprintf("%.0f%%", 100*b.fraction), "time_left", progress.TimeLeft(now.Sub(b.start), b.fraction))
}

func (b *backfillLog) Covered(fraction float64) { b.fraction = fraction }
