package progress

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// clock is a time the test moves.
type clock struct{ at atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.at.Load()) }
func (c *clock) advance(d time.Duration) { c.at.Add(int64(d)) }
func newClock() *clock {
	c := &clock{}
	c.at.Store(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// lines reads what a Board wrote, after Stop: the Board writes under its
// lock, and Stop waits for its goroutine, so a plain buffer will do.
func lines(b *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// TestPlainLinesAtMostEveryTenSeconds: off a terminal a task prints a
// plain line 10 s after it starts and then every 10 s at most, says pages,
// items, rate and "time left unknown" when nothing tells it, never holds a
// control character (even from a label), and nothing once finished. In a
// bubble: the Board's own redraw, every second of the real clock, would
// otherwise land between the test's steps on a slow enough machine.
func TestPlainLinesAtMostEveryTenSeconds(t *testing.T) {
	synctest.Test(t, plainLinesAtMostEveryTenSeconds)
}

func plainLinesAtMostEveryTenSeconds(t *testing.T) {
	c := newClock()
	var out bytes.Buffer
	b := New(&out, Options{Now: c.now, Every: 10 * time.Second})
	acme := b.Task("Acme Corp (1)", "memberships")
	evil := b.Task("Evil\x1b[2J (2)", "memberships")
	for second := 1; second <= 35; second++ {
		c.advance(time.Second)
		acme.Page(100)
		evil.Page(10)
		b.draw()
	}
	acme.Finish(nil)
	evil.Finish(errors.New("boom"))
	c.advance(time.Minute)
	b.draw()
	b.Stop()
	got := lines(&out)
	if len(got) != 6 { // at 10, 20 and 30 s, for each
		t.Fatalf("%d lines, want 6 (3 per task, none after they finished):\n%s", len(got), strings.Join(got, "\n"))
	}
	if want := "Acme Corp (1): 10 pages, 1,000 memberships, 1.0 pages/s, time left unknown"; got[0] != want {
		t.Errorf("first line %q, want %q", got[0], want)
	}
	if want := "Acme Corp (1): 30 pages, 3,000 memberships, 1.0 pages/s, time left unknown"; got[4] != want {
		t.Errorf("fifth line %q, want %q", got[4], want)
	}
	for _, l := range got {
		if strings.ContainsAny(l, "\x1b\r") {
			t.Errorf("a plain line holds a control character: %q", l)
		}
	}
}

// TestTerminalRedrawsInPlace: on a terminal every redraw goes back up over
// the lines it drew and clears each, lines are cut to the width, and the
// time left comes from the share of the work done when the task knows it.
func TestTerminalRedrawsInPlace(t *testing.T) {
	c := newClock()
	var out bytes.Buffer
	b := New(&out, Options{Terminal: true, Width: 90, Now: c.now, Redraw: time.Hour})
	audit := b.Task("Globex (2) audit log", "events")
	long := b.Task(strings.Repeat("Very long workspace name ", 5), "memberships")
	c.advance(30 * time.Second)
	audit.Page(100)
	audit.Covered(0.25) // a quarter in 30 s: 90 s left
	long.Page(1)
	b.draw()
	audit.Finish(nil)
	b.Stop() // draws the final state
	text := out.String()
	frames := strings.Split(text, "\x1b[2A")
	if len(frames) != 2 {
		t.Fatalf("want a first frame, then one that goes back up 2 lines:\n%q", text)
	}
	if !strings.Contains(frames[0], "\r\x1b[2KGlobex (2) audit log: 1 pages, 100 events, 0.0 pages/s, time left 1m30s\n") {
		t.Errorf("first frame %q", frames[0])
	}
	if !strings.Contains(frames[1], "Globex (2) audit log: 1 pages, 100 events, done in 30s") {
		t.Errorf("final frame %q does not say the task is done", frames[1])
	}
	for _, line := range strings.Split(text, "\n") {
		_, text, _ := strings.Cut(line, "\x1b[2K")
		if len([]rune(text)) > 89 {
			t.Errorf("a line of %d columns on a 90-column terminal: %q", len([]rune(text)), text)
		}
	}
}
