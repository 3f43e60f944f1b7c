package collect

import (
	"context"
	"sync"
	"time"
)

// handover is how long before its latest caller's deadline the shared cycle
// ends, so that its snapshot reaches that caller in time.
const handover = 50 * time.Millisecond

// audience is the callers waiting for the shared on-scrape cycle, and the
// context that cycle runs on.
type audience struct {
	mu      sync.Mutex
	waiting map[*time.Time]bool // each caller's deadline; zero for none
	cycle   *cycleContext       // the running cycle's; nil between cycles
}

// join counts a caller in, until leave(deadline's pointer).
func (a *audience) join(deadline time.Time) *time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting == nil {
		a.waiting = map[*time.Time]bool{}
	}
	a.waiting[&deadline] = true
	if a.cycle != nil && !deadline.IsZero() {
		a.cycle.extend(deadline.Add(-handover))
	}
	return &deadline
}

func (a *audience) leave(caller *time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.waiting, caller)
	if len(a.waiting) == 0 && a.cycle != nil {
		a.cycle.end(context.Canceled)
		a.cycle = nil
	}
}

// open gives a new shared cycle its context: it ends at the latest deadline
// of the callers (less the handover), or when they have all gone (at once,
// if they already have). done releases it.
func (a *audience) open() (ctx context.Context, done func()) {
	c := &cycleContext{done: make(chan struct{})}
	a.mu.Lock()
	defer a.mu.Unlock()
	for d := range a.waiting {
		if !d.IsZero() {
			c.extend(d.Add(-handover))
		}
	}
	if len(a.waiting) == 0 {
		c.end(context.Canceled)
	} else {
		a.cycle = c
	}
	return c, func() {
		a.mu.Lock()
		if a.cycle == c {
			a.cycle = nil
		}
		a.mu.Unlock()
		c.end(context.Canceled)
	}
}

// cycleContext is a context whose deadline moves later as callers join.
// context.WithDeadline's cannot move, and the client reads the deadline at
// each decision (whether a retry, or the next request within the budget,
// still fits), so each decision is made for the caller who waits longest.
// Unlike a standard context, successive calls to Deadline may therefore
// return later times; never earlier ones.
type cycleContext struct {
	done chan struct{}

	mu       sync.Mutex
	deadline time.Time
	timer    *time.Timer
	err      error
}

func (c *cycleContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, !c.deadline.IsZero()
}

func (c *cycleContext) Done() <-chan struct{} { return c.done }

func (c *cycleContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *cycleContext) Value(any) any { return nil }

func (c *cycleContext) extend(deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || !deadline.After(c.deadline) {
		return
	}
	c.deadline = deadline
	if c.timer == nil {
		c.timer = time.AfterFunc(time.Until(deadline), c.expire)
		return
	}
	c.timer.Reset(time.Until(deadline))
}

// expire ends the context at its deadline, unless the deadline moved while
// the timer fired.
func (c *cycleContext) expire() {
	c.mu.Lock()
	moved := time.Now().Before(c.deadline)
	c.mu.Unlock()
	if !moved {
		c.end(context.DeadlineExceeded)
	}
}

func (c *cycleContext) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
	if c.timer != nil {
		c.timer.Stop()
	}
}
