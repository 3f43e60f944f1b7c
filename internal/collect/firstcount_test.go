package collect_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// pagedOrg is one workspace listed in pages of 100 on a clock that moves
// `step` per page; between pages it calls between.
type pagedOrg struct {
	paidPlan
	pages   int
	clock   *fakeClock
	step    time.Duration
	between func(page int)
}

type fakeClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

func (o *pagedOrg) Workspaces(context.Context) ([]asana.Workspace, error) {
	return []asana.Workspace{{GID: "1", Name: "Big"}}, nil
}

func (o *pagedOrg) CountSeats(_ context.Context, _ string, opts asana.CountOptions) (asana.SeatListing, error) {
	page := make([]asana.Membership, 100)
	if opts.Display != nil {
		opts.Display.Reset()
	}
	for i := range o.pages {
		o.clock.advance(o.step)
		if opts.Display != nil {
			opts.Display.Add(page)
		}
		if o.between != nil {
			o.between(i + 1)
		}
	}
	return asana.SeatListing{Seats: asana.SeatCounts{Licensed: 100 * o.pages}, Pages: o.pages}, nil
}

// TestFirstCountShowsItsProgress: a workspace's first count logs its
// progress every 30 seconds, without a time left (no total is known
// yet), /-/ready's text says what it waits for meanwhile, and the second
// count logs nothing.
func TestFirstCountShowsItsProgress(t *testing.T) {
	clock := &fakeClock{at: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	var logs bytes.Buffer
	org := &pagedOrg{pages: 20, clock: clock, step: 5 * time.Second}
	r := collect.New(org, collect.Options{Interval: time.Hour, Now: clock.now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	var waiting []string
	org.between = func(page int) {
		if page == 10 {
			waiting = append(waiting, r.Waiting())
		}
	}
	r.Refresh(context.Background(), nil)
	lines := strings.Count(logs.String(), "Counting workspace memberships for the first time")
	if lines != 3 { // 100 s of pages: at 30, 60 and 90 s
		t.Errorf("%d progress lines for a 100 s first count, want 3:\n%s", lines, logs.String())
	}
	for _, want := range []string{"workspace_gid=1 pages=6 memberships=600 pages_per_second=0.2 time_left=unknown"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
	if len(waiting) != 1 || waiting[0] != "waiting for the first count of workspace memberships: Big (1): 10 pages, 1000 memberships so far" {
		t.Errorf("Waiting() during the count = %q", waiting)
	}
	if got := r.Waiting(); got != "waiting for the first collection to reach Asana" {
		t.Errorf("Waiting() after the count = %q", got)
	}
	logs.Reset()
	r.Refresh(context.Background(), nil)
	if strings.Contains(logs.String(), "Counting workspace memberships") {
		t.Errorf("a later count logged its progress:\n%s", logs.String())
	}
}
