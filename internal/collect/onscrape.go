package collect

import (
	"context"
	"slices"
	"time"
)

// BeforeScrape returns the snapshot a scrape serves. In the background that
// is the latest one. On scrape, it is one counted for this scrape:
// concurrent callers share one cycle, and a caller whose ctx ends before the
// cycle does gets a snapshot in which no workspace was counted in time.
//
// The shared cycle runs on a context of its own, not on the first caller's:
// it lasts while any caller still waits, so a scraper with a long timeout
// that joins one with a short timeout (a Prometheus HA pair, or two jobs)
// gets a complete count, and a scraper that disconnects takes nobody's
// count with it. The last caller waiting stops it a handover before its
// deadline and gets the workspaces counted by then.
func (c *Collection) BeforeScrape(ctx context.Context) *Snapshot {
	if c.Background() {
		return c.Snapshot()
	}
	joined := c.opts.Now()
	deadline, ok := ctx.Deadline()
	cycle := c.audience.join(deadline, func(ctx context.Context, deadline func() time.Duration) *Snapshot {
		return c.run(ctx, deadline, nil)
	})
	defer c.audience.leave(cycle)
	stop := ctx // when this caller, if alone, stops the cycle
	if ok {
		var cancel context.CancelFunc
		stop, cancel = context.WithDeadline(ctx, deadline.Add(-handover))
		defer cancel()
	}
	select {
	case <-cycle.done:
		return cycle.snap
	case <-stop.Done():
		c.audience.stopIfAlone(cycle)
	}
	select {
	case <-cycle.done:
		return cycle.snap
	case <-ctx.Done():
		return c.tooLate(ctx.Err(), c.opts.Now().Sub(joined))
	}
}

// tooLate is what a scrape that stopped waiting serves: the workspaces as
// last published, none of them counted for it. It is not published: the
// cycle goes on for those still waiting.
func (c *Collection) tooLate(err error, waited time.Duration) *Snapshot {
	snap := *c.Snapshot()
	snap.Workspaces = slices.Clone(snap.Workspaces)
	for i := range snap.Workspaces {
		w := &snap.Workspaces[i]
		w.Success, w.Seats, w.Err, w.Duration = false, nil, err, waited
	}
	return &snap
}
