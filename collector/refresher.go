package collector

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// Source is the part of the Asana client a Refresher uses. The client owns
// the token's request budget, so the Refresher asks it what a cycle costs.
type Source interface {
	Workspaces(ctx context.Context) ([]asana.Workspace, error)
	// CountSeats counts a workspace, and the members outside its email
	// domains and the idle seats when opts asks.
	CountSeats(ctx context.Context, workspaceGID string, opts asana.CountOptions) (asana.SeatListing, error)
	// MinDuration is the least time n requests take within the budget.
	MinDuration(n int) time.Duration
	// RequestsPerMinute is the budget.
	RequestsPerMinute() int
}

// Options configure a Refresher.
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
	// Audit, when set, judges the idle and paused seats of the
	// organisations whose audit log it has read, while audit_log is on.
	Audit *auditlog.Reader
	// SharedRequests is what else spends the token's budget in each cycle
	// (the audit log's steady polling when it shares the token), counted
	// into the falling-behind accounting.
	SharedRequests func() int
}

// Refresher runs collection cycles and publishes each result as a new
// Snapshot.
type Refresher struct {
	src     Source
	opts    Options
	current atomic.Pointer[Snapshot]
	ready   atomic.Bool

	// On scrape: concurrent scrapes share one cycle (shared), which runs
	// for as long as one of them still waits (audience).
	shared   singleflight.Group
	audience audience

	listing     busy // a cycle is counting
	firstCounts firstCounts
}

// NewRefresher returns a Refresher whose first Snapshot is empty and down.
func NewRefresher(src Source, opts Options) *Refresher {
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
	r := &Refresher{src: src, opts: opts}
	r.firstCounts = firstCounts{log: opts.Logger, now: opts.Now, counting: map[string]*firstCount{}}
	r.current.Store(&Snapshot{})
	return r
}

// Background reports whether Run collects (true) or each scrape does.
func (r *Refresher) Background() bool { return r.opts.Interval > 0 }

// Interval is the background refresh interval, 0 on scrape.
func (r *Refresher) Interval() time.Duration { return r.opts.Interval }

// Freshness says how old the published numbers can be, for the HELP texts.
func (r *Refresher) Freshness() string {
	if r.Background() {
		return "Cached: refreshed every " + r.opts.Interval.String() + " in the background."
	}
	return "Collected at scrape time."
}

// Snapshot returns the latest published snapshot.
func (r *Refresher) Snapshot() *Snapshot { return r.current.Load() }

// Ready reports whether the exporter has numbers to serve: on scrape it
// always may try; in the background, once a cycle has reached Asana.
func (r *Refresher) Ready() bool { return !r.Background() || r.ready.Load() }

// Waiting says what a Refresher that is not Ready waits for.
func (r *Refresher) Waiting() string {
	if counts := r.firstCounts.String(); counts != "" {
		return "waiting for the first count of workspace memberships: " + counts
	}
	return "waiting for the first collection to reach Asana"
}

