// Package collect owns the collection cycle. A Collection counts the
// memberships of every collected workspace and reads the organisations'
// audit logs, spending the request budgets of the tokens it is given, and
// publishes each count as an immutable Snapshot, in the background or at
// each scrape. The commands (the roster, the preflight) list through the
// same Collection, so that one place fans out over workspaces and spends
// the budgets.
package collect

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
)

// Source is the Asana client of one token. It owns the token's request
// budget, so the Collection asks it what a cycle costs and hands it the
// budget a reload sets.
type Source interface {
	Workspaces(ctx context.Context) ([]asana.Workspace, error)
	// CountSeats counts a workspace, and the members outside its email
	// domains and the idle seats when opts asks.
	CountSeats(ctx context.Context, workspaceGID string, opts asana.CountOptions) (asana.SeatListing, error)
	// EachMembershipPage lists a workspace's memberships (the roster).
	EachMembershipPage(ctx context.Context, workspaceGID string, detail asana.Detail, start func() error, fn func(asana.MembershipPage) error) (int, error)
	// AuditLogPage reads one page of an organisation's audit log.
	AuditLogPage(ctx context.Context, workspaceGID string, q asana.AuditQuery) (asana.AuditPage, error)
	// MinDuration is the least time n requests take within the budget.
	MinDuration(n int) time.Duration
	RequestsPerMinute() int
	SetRequestsPerMinute(int)
}

// Options configure a Collection.
type Options struct {
	// Config returns the live config; each cycle reads it once, at its
	// start. config.Default() when nil.
	Config func() *config.Config
	// Interval is the collection mode, and decided here only. Above 0,
	// Run counts every Interval in the background, and a failing workspace
	// keeps its last complete numbers for up to max_staleness. At 0, each
	// scrape counts (BeforeScrape), and a failed workspace publishes no
	// numbers at all.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// AuditSource reads the audit log with a token of its own (a service
	// account's) on a budget of its own; nil reads it with the counts'
	// Source, and then only while no count runs: the seat counts go first.
	AuditSource Source
	// StoragePath is the directory of the audit log's state file; "" keeps
	// the state in memory only.
	StoragePath string
	// Organization names the organisation the Collection counts, in its
	// snapshots; "" when the exporter counts one.
	Organization string
	// Shared, when set, is what one cycle of the other collections that
	// spend the counts' Source costs (organisations sharing a token share
	// its budget): a cycle is judged against the budget with their
	// requests added.
	Shared func() int
}

// Collection runs collection cycles and publishes each result as a new
// Snapshot. It alone spends its Sources' budgets.
type Collection struct {
	src   Source
	audit audit
	opts  Options

	current atomic.Pointer[Snapshot]
	ready   atomic.Bool

	// On scrape: concurrent scrapes share one cycle, which runs for as
	// long as one of them still waits.
	audience audience

	counting    busy // a cycle is counting
	firstCounts firstCounts
}

// New returns a Collection whose first Snapshot is empty and down. It
// loads the audit log's state file, if any.
func New(src Source, opts Options) *Collection {
	if opts.Config == nil {
		cfg := config.Default()
		opts.Config = func() *config.Config { return cfg }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Collection{src: src, opts: opts}
	c.firstCounts = firstCounts{log: opts.Logger, now: opts.Now, counting: map[string]*firstCount{}}
	c.current.Store(&Snapshot{Organization: opts.Organization})
	c.audit = newAudit(src, opts, &c.counting)
	return c
}

// Reload is the config's reload hook: every Source gets the new budget.
// The cycles read the rest of the config at their start.
func (c *Collection) Reload(next *config.Config) (commit func(), err error) {
	return func() {
		c.src.SetRequestsPerMinute(next.RequestsPerMinute)
		if c.audit.own {
			c.audit.src.SetRequestsPerMinute(next.RequestsPerMinute)
		}
	}, nil
}

// Background reports whether Run counts (true) or each scrape does.
func (c *Collection) Background() bool { return c.opts.Interval > 0 }

// Interval is the background refresh interval, 0 on scrape.
func (c *Collection) Interval() time.Duration { return c.opts.Interval }

// Freshness says how old the published numbers can be, for the HELP texts.
func (c *Collection) Freshness() string {
	if c.Background() {
		return "Cached: refreshed every " + c.opts.Interval.String() + " in the background."
	}
	return "Collected at scrape time."
}

// Snapshot returns the latest published snapshot.
func (c *Collection) Snapshot() *Snapshot { return c.current.Load() }

// Ready reports whether the exporter has numbers to serve: on scrape it
// always may try; in the background, once a cycle has reached Asana.
func (c *Collection) Ready() bool { return !c.Background() || c.ready.Load() }

// Waiting says what a Collection that is not Ready waits for.
func (c *Collection) Waiting() string {
	if counts := c.firstCounts.String(); counts != "" {
		return "waiting for the first count of workspace memberships: " + counts
	}
	return "waiting for the first collection to reach Asana"
}

// Run counts now and then every Interval in the background, each cycle
// within one interval, and polls the audit logs, until ctx is done.
func (c *Collection) Run(ctx context.Context) {
	go c.audit.run(ctx, c.auditInterval(), c.AuditedOrganizations)
	if !c.Background() {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		cycleCtx, cancel := context.WithTimeout(ctx, c.opts.Interval)
		c.Refresh(cycleCtx, nil)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ListingDisplay gives a workspace's listing a Tally that shows how it goes.
type ListingDisplay func(asana.Workspace) asana.Tally

// Refresh runs one cycle within ctx and publishes its snapshot. display,
// when set, is a command's: it shows each listing (the progress lines), and
// the command reports what failed, which the log then does not repeat;
// nil logs a workspace's first count and the failures instead.
func (c *Collection) Refresh(ctx context.Context, display ListingDisplay) *Snapshot {
	var deadline time.Duration
	if d, ok := ctx.Deadline(); ok {
		deadline = d.Sub(c.opts.Now())
	}
	return c.run(ctx, func() time.Duration { return deadline }, display)
}

// run runs one cycle, judges it against the budget and its deadline, and
// publishes it.
func (c *Collection) run(ctx context.Context, deadline func() time.Duration, display ListingDisplay) *Snapshot {
	cfg := c.opts.Config() // one config for the whole cycle, even across a reload
	prev := c.Snapshot()
	c.counting.start()
	snap := c.cycle(ctx, cfg, prev, display)
	c.counting.end()
	snap.Organization, snap.Deadline = c.opts.Organization, deadline()
	c.budget(cfg, prev, snap, display != nil)
	c.current.Store(snap)
	if snap.Up {
		c.ready.Store(true)
	}
	return snap
}
