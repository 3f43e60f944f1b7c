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

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
)

// Source is the part of the Asana client a Refresher uses.
type Source interface {
	Workspaces(ctx context.Context) ([]asana.Workspace, error)
	CountSeats(ctx context.Context, workspaceGID string) (asana.SeatListing, error)
}

// Options configure a Refresher.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// RetainStale keeps a failing workspace's last complete numbers for up
	// to Config.MaxStaleness (background mode). Without it a failed
	// workspace publishes no numbers at all (on-scrape mode).
	RetainStale bool
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Refresher runs collection cycles and publishes each result as a new
// Snapshot. Concurrent Refresh calls share one cycle, so N scrapes cost one
// set of API calls.
type Refresher struct {
	src     Source
	opts    Options
	config  atomic.Pointer[config.Config]
	current atomic.Pointer[Snapshot]
	ready   atomic.Bool

	mu     sync.Mutex
	flight *flight
}

type flight struct {
	done chan struct{}
	snap *Snapshot
}

// NewRefresher returns a Refresher whose first Snapshot is empty and down.
func NewRefresher(src Source, opts Options) *Refresher {
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Refresher{src: src, opts: opts}
	r.config.Store(opts.Config)
	r.current.Store(&Snapshot{})
	return r
}

// SetConfig makes the next cycle use cfg (a reload); a cycle already
// running finishes with the config it started with.
func (r *Refresher) SetConfig(cfg *config.Config) { r.config.Store(cfg) }

// Config returns the config the next cycle will use.
func (r *Refresher) Config() *config.Config { return r.config.Load() }

// Snapshot returns the latest published snapshot.
func (r *Refresher) Snapshot() *Snapshot { return r.current.Load() }

// Ready reports whether a cycle has reached Asana yet.
func (r *Refresher) Ready() bool { return r.ready.Load() }

// Run refreshes now and then every interval until ctx is done. Each cycle
// may take at most one interval.
func (r *Refresher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		cycleCtx, cancel := context.WithTimeout(ctx, interval)
		r.Refresh(cycleCtx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh runs one cycle, or joins the one already running, and returns
// the snapshot it published. A caller whose ctx ends first gets the latest
// snapshot instead.
func (r *Refresher) Refresh(ctx context.Context) *Snapshot {
	r.mu.Lock()
	if f := r.flight; f != nil {
		r.mu.Unlock()
		select {
		case <-f.done:
			return f.snap
		case <-ctx.Done():
			return r.Snapshot()
		}
	}
	f := &flight{done: make(chan struct{})}
	r.flight = f
	r.mu.Unlock()

	f.snap = r.cycle(ctx)
	r.current.Store(f.snap)
	if f.snap.Up {
		r.ready.Store(true)
	}
	r.mu.Lock()
	r.flight = nil
	r.mu.Unlock()
	close(f.done)
	return f.snap
}

// cycle collects every workspace once. A workspace is either counted by one
// complete listing or publishes no new numbers: never a partial count.
func (r *Refresher) cycle(ctx context.Context) *Snapshot {
	prev := r.Snapshot()
	cfg := r.Config() // one config for the whole cycle, even across a reload
	var deadline time.Duration
	if d, ok := ctx.Deadline(); ok {
		deadline = d.Sub(r.opts.Now())
	}
	log := r.opts.Logger
	visible, err := r.src.Workspaces(ctx)
	if err != nil {
		log.Error("Cannot list Asana workspaces", "err", err)
		states := make([]WorkspaceState, len(prev.Workspaces))
		for i, p := range prev.Workspaces {
			p.Duration = 0 // no listing was attempted
			states[i] = r.failed(cfg, p, p)
		}
		return r.budget(cfg, prev, &Snapshot{Up: false, Workspaces: states, Deadline: deadline})
	}

	targets := r.targets(cfg, visible)
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
					r.opts.Logger.Error("Panic while counting a workspace; please report it", "workspace_gid", w.GID, "panic", p)
					old := previous(prev, w.GID)
					states[i] = r.failed(cfg, base(cfg, w, old), old)
				}
			}()
			states[i] = r.collect(ctx, cfg, w, prev)
		})
	}
	wg.Wait()
	return r.budget(cfg, prev, &Snapshot{Up: true, Workspaces: states, Deadline: deadline})
}