// Run counts now and then every Interval until ctx is done, each cycle
// within one interval. On scrape there is nothing to run, and it returns.
func (r *Refresher) Run(ctx context.Context) {
	if !r.Background() {
		return
	}
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		cycleCtx, cancel := context.WithTimeout(ctx, r.opts.Interval)
		r.Refresh(cycleCtx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WaitIdle returns once no cycle is counting, or with ctx's error: what
// shares the token waits, so the seat counts go first.
func (r *Refresher) WaitIdle(ctx context.Context) error { return r.listing.wait(ctx) }

// Refresh runs one cycle within ctx and publishes its snapshot.
func (r *Refresher) Refresh(ctx context.Context) *Snapshot { return r.RefreshShowing(ctx, nil) }

// Progress gives a workspace's listing a Tally that shows how it goes.
type Progress func(asana.Workspace) asana.Tally

// RefreshShowing is Refresh, with each listing shown by progress (a
// command's progress lines); nil logs a workspace's first count instead.
func (r *Refresher) RefreshShowing(ctx context.Context, progress Progress) *Snapshot {
	var deadline time.Duration
	if d, ok := ctx.Deadline(); ok {
		deadline = d.Sub(r.opts.Now())
	}
	return r.run(ctx, func() time.Duration { return deadline }, progress)
}

// BeforeScrape returns the snapshot a scrape serves. In the background that
// is the latest one. On scrape, it is one counted for this scrape:
// concurrent callers share one cycle, and a caller whose ctx ends before the
// cycle does gets a snapshot in which no workspace was counted in time.
//
// The shared cycle runs on a context of its own, not on the first caller's:
// it lasts while any caller still waits, so a scraper with a long timeout
// that joins one with a short timeout (a Prometheus HA pair, or two jobs)
// gets a complete count, and a scraper that disconnects takes nobody's
// count with it. It stops once the last caller has gone.
func (r *Refresher) BeforeScrape(ctx context.Context) *Snapshot {
	if r.Background() {
		return r.Snapshot()
	}
	joined := r.opts.Now()
	deadline, _ := ctx.Deadline()
	defer r.audience.leave(r.audience.join(deadline))
	result := r.shared.DoChan("cycle", func() (any, error) {
		cycleCtx, done := r.audience.open()
		defer done()
		start := time.Now()
		// The cycle's deadline is known only once it ends: a caller may
		// join at any time.
		return r.run(cycleCtx, func() time.Duration {
			d, _ := cycleCtx.Deadline()
			return max(d.Sub(start), 0)
		}, nil), nil
	})
	select {
	case res := <-result:
		return res.Val.(*Snapshot)
	case <-ctx.Done():
		return r.tooLate(ctx.Err(), r.opts.Now().Sub(joined))
	}
}

// tooLate is what a scrape that stopped waiting serves: the workspaces as
// last published, none of them counted for it. It is not published: the
// cycle goes on for those still waiting.
func (r *Refresher) tooLate(err error, waited time.Duration) *Snapshot {
	snap := *r.Snapshot()
	snap.Workspaces = slices.Clone(snap.Workspaces)
	for i := range snap.Workspaces {
		w := &snap.Workspaces[i]
		w.Success, w.Seats, w.Err, w.Duration = false, nil, err, waited
	}
	return &snap
}

// run runs one cycle, judges it against the budget and its deadline, and
// publishes it.
func (r *Refresher) run(ctx context.Context, deadline func() time.Duration, progress Progress) *Snapshot {
	prev := r.Snapshot()
	r.listing.start()
	snap := r.cycle(ctx, prev, progress)
	r.listing.end()
	snap.Deadline = deadline()
	r.budget(prev, snap)
	r.current.Store(snap)
	if snap.Up {
		r.ready.Store(true)
	}
	return snap
}

// cycle collects every workspace once. A workspace is either counted by one
// complete listing or publishes no new numbers: never a partial count.
func (r *Refresher) cycle(ctx context.Context, prev *Snapshot, progress Progress) *Snapshot {
	cfg := r.opts.Config() // one config for the whole cycle, even across a reload
	log := r.opts.Logger
	visible, err := r.src.Workspaces(ctx)
	if err != nil {
		// Once per failure, not once per cycle: a revoked token or
		// refresh token would otherwise repeat the line at every scrape.
		if prev.Up || prev.Err == nil || prev.Err.Error() != err.Error() {
			log.Error("Cannot list Asana workspaces", "err", err)
		} else {
			log.Debug("Still cannot list Asana workspaces", "err", err)
		}
		states := make([]WorkspaceState, len(prev.Workspaces))
		for i, p := range prev.Workspaces {
			p.Duration = 0 // no listing was attempted
			states[i] = r.failed(cfg, p, p, err)
		}
		return &Snapshot{Up: false, Err: err, Workspaces: states}
	}

	if prev.Err != nil {
		log.Info("Asana can be reached again")
	}
	targets, skipped := Targets(cfg, visible)
	states := make([]WorkspaceState, len(targets))
	sem := make(chan struct{}, cfg.WorkspaceConcurrency)
	var wg sync.WaitGroup
	for i, w := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				// A bug must cost one workspace one cycle, not the exporter.
				if p := recover(); p != nil {
					log.Error("Panic while counting a workspace; please report it", "workspace_gid", w.GID, "panic", p)
					old := previous(prev, w.GID)
					states[i] = r.failed(cfg, base(cfg, w, old), old, errors.New("panic while counting; please report it"))
				}
			}()
			states[i] = r.collect(ctx, cfg, w, prev, progress)
		})
	}
	wg.Wait()
	for i := range states {
		states[i].Listed = listed(visible, states[i].GID)
	}
	logFailures(log, states)
	return &Snapshot{Up: true, Workspaces: states, NotCollected: skipped}
}

