package collect

import (
	"context"
	"sync"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// MaxScrapeTimeout caps the time an on-scrape collection may take,
// whatever timeout the scraper announces, and so bounds a shared cycle: no
// scrape waits longer, so a cycle past it has nobody to serve. It is the
// deadline of the cycle's context; the client plans for its callers'
// deadlines (the horizon).
const MaxScrapeTimeout = 5 * time.Minute

// handover is how long before its deadline the last caller waiting for a
// shared cycle stops it, so that the workspaces counted by then reach that
// caller in time.
const handover = 50 * time.Millisecond

// audience is the on-scrape cycle under way, if any: concurrent scrapes
// share it.
type audience struct {
	mu      sync.Mutex
	running *sharedCycle // nil between cycles
}

// sharedCycle is one on-scrape cycle and the callers waiting for it. It
// runs on a standard context of its own, bounded by MaxScrapeTimeout and
// cancelled when its last caller has gone.
type sharedCycle struct {
	cancel context.CancelFunc
	done   chan struct{} // closed once snap is set
	snap   *Snapshot

	// Under audience.mu.
	waiting int       // callers that joined and have not left
	latest  time.Time // the latest deadline a caller announced; zero for none
}

// counter runs a cycle on ctx. deadline is the one its snapshot reports:
// the latest its callers announced, known only once it ends, as a caller
// may join at any time.
type counter func(ctx context.Context, deadline func() time.Duration) *Snapshot

// join counts a caller whose ctx ends at deadline (zero for never) in the
// cycle under way, or in a new one that count runs, until leave.
func (a *audience) join(deadline time.Time, count counter) *sharedCycle {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.running
	if c == nil {
		ctx, cancel := context.WithTimeout(context.Background(), MaxScrapeTimeout)
		c = &sharedCycle{cancel: cancel, done: make(chan struct{})}
		// The client plans its requests for the caller who waits longest:
		// what cannot be counted by then is out of budget, as in the
		// background.
		ctx = asana.WithHorizon(ctx, func() time.Time { return a.horizon(c) })
		a.running = c
		go a.run(ctx, c, count)
	}
	c.waiting++
	if deadline.After(c.latest) {
		c.latest = deadline
	}
	return c
}

// leave counts a caller out; the last one cancels the cycle, which would
// spend the token's budget for nobody.
func (a *audience) leave(c *sharedCycle) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.waiting--; c.waiting == 0 {
		c.cancel()
	}
}

// stopIfAlone cancels c if the caller is the only one waiting for it: the
// cycle then ends at once with what it has counted.
func (a *audience) stopIfAlone(c *sharedCycle) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.waiting == 1 {
		c.cancel()
	}
}

// latest is the latest deadline c's callers announced so far; zero when
// none announced one.
func (a *audience) latest(c *sharedCycle) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return c.latest
}

// horizon is latest less the handover; zero when there is no deadline.
func (a *audience) horizon(c *sharedCycle) time.Time {
	if latest := a.latest(c); !latest.IsZero() {
		return latest.Add(-handover)
	}
	return time.Time{}
}

func (a *audience) run(ctx context.Context, c *sharedCycle, count counter) {
	defer c.cancel()
	start := time.Now()
	c.snap = count(ctx, func() time.Duration {
		if latest := a.latest(c); !latest.IsZero() {
			return max(latest.Sub(start), 0)
		}
		return 0
	})
	a.mu.Lock()
	a.running = nil
	a.mu.Unlock()
	close(c.done)
}
