package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/privatefile"
	"github.com/asana-exporter/asana_exporter/internal/reconcile"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// reconcileGCPercent is the collector's GOGC while reconciling, unless the
// environment sets one: the console export's index is a few large slices
// without pointers, which a collection marks without scanning, so that
// collecting when the heap has grown by a quarter rather than doubled costs
// little CPU, and keeps the peak of a 10^6-row export within 200 MB
// (make bench's reconcile-1M).
const reconcileGCPercent = 25

// reconcile is seats --reconcile=FILE: each workspace's roster against the
// Admin Console's export. Its exit status is diff's: 0 when they agree, 1
// when they differ, 2 on trouble.
func (e *Exporter) reconcile(ctx context.Context, opts SeatsOptions, out, errOut io.Writer) error {
	trouble := func(err error) error { return &ExitError{Code: 2, Err: err} }
	if len(opts.States) > 0 || opts.Output != "" {
		return trouble(errors.New("--state and --output do not apply to --reconcile: it compares every membership and writes to standard output"))
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(reconcileGCPercent))
	}
	console, err := readConsole("reconcile", opts.Reconcile, reconcile.ReadOptions{EmailColumn: opts.EmailColumn, TypeColumn: opts.TypeColumn,
		ActivityColumn: opts.ActivityColumn}, errOut)
	if err != nil {
		return trouble(err)
	}
	targets, _, err := e.seatTargets(ctx, opts.Workspaces)
	if err != nil {
		return trouble(err)
	}
	listings := e.listRoster(ctx, targets, roster.ListOptions{})
	defer listings.Close()
	if failed := listings.Failed(); len(failed) > 0 {
		for _, l := range failed {
			fmt.Fprintf(errOut, "%s: workspace %s: %v\n", Program, l.Workspace.GID, l.Err)
		}
		return trouble(fmt.Errorf("%d workspace(s) could not be listed; nothing compared", len(failed)))
	}
	if len(opts.Workspaces) == 0 && len(listings) > 1 {
		best, err := bestMatch(listings, console, errOut)
		if err != nil {
			return trouble(err)
		}
		listings = roster.Listings{best}
	}
	var reports []*reconcile.Report
	defer func() {
		for _, r := range reports {
			r.Close()
		}
	}()
	cfg, now := e.config.Get(), time.Now()
	for _, l := range listings {
		compare := reconcile.CompareOptions{Now: now, IdleDays: cfg.AuditLog.IdleDays}
		if w := cfg.Workspace(l.Workspace.GID); w != nil {
			compare.SeatPrice = w.SeatPrice
		}
		r, err := reconcile.Compare(l.Workspace, console, l.Each, compare)
		if err != nil {
			return trouble(fmt.Errorf("workspace %s: reading its roster back: %w", l.Workspace.GID, err))
		}
		reports = append(reports, r)
	}
	switch {
	case !opts.FormatSet || opts.Format == roster.Table:
		err = reconcile.WriteTable(out, reports, console, opts.Reconcile)
	default:
		err = reconcile.WriteRecords(out, reports, opts.Format == roster.JSON)
	}
	if err != nil {
		return trouble(err)
	}
	for _, r := range reports {
		if r.Differences() > 0 {
			return &ExitError{Code: 1}
		}
	}
	return nil
}

// readConsole reads the Admin Console export at path, given with --flag,
// and tells errOut the rows it skipped and why.
func readConsole(flag, path string, opts reconcile.ReadOptions, errOut io.Writer) (*reconcile.Console, error) {
	console, err := reconcile.ReadFile(path, opts)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	for _, w := range console.Warnings {
		fmt.Fprintf(errOut, "%s: %s: %s\n", Program, path, w)
	}
	return console, nil
}

// bestMatch is the workspace most of the export's emails belong to: an
// export is one organisation's, and the token may see several. It says
// which it chose, and why, on errOut.
func bestMatch(listings roster.Listings, console *reconcile.Console, errOut io.Writer) (*roster.Listing, error) {
	counts := make([]int, len(listings))
	for i, l := range listings {
		seen := make([]bool, console.Len()) // by member: one with two memberships counts once
		err := l.Each(func(e roster.Entry) error {
			if m := console.Find(e.UserEmail); m >= 0 && !seen[m] {
				seen[m] = true
				counts[i]++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	best := 0
	var others []string
	for i, n := range counts {
		if n > counts[best] {
			best = i
		}
	}
	for i, l := range listings {
		if i != best {
			others = append(others, fmt.Sprintf("%s (%s): %d", l.Workspace.GID, l.Workspace.Name, counts[i]))
			if counts[i] == counts[best] {
				return nil, fmt.Errorf("workspaces %s and %s both have %d of the export's members; choose one with --workspace=GID",
					listings[best].Workspace.GID, l.Workspace.GID, counts[best])
			}
		}
	}
	fmt.Fprintf(errOut, "%s: comparing with workspace %s (%s), which has %d of the export's %d members (others: %s); choose another with --workspace=GID\n",
		Program, listings[best].Workspace.GID, listings[best].Workspace.Name, counts[best], console.Len(), strings.Join(others, ", "))
	return listings[best], nil
}

// writeConsoleExport writes the demo organisation's Admin Console export
// of its first organisation, to try --reconcile on.
func (e *Exporter) writeConsoleExport(ctx context.Context, path string, out io.Writer) error {
	if e.demo == nil {
		return errors.New("--demo.console-export needs --demo: it writes the simulated organisation's Admin Console export")
	}
	visible, err := e.organizations()[0].collection.Visible(ctx) // the demo counts one
	if err != nil {
		return err
	}
	var org *asana.Workspace
	for i := range visible {
		if visible[i].IsOrganization {
			org = &visible[i]
			break
		}
	}
	if org == nil {
		return errors.New("the demo has no organisation")
	}
	if err := privatefile.Write(path, func(w io.Writer) error { return e.demo.ConsoleExport(org.GID, w) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: the Admin Console members export of %s (%s), as the simulated organisation would give it.\n"+
		"Compare it with the API: %s seats --demo --reconcile=%s\n", path, org.Name, org.GID, Program, path)
	return nil
}