// logFailures logs a cycle's failed workspaces in one line: an
// organisation with 50,000 workspaces that all fail the same way (a revoked
// token, an outage) would otherwise log 50,000 lines a cycle. The line
// names the first failure; --config.check and asana_collection_success
// show every one.
func logFailures(log *slog.Logger, states []WorkspaceState) {
	var first *WorkspaceState
	failed, distinct := 0, map[string]bool{}
	for i := range states {
		if s := &states[i]; s.Err != nil {
			failed++
			distinct[s.Err.Error()] = true
			if first == nil {
				first = s
			}
		}
	}
	if first == nil {
		return
	}
	log.Error("Cannot count workspace memberships", "failed_workspaces", failed, "workspaces", len(states),
		"distinct_errors", len(distinct), "first_workspace_gid", first.GID, "err", first.Err)
}

// budget works out whether the organisation can be counted within the
// cycle's deadline at the token's request budget, and says so in the log
// when that changes.
func (r *Refresher) budget(prev, snap *Snapshot) {
	snap.Requests = 1 // GET /workspaces
	if r.opts.SharedRequests != nil {
		snap.Requests += r.opts.SharedRequests()
	}
	outOfBudget := false
	for _, w := range snap.Workspaces {
		snap.Requests += max(w.Pages, 1)
		outOfBudget = outOfBudget || w.OutOfBudget
	}
	snap.MinDuration = r.src.MinDuration(snap.Requests)
	snap.FallingBehind = outOfBudget || (snap.Deadline > 0 && snap.MinDuration > snap.Deadline)
	switch {
	case snap.FallingBehind && !prev.FallingBehind:
		r.opts.Logger.Warn("The organisation is too big to count within the deadline at the token's request budget; "+
			"raise --asana.refresh-interval (or requests_per_minute in the config file, if the plan allows more)",
			"requests_per_refresh", snap.Requests, "requests_per_minute", r.src.RequestsPerMinute(),
			"min_duration", snap.MinDuration.Round(time.Second), "deadline", snap.Deadline.Round(time.Second),
			"listing_stopped_by_budget", outOfBudget)
	case !snap.FallingBehind && prev.FallingBehind:
		r.opts.Logger.Info("The organisation can be counted within the deadline again",
			"requests_per_refresh", snap.Requests, "min_duration", snap.MinDuration.Round(time.Second), "deadline", snap.Deadline.Round(time.Second))
	}
}

// Targets splits the workspaces the token can see into those the config
// collects and those it does not, each sorted by gid. A workspace listed in
// the config but not visible to the token is collected (and fails), so that
// the failure shows in asana_collection_success and --config.check.
func Targets(cfg *config.Config, visible []asana.Workspace) (collected, skipped []asana.Workspace) {
	for _, w := range visible {
		if cfg.Collects(w.GID) {
			collected = append(collected, w)
		} else {
			skipped = append(skipped, w)
		}
	}
	for _, gid := range cfg.ListedButAbsent(func(gid string) bool { return listed(visible, gid) }) {
		collected = append(collected, asana.Workspace{GID: gid}) // not listed: no name
	}
	byGID := func(a, b asana.Workspace) int { return cmp.Compare(a.GID, b.GID) }
	slices.SortFunc(collected, byGID)
	slices.SortFunc(skipped, byGID)
	return collected, skipped
}

// listed reports whether GET /workspaces listed gid.
func listed(visible []asana.Workspace, gid string) bool {
	return slices.ContainsFunc(visible, func(v asana.Workspace) bool { return v.GID == gid })
}

