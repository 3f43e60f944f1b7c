package collect

import (
	"context"
	"errors"
	"sync"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// Visible lists the workspaces the token sees.
func (c *Collection) Visible(ctx context.Context) ([]asana.Workspace, error) {
	return c.src.Workspaces(ctx)
}

// Roster lists the workspaces' rosters as the counts list them: at most
// workspace_concurrency at once, on the counts' token.
func (c *Collection) Roster(ctx context.Context, workspaces []asana.Workspace, opts roster.ListOptions) roster.Listings {
	out := make(roster.Listings, len(workspaces))
	each(workspaces, c.opts.Config().WorkspaceConcurrency, func(i int, w asana.Workspace) {
		out[i] = roster.List(ctx, c.src, w, opts)
	})
	return out
}

var errProbed = errors.New("probed")

// Probe checks what no retry can fix before the first cycle: the token,
// the URL, and that the token may read memberships (a granular OAuth token
// may not), with GET /workspaces and one page of the first collected
// workspace's memberships. It returns the workspaces the token sees.
func (c *Collection) Probe(ctx context.Context) ([]asana.Workspace, error) {
	visible, err := c.src.Workspaces(ctx)
	if err != nil {
		return nil, err
	}
	collected, _ := Targets(c.opts.Config(), visible)
	if len(collected) == 0 {
		return visible, nil
	}
	_, err = c.src.EachMembershipPage(ctx, collected[0].GID, asana.SeatFlags, nil, func(asana.MembershipPage) error { return errProbed })
	if errors.Is(err, errProbed) {
		err = nil
	}
	return visible, err
}

// each runs fn for every workspace, at most concurrency at once, and
// returns once all have.
func each(workspaces []asana.Workspace, concurrency int, fn func(i int, w asana.Workspace)) {
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for i, w := range workspaces {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(i, w)
		})
	}
	wg.Wait()
}