// budget works out whether the organisation can be counted within the
// cycle's deadline at the token's request budget, and says so in the log
// when that changes.
func (r *Refresher) budget(cfg *config.Config, prev, snap *Snapshot) *Snapshot {
	snap.Requests = 1 // GET /workspaces
	outOfBudget := false
	for _, w := range snap.Workspaces {
		snap.Requests += max(w.Pages, 1)
		outOfBudget = outOfBudget || w.OutOfBudget
	}
	snap.MinDuration = asana.MinDuration(snap.Requests, cfg.RequestsPerMinute)
	snap.FallingBehind = outOfBudget || (snap.Deadline > 0 && snap.MinDuration > snap.Deadline)
	switch {
	case snap.FallingBehind && !prev.FallingBehind:
		r.opts.Logger.Warn("The organisation is too big to count within the deadline at the token's request budget; "+
			"raise --asana.refresh-interval (or requests_per_minute, if the plan allows more)",
			"requests_per_refresh", snap.Requests, "requests_per_minute", cfg.RequestsPerMinute,
			"min_duration", snap.MinDuration.Round(time.Second), "deadline", snap.Deadline.Round(time.Second),
			"listing_stopped_by_budget", outOfBudget)
	case !snap.FallingBehind && prev.FallingBehind:
		r.opts.Logger.Info("The organisation can be counted within the deadline again",
			"requests_per_refresh", snap.Requests, "min_duration", snap.MinDuration.Round(time.Second), "deadline", snap.Deadline.Round(time.Second))
	}
	return snap
}

// targets picks the workspaces to collect, sorted by gid. A workspace
// listed in the config but not visible to the token is kept, so that its
// failure shows in asana_collection_success.
func (r *Refresher) targets(cfg *config.Config, visible []asana.Workspace) []asana.Workspace {
	var out []asana.Workspace
	for _, w := range visible {
		if cfg.Collects(w.GID) {
			out = append(out, w)
		}
	}
	for _, gid := range cfg.ListedButAbsent(func(gid string) bool {
		return slices.ContainsFunc(visible, func(v asana.Workspace) bool { return v.GID == gid })
	}) {
		out = append(out, asana.Workspace{GID: gid})
	}
	slices.SortFunc(out, func(a, b asana.Workspace) int { return cmp.Compare(a.GID, b.GID) })
	return out
}

// base is what is known of a workspace before its listing: its name and
// type, and its purchased seats from the config.
func base(cfg *config.Config, w asana.Workspace, old WorkspaceState) WorkspaceState {
	state := WorkspaceState{GID: w.GID, Name: w.Name, IsOrganization: w.IsOrganization}
	if ws := cfg.Workspace(w.GID); ws != nil {
		state.SeatsPurchased = ws.SeatsPurchased
	}
	if state.Name == "" { // listed in the config but not visible: keep what we knew
		state.Name, state.IsOrganization = old.Name, old.IsOrganization
	}
	return state
}

func (r *Refresher) collect(ctx context.Context, cfg *config.Config, w asana.Workspace, prev *Snapshot) WorkspaceState {
	old := previous(prev, w.GID)
	state := base(cfg, w, old)
	start := r.opts.Now()
	listing, err := r.src.CountSeats(ctx, w.GID)
	end := r.opts.Now()
	state.Duration = end.Sub(start)
	if err != nil {
		r.opts.Logger.Error("Cannot count workspace memberships", "workspace_gid", w.GID, "err", err)
		state.OutOfBudget = errors.Is(err, asana.ErrBudgetExhausted)
		return r.failed(cfg, state, old)
	}
	r.opts.Logger.Debug("Counted workspace memberships", "workspace_gid", w.GID, "pages", listing.Pages,
		"restarts", listing.Restarts, "duration", state.Duration, "licensed", listing.Seats.Licensed)
	state.Seats = &listing.Seats
	state.Pages = listing.Pages
	state.Success = true
	state.LastSuccess = end
	return state
}

// failed is state after a failed attempt: no success, and the previous
// numbers only while they are fresh enough to publish.
func (r *Refresher) failed(cfg *config.Config, state, old WorkspaceState) WorkspaceState {
	state.Success, state.Seats = false, nil
	state.LastSuccess, state.Pages = old.LastSuccess, old.Pages
	maxAge := time.Duration(cfg.MaxStaleness)
	if r.opts.RetainStale && old.Seats != nil && r.opts.Now().Sub(old.LastSuccess) <= maxAge {
		state.Seats = old.Seats
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