// base is what is known of a workspace before its listing: its name and
// type, and its contract's seats, price and renewal from the config.
func base(cfg *config.Config, w asana.Workspace, old WorkspaceState) WorkspaceState {
	state := WorkspaceState{GID: w.GID, Name: w.Name, IsOrganization: w.IsOrganization}
	if ws := cfg.Workspace(w.GID); ws != nil {
		state.SeatsPurchased, state.SeatPrice = ws.SeatsPurchased, ws.SeatPrice
		if ws.RenewalDate != nil {
			state.RenewalDate = ws.RenewalDate.Time
		}
	}
	if state.Name == "" { // listed in the config but not visible: keep what we knew
		state.Name, state.IsOrganization = old.Name, old.IsOrganization
	}
	return state
}

func (r *Refresher) collect(ctx context.Context, cfg *config.Config, w asana.Workspace, prev *Snapshot, progress Progress) WorkspaceState {
	old := previous(prev, w.GID)
	state := base(cfg, w, old)
	start := r.opts.Now()
	var opts asana.CountOptions
	if progress != nil {
		opts.Progress = progress(w)
	} else if old.LastSuccess.IsZero() {
		first := r.firstCounts.start(w, start)
		defer r.firstCounts.end(w.GID)
		opts.Progress = first
	}
	if cfg.EmailDomainCheck {
		opts.EmailDomains = w.EmailDomains
	}
	var tally *auditlog.Tally
	if l := r.ledger(cfg, w); l != nil {
		if tally = l.Tally(start, cfg.AuditLog.IdleDays); tally != nil {
			opts.Tally = tally
		}
	}
	listing, err := r.src.CountSeats(ctx, w.GID, opts)
	end := r.opts.Now()
	state.Duration = end.Sub(start)
	if err != nil {
		state.OutOfBudget = errors.Is(err, asana.ErrBudgetExhausted)
		return r.failed(cfg, state, old, err)
	}
	r.opts.Logger.Debug("Counted workspace memberships", "workspace_gid", w.GID, "pages", listing.Pages,
		"restarts", listing.Restarts, "duration", state.Duration, "licensed", listing.Seats.Licensed)
	state.Seats = &listing.Seats
	if tally != nil {
		usage := tally.Usage()
		state.Usage = &usage
	}
	state.Pages = listing.Pages
	state.Success = true
	state.LastSuccess = end
	return state
}

// failed is state after an attempt that failed with err: no success, and
// the previous numbers only in the background and while they are fresh
// enough to publish.
func (r *Refresher) failed(cfg *config.Config, state, old WorkspaceState, err error) WorkspaceState {
	state.Success, state.Seats, state.Usage, state.Err = false, nil, nil, err
	state.LastSuccess, state.Pages = old.LastSuccess, old.Pages
	maxAge := time.Duration(cfg.MaxStaleness)
	if r.Background() && old.Seats != nil && r.opts.Now().Sub(old.LastSuccess) <= maxAge {
		state.Seats, state.Usage = old.Seats, old.Usage
	}
	return state
}

// previous is a workspace's state in the previous snapshot, or the zero
// state.
func previous(prev *Snapshot, gid string) WorkspaceState {
	if i := slices.IndexFunc(prev.Workspaces, func(p WorkspaceState) bool { return p.GID == gid }); i >= 0 {
		return prev.Workspaces[i]
	}
	return WorkspaceState{}
}

// ledger is the audit log's Ledger for an organisation, nil when there is
// none to judge by.
func (r *Refresher) ledger(cfg *config.Config, w asana.Workspace) *auditlog.Ledger {
	if r.opts.Audit == nil || !cfg.AuditLog.Enabled || !w.IsOrganization {
		return nil
	}
	return r.opts.Audit.Ledger(w.GID)
}

// busy counts the cycles under way, and lets others wait until none is.
type busy struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (b *busy) start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		b.idle = make(chan struct{})
	}
	b.n++
}

func (b *busy) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n--; b.n == 0 {
		close(b.idle)
	}
}

func (b *busy) wait(ctx context.Context) error {
	b.mu.Lock()
	idle := b.idle
	n := b.n
	b.mu.Unlock()
	if n == 0 {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
