// Package progress shows how long work goes on standard error: one line
// per workspace, redrawn in place on a terminal, and a plain line now and
// then anywhere else (CI, a pipe, a log file), never with control
// characters there. The redrawing is the few lines it takes (cursor up,
// clear line) rather than a progress-bar library: the lines are text, not
// bars, and golang.org/x/term says whether standard error is a terminal
// and how wide it is.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/cell"
)

// Options tune a Board.
type Options struct {
	// Terminal redraws the lines in place; otherwise a plain line per task
	// is printed every Every at most. Detect fills it in from the writer.
	Terminal bool
	// Width cuts each line on a terminal, so that none wraps. Default 80.
	Width int
	// Every is how often a plain line may be printed per task (default
	// 10s), Redraw how often a terminal is redrawn (default 250ms).
	Every, Redraw time.Duration
	Now           func() time.Time
}

// Detect returns the options for w: a terminal if w is one.
func Detect(w io.Writer) Options {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Options{}
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return Options{Terminal: true, Width: width}
}

// Board shows its tasks' progress on a writer until Stop.
type Board struct {
	out  io.Writer
	opts Options

	mu    sync.Mutex
	tasks []*Task
	drawn int // lines drawn last time on a terminal

	stop chan struct{}
	done chan struct{}
}

// New starts a Board writing to out.
func New(out io.Writer, opts Options) *Board {
	if opts.Width <= 0 {
		opts.Width = 80
	}
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second
	}
	if opts.Redraw <= 0 {
		opts.Redraw = 250 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Board{out: out, opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

func (b *Board) run() {
	defer close(b.done)
	tick := b.opts.Redraw
	if !b.opts.Terminal {
		tick = min(b.opts.Every, time.Second)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			if b.opts.Terminal {
				b.draw() // the lines' final state stays on screen
			}
			return
		case <-t.C:
			b.draw()
		}
	}
}

// Stop draws the final state on a terminal and stops; a plain writer gets
// no more lines: the command's own output says how it ended.
func (b *Board) Stop() {
	close(b.stop)
	<-b.done
}

// Task adds a line. unit names what is counted ("memberships", "events").
func (b *Board) Task(label, unit string) *Task {
	t := &Task{label: label, unit: unit, start: b.opts.Now(), now: b.opts.Now}
	b.mu.Lock()
	b.tasks = append(b.tasks, t)
	b.mu.Unlock()
	return t
}

func (b *Board) draw() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.opts.Now()
	if !b.opts.Terminal {
		for _, t := range b.tasks {
			if line, ok := t.plainLine(now, b.opts.Every); ok {
				fmt.Fprintln(b.out, line)
			}
		}
		return
	}
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn) // back to the first line
	}
	for _, t := range b.tasks {
		sb.WriteString("\r\x1b[2K")
		// Cut to the width: a line that wrapped would throw the cursor
		// arithmetic off.
		sb.WriteString(runewidth.Truncate(cell.Terminal(t.line(now)), b.opts.Width-1, "…"))
		sb.WriteByte('\n')
	}
	b.drawn = len(b.tasks)
	io.WriteString(b.out, sb.String())
}

// Task is one line: a workspace's listing, or its audit log's read.
type Task struct {
	label, unit string
	start       time.Time
	now         func() time.Time

	mu       sync.Mutex
	pages    int
	items    int
	fraction float64 // of the work done, 0 when unknown
	finished time.Time
	err      error
	printed  time.Time // last plain line
}

// Page counts a page of n items.
func (t *Task) Page(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pages++
	t.items += n
}

// Restart starts the count over, as a listing whose offset expired does.
func (t *Task) Restart() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pages, t.items = 0, 0
}

// Covered says what share of the work is done (0..1), when the work knows
// it, such as how much of the audit log's history is read; the time left
// is estimated from it.
func (t *Task) Covered(fraction float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fraction = min(max(fraction, 0), 1)
}

// Finish ends the task, failed if err is not nil.
func (t *Task) Finish(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finished.IsZero() {
		t.finished, t.err = t.now(), err
	}
}

// Tally adapts the task to a membership listing (asana.Tally).
func (t *Task) Tally() asana.Tally { return listingTally{t} }

type listingTally struct{ t *Task }

func (l listingTally) Reset()                    { l.t.Restart() }
func (l listingTally) Add(ms []asana.Membership) { l.t.Page(len(ms)) }

// line is the task's line now.
func (t *Task) line(now time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	head := fmt.Sprintf("%s: %s pages, %s %s", t.label, thousands(t.pages), thousands(t.items), t.unit)
	switch {
	case t.err != nil:
		return head + ", failed: " + t.err.Error()
	case !t.finished.IsZero():
		return head + ", done in " + t.finished.Sub(t.start).Round(100*time.Millisecond).String()
	}
	elapsed := now.Sub(t.start)
	rate := float64(t.pages) / max(elapsed.Seconds(), 1e-3)
	return fmt.Sprintf("%s, %.1f pages/s, time left %s", head, rate, TimeLeft(elapsed, t.fraction))
}

// TimeLeft estimates the rest of a piece of work at the pace so far: the
// share done in elapsed. "unknown" when no share is known (0) or the
// share says nothing is left (1).
func TimeLeft(elapsed time.Duration, done float64) string {
	if done <= 0 || done >= 1 {
		return "unknown"
	}
	return time.Duration(float64(elapsed) * (1 - done) / done).Round(time.Second).String()
}

// plainLine is the task's line for a plain writer, if one is due: while it
// runs, at most every `every`, the first one `every` after its start.
func (t *Task) plainLine(now time.Time, every time.Duration) (string, bool) {
	t.mu.Lock()
	last := t.printed
	if last.IsZero() {
		last = t.start
	}
	due := t.finished.IsZero() && now.Sub(last) >= every
	if due {
		t.printed = now
	}
	t.mu.Unlock()
	if !due {
		return "", false
	}
	return cell.Terminal(t.line(now)), true
}

// thousands writes n with thousands separators: 1,234,567.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
