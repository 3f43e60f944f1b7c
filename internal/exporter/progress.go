package exporter

import (
	"slices"
	"sync"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/progress"
)

// board shows a command's listings on Options.ProgressOutput, one line per
// workspace. A nil board (--quiet) shows nothing.
type board struct {
	*progress.Board
	mu    sync.Mutex
	tasks map[string]*progress.Task // by workspace gid
}

func (e *Exporter) newBoard() *board {
	if e.opts.ProgressOutput == nil {
		return nil
	}
	return &board{Board: progress.New(e.opts.ProgressOutput, progress.Detect(e.opts.ProgressOutput)), tasks: map[string]*progress.Task{}}
}

// task is the workspace's line, added at its first use.
func (b *board) task(w asana.Workspace, unit, what string) *progress.Task {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := w.GID + " " + what
	if b.tasks[key] == nil {
		label := w.GID
		if w.Name != "" {
			label = w.Name + " (" + w.GID + ")"
		}
		b.tasks[key] = b.Task(label+what, unit)
	}
	return b.tasks[key]
}

// listings shows each workspace's membership listing. On a nil board it
// still replaces the log of a first count, which a command does not want.
func (b *board) listings() collect.ListingDisplay {
	return func(w asana.Workspace) asana.Tally {
		if b == nil {
			return nil
		}
		return b.task(w, "memberships", "").Tally()
	}
}

// finish ends a workspace's listing line with its outcome.
func (b *board) finish(w asana.Workspace, err error) {
	if b != nil {
		b.task(w, "memberships", "").Finish(err)
	}
}

// finishAll ends every line not ended yet with err.
func (b *board) finishAll(err error) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.tasks {
		t.Finish(err)
	}
}

func (b *board) stop() {
	if b != nil {
		b.Stop()
	}
}

// auditLogs shows each organisation's read of its audit log; on a nil
// board it still keeps the log quiet.
func (b *board) auditLogs(targets []asana.Workspace) func(gid string) auditlog.Display {
	return func(gid string) auditlog.Display {
		if b == nil {
			return quiet{}
		}
		i := slices.IndexFunc(targets, func(w asana.Workspace) bool { return w.GID == gid })
		return b.task(targets[i], "events", " audit log")
	}
}

type quiet struct{}

func (quiet) Page(int)        {}
func (quiet) Covered(float64) {}
