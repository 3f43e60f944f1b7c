package collect

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// firstCountLogEvery is how often a workspace's first count is logged: an
// organisation of a million memberships takes 7 minutes or more, and a log
// that says nothing meanwhile looks hung.
const firstCountLogEvery = 30 * time.Second

// firstCounts are the workspaces being counted for the first time: each
// logs its progress, and /-/ready says what it waits for.
type firstCounts struct {
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	counting map[string]*firstCount
}

func (f *firstCounts) start(w asana.Workspace, at time.Time) *firstCount {
	c := &firstCount{w: w, log: f.log, now: f.now, start: at, logged: at}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counting[w.GID] = c
	return c
}

func (f *firstCounts) end(gid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.counting, gid)
}

// String lists the counts under way, by gid.
func (f *firstCounts) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, gid := range slices.Sorted(maps.Keys(f.counting)) {
		parts = append(parts, f.counting[gid].String())
	}
	return strings.Join(parts, "; ")
}

// firstCount is an asana.Tally that follows one workspace's first listing.
type firstCount struct {
	w          asana.Workspace
	log        *slog.Logger
	now        func() time.Time
	start      time.Time
	mu         sync.Mutex
	pages, mem int
	logged     time.Time
}

func (c *firstCount) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pages, c.mem = 0, 0
}

func (c *firstCount) Add(page []asana.Membership) {
	c.mu.Lock()
	c.pages++
	c.mem += len(page)
	now := c.now()
	due := now.Sub(c.logged) >= firstCountLogEvery
	if due {
		c.logged = now
	}
	pages, mem := c.pages, c.mem
	c.mu.Unlock()
	if due {
		// The total is not known before a first count ends, so neither is
		// the time left.
		c.log.Info("Counting workspace memberships for the first time", "workspace_gid", c.w.GID, "pages", pages, "memberships", mem,
			"pages_per_second", fmt.Sprintf("%.1f", float64(pages)/now.Sub(c.start).Seconds()), "time_left", "unknown")
	}
}

func (c *firstCount) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%s (%s): %d pages, %d memberships so far", c.w.Name, c.w.GID, c.pages, c.mem)
}
