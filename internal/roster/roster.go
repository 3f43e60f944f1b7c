package roster

import (
	"context"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// Lister is the part of the Asana client the roster uses. Its pages are
// checked and its memberships come once; start is called before the first
// page and again when the listing starts over.
type Lister interface {
	EachMembershipPage(ctx context.Context, workspaceGID string, detail asana.Detail, start func() error, fn func(asana.MembershipPage) error) (int, error)
}

// Listing is one workspace's roster: its rows, once its listing completed,
// or why it did not.
type Listing struct {
	Workspace asana.Workspace
	Err       error // nil when the listing completed
	spool     *spool
	// dated is how many rows have idle days.
	dated   int
	sources *sources
}

// Dated is how many of the rows have idle days: the seats the idle rule
// judges whose activity a source tells.
func (l *Listing) Dated() int { return l.dated }

// Sources say what the listing's idle_days and monthly_price came from:
// whether it had the audit log, a console export, and a price.
func (l *Listing) Sources() (auditLog, consoleExport, price bool) {
	if l.sources == nil {
		return false, false, false
	}
	return l.sources.history != nil, l.sources.console != nil, l.sources.price != ""
}

// Rows is how many rows the listing holds (those its state filter kept).
func (l *Listing) Rows() int {
	if l.spool == nil {
		return 0
	}
	return l.spool.rows
}

// Each reads a complete listing's rows back, in Asana's order; a failed
// listing has none and returns its error.
func (l *Listing) Each(fn func(Entry) error) error {
	if l.spool == nil {
		return l.Err
	}
	return l.spool.each(func(c *Cells) error { return fn(entryOf(c)) })
}

// Listings are the rosters of several workspaces, in the order listed.
type Listings []*Listing

// History gives an organisation's audit log Ledger, or nil when there is
// none to tell last logins and paused licences by.
type History func(workspaceGID string) *auditlog.Ledger

// ListOptions say which rows to keep and what to show beside them.
type ListOptions struct {
	// States keeps the rows in these states; every row when empty.
	States []asana.State
	// History, when set, fills the audit log's columns.
	History History
	// Console, when set, gives a workspace's other source of last
	// activity (nil for none): the Admin Console's members export.
	Console func(workspaceGID string) Activity
	// Prices are the workspaces' monthly seat prices, by gid.
	Prices map[string]float64
	// Now is when idle days are counted to.
	Now time.Time
	// IdleDays, when above 0, keeps only the seats idle at least that many
	// days by the idle rule (those asana_workspace_seats_idle counts).
	IdleDays int
	// Display, when set, gives a workspace's listing the Tally that shows
	// how it goes.
	Display func(asana.Workspace) asana.Tally
}

// List lists one workspace's memberships with the roster's fields. The
// listing either has all its rows or an Err and none. Close it when done.
func List(ctx context.Context, src Lister, w asana.Workspace, opts ListOptions) *Listing {
	l := &Listing{Workspace: w, sources: opts.sources(w.GID)}
	var display asana.Tally
	if opts.Display != nil {
		display = opts.Display(w)
	}
	l.Err = l.list(ctx, src, opts, display)
	return l
}

// sources are what workspace gid's rows are judged by.
func (opts *ListOptions) sources(gid string) *sources {
	s := &sources{now: opts.Now}
	if opts.History != nil {
		if s.history = opts.History(gid); s.history != nil && !s.history.Status().BackfillDone {
			s.history = nil // a history not read to the end would make up idle seats
		}
	}
	if opts.Console != nil {
		s.console = opts.Console(gid)
	}
	if p, ok := opts.Prices[gid]; ok {
		s.price = strconv.FormatFloat(p, 'f', -1, 64)
	}
	return s
}

func (l *Listing) list(ctx context.Context, src Lister, opts ListOptions, display asana.Tally) error {
	s, err := newSpool()
	if err != nil {
		return err
	}
	_, err = src.EachMembershipPage(ctx, l.Workspace.GID, asana.Roster, func() error {
		if display != nil {
			display.Reset()
		}
		l.dated = 0
		return s.reset()
	}, func(p asana.MembershipPage) error {
		if display != nil {
			display.Add(p.Items)
		}
		for i := range p.Items {
			m := &p.Items[i]
			if len(opts.States) > 0 && !slices.Contains(opts.States, m.State()) {
				continue
			}
			row, idleDays := rowOf(l.Workspace, m, l.sources)
			if opts.IdleDays > 0 && idleDays < opts.IdleDays {
				continue
			}
			if idleDays >= 0 {
				l.dated++
			}
			if err := s.add(&row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.close()
		return err
	}
	l.spool = s
	return nil
}

// Failed are the listings that did not complete.
func (ls Listings) Failed() Listings {
	return slices.DeleteFunc(slices.Clone(ls), func(l *Listing) bool { return l.Err == nil })
}

// Close removes the spools.
func (ls Listings) Close() {
	for _, l := range ls {
		if l.spool != nil {
			l.spool.close()
		}
	}
}

// Write writes the header and the rows of every complete listing to out,
// in order. A failed listing contributes no row.
func (ls Listings) Write(out io.Writer, opts WriteOptions) error {
	var widths [numColumns]int
	for _, l := range ls {
		if l.spool != nil {
			for i, w := range l.spool.widths {
				widths[i] = max(widths[i], w)
			}
		}
	}
	w := newRowWriter(opts, out, widths)
	if err := w.header(); err != nil {
		return err
	}
	for _, l := range ls {
		if l.spool == nil {
			continue
		}
		if err := l.spool.each(w.row); err != nil {
			return err
		}
	}
	return w.flush()
}
