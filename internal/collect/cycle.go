package collect

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// cycle collects every workspace once. A workspace is either counted by one
// complete listing or publishes no new numbers: never a partial count.
func (c *Collection) cycle(ctx context.Context, cfg *config.Config, prev *Snapshot, display ListingDisplay) *Snapshot {
	log := c.opts.Logger
	visible, err := c.src.Workspaces(ctx)
	if err != nil {
		// Once per failure, not once per cycle: a revoked token or
		// refresh token would otherwise repeat the line at every scrape.
		// A command (display set) reports it itself.
		switch {
		case display != nil:
		case prev.Up || prev.Err == nil || prev.Err.Error() != err.Error():
			log.Error("Cannot list Asana workspaces", "err", err)
		default:
			log.Debug("Still cannot list Asana workspaces", "err", err)
		}
		states := make([]WorkspaceState, len(prev.Workspaces))
		for i, p := range prev.Workspaces {
			p.Duration = 0 // no listing was attempted
			states[i] = c.failed(cfg, p, p, err)
		}
		return &Snapshot{Up: false, Err: err, Workspaces: states}
	}

	if prev.Err != nil {
		log.Info("Asana can be reached again")
	}
	targets, skipped := Targets(cfg, visible)
	states := make([]WorkspaceState, len(targets))
	each(targets, cfg.WorkspaceConcurrency, func(i int, w asana.Workspace) {
		defer func() {
			// A bug must cost one workspace one cycle, not the exporter.
			if p := recover(); p != nil {
				log.Error("Panic while counting a workspace; please report it", "workspace_gid", w.GID, "panic", p)
				old := previous(prev, w.GID)
				states[i] = c.failed(cfg, base(cfg, w, old), old, errors.New("panic while counting; please report it"))
			}
		}()
		states[i] = c.collect(ctx, cfg, w, prev, display)
	})
	for i := range states {
		states[i].Listed = listed(visible, states[i].GID)
	}
	if display == nil { // a command shows each failure itself
		logFailures(log, states)
	}
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
// when that changes, unless a command, which says so itself, runs the
// cycle.
func (c *Collection) budget(cfg *config.Config, prev, snap *Snapshot, command bool) {
	snap.Requests = 1 // GET /workspaces
	snap.Requests += c.audit.sharedRequests(cfg, snap)
	outOfBudget := false
	for _, w := range snap.Workspaces {
		snap.Requests += max(w.Pages, 1)
		outOfBudget = outOfBudget || w.OutOfBudget
	}
	shared := 0
	if c.opts.Shared != nil {
		shared = c.opts.Shared()
	}
	snap.MinDuration = c.src.MinDuration(snap.Requests + shared)
	snap.FallingBehind = outOfBudget || (snap.Deadline > 0 && snap.MinDuration > snap.Deadline)
	switch {
	case command:
	case snap.FallingBehind && !prev.FallingBehind:
		args := []any{"requests_per_refresh", snap.Requests, "requests_per_minute", c.src.RequestsPerMinute(),
			"min_duration", snap.MinDuration.Round(time.Second), "deadline", snap.Deadline.Round(time.Second),
			"listing_stopped_by_budget", outOfBudget}
		if shared > 0 {
			args = append(args, "requests_per_refresh_of_organizations_sharing_the_token", shared)
		}
		c.opts.Logger.Warn("The organisation is too big to count within the deadline at the token's request budget; "+
			"raise --asana.refresh-interval (or requests_per_minute in the config file, if the plan allows more)", args...)
	case !snap.FallingBehind && prev.FallingBehind:
		c.opts.Logger.Info("The organisation can be counted within the deadline again",
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

func (c *Collection) collect(ctx context.Context, cfg *config.Config, w asana.Workspace, prev *Snapshot, display ListingDisplay) WorkspaceState {
	old := previous(prev, w.GID)
	state := base(cfg, w, old)
	start := c.opts.Now()
	var opts asana.CountOptions
	if display != nil {
		opts.Display = display(w)
	} else if old.LastSuccess.IsZero() {
		first := c.firstCounts.start(w, start)
		defer c.firstCounts.end(w.GID)
		opts.Display = first
	}
	if cfg.EmailDomainCheck {
		opts.EmailDomains = w.EmailDomains
	}
	var counter *auditlog.UsageCounter
	if l := c.ledger(cfg, w); l != nil {
		if counter = l.UsageCounter(start, cfg.AuditLog.IdleDays); counter != nil {
			opts.Tally = counter
		}
	}
	listing, err := c.src.CountSeats(ctx, w.GID, opts)
	end := c.opts.Now()
	state.Duration = end.Sub(start)
	if err != nil {
		state.OutOfBudget = errors.Is(err, asana.ErrBudgetExhausted)
		return c.failed(cfg, state, old, err)
	}
	c.opts.Logger.Debug("Counted workspace memberships", "workspace_gid", w.GID, "pages", listing.Pages,
		"restarts", listing.Restarts, "duration", state.Duration, "licensed", listing.Seats.Licensed)
	state.Seats = &listing.Seats
	if counter != nil {
		usage := counter.Usage()
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
func (c *Collection) failed(cfg *config.Config, state, old WorkspaceState, err error) WorkspaceState {
	state.Success, state.Seats, state.Usage, state.Err = false, nil, nil, err
	state.LastSuccess, state.Pages = old.LastSuccess, old.Pages
	maxAge := time.Duration(cfg.MaxStaleness)
	if c.Background() && old.Seats != nil && c.opts.Now().Sub(old.LastSuccess) <= maxAge {
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
func (c *Collection) ledger(cfg *config.Config, w asana.Workspace) *auditlog.Ledger {
	if !cfg.AuditLog.Enabled || !w.IsOrganization {
		return nil
	}
	return c.audit.reader.Ledger(w.GID)
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
