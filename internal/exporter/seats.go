package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// SeatsOptions are the seats command's flags.
type SeatsOptions struct {
	Format     roster.Format
	FormatSet  bool     // Format was given, not the default
	States     []string // state names; none: every state
	Workspaces []string // gids; none: every workspace the config collects
	Output     string   // file; "" writes to standard output
	// Timeout bounds the whole command: a listing still running then
	// fails, and a Retry-After beyond it is not waited for. 0: none.
	Timeout time.Duration

	// Reconcile is an Admin Console members export to compare with.
	Reconcile string
	// EmailColumn, TypeColumn and ActivityColumn override the export's
	// guessed columns.
	EmailColumn, TypeColumn, ActivityColumn string
	// ConsoleExport, with the demo, writes the simulated organisation's
	// Admin Console export to this file.
	ConsoleExport string
}

// ExitError carries the exit status a command wants, as diff has them: 1
// for a difference found, 2 for trouble. Err is nil when the output said
// it all.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Seats is the seats command: the roster of the workspaces the config
// collects (or those --workspace names), one row per membership, written
// to out or, whole or not at all, to opts.Output. A workspace whose listing
// fails contributes no row; its error goes to errOut, no --output file is
// written, and Seats fails.
func (e *Exporter) Seats(ctx context.Context, opts SeatsOptions, out, errOut io.Writer) error {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	switch {
	case opts.ConsoleExport != "":
		return e.writeConsoleExport(ctx, opts.ConsoleExport, out)
	case opts.Reconcile != "":
		return e.reconcile(ctx, opts, out, errOut)
	case opts.EmailColumn != "" || opts.TypeColumn != "" || opts.ActivityColumn != "":
		return errors.New("--reconcile.email-column, --reconcile.type-column and --reconcile.activity-column apply only with --reconcile=FILE")
	}
	states, err := parseStates(opts.States)
	if err != nil {
		return err
	}
	targets, err := e.seatTargets(ctx, opts.Workspaces)
	if err != nil {
		return err
	}
	e.readAuditLog(ctx, targets, errOut)
	listings := e.listRoster(ctx, targets, roster.ListOptions{States: states, History: e.audit.Ledger})
	defer listings.Close()
	failed := listings.Failed()
	for _, l := range failed {
		fmt.Fprintf(errOut, "%s: workspace %s: no rows written: %v\n", Program, l.Workspace.GID, l.Err)
	}
	switch {
	case opts.Output == "":
		err = listings.Write(out, opts.Format)
	case len(failed) > 0:
		return fmt.Errorf("%d of %d workspace(s) could not be listed; %s was not written", len(failed), len(listings), opts.Output)
	default:
		err = listings.WriteFile(opts.Output, opts.Format)
	}
	if err != nil {
		return fmt.Errorf("writing the roster: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d workspace(s) could not be listed; their rows are missing", len(failed), len(listings))
	}
	return nil
}

// listRoster lists the targets' rosters, showing how each listing goes.
func (e *Exporter) listRoster(ctx context.Context, targets []asana.Workspace, opts roster.ListOptions) roster.Listings {
	b := e.newBoard()
	defer b.stop()
	opts.Concurrency, opts.Progress = e.config.Get().WorkspaceConcurrency, b.listings()
	listings := roster.List(ctx, e.client, targets, opts)
	for _, l := range listings {
		b.finish(l.Workspace, l.Err)
	}
	return listings
}

// readAuditLog brings the organisations' audit log state up to date before
// the roster, when audit_log is on: from the state file of --storage.path
// that is a few requests, without it a read of 90 days. If it fails, the
// roster goes on without the audit log's columns.
func (e *Exporter) readAuditLog(ctx context.Context, targets []asana.Workspace, errOut io.Writer) {
	if !e.config.Get().AuditLog.Enabled {
		return
	}
	var orgs []string
	for _, w := range targets {
		if w.IsOrganization {
			orgs = append(orgs, w.GID)
		}
	}
	b := e.newBoard()
	err := e.audit.PollOrganisations(ctx, orgs, b.auditLogs(targets))
	b.finishAll(err)
	b.stop()
	if err != nil {
		fmt.Fprintf(errOut, "%s: the audit log could not be read, so last_login_at and licence_paused stay empty: %v\n", Program, err)
	}
}

// seatTargets are the workspaces to list: those the config collects, or
// the ones named (which the token must see).
func (e *Exporter) seatTargets(ctx context.Context, named []string) ([]asana.Workspace, error) {
	visible, err := e.client.Workspaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing workspaces: %w", err)
	}
	if len(named) == 0 {
		targets, _ := collector.Targets(e.config.Get(), visible)
		return targets, nil
	}
	var targets []asana.Workspace
	for _, gid := range named {
		i := slices.IndexFunc(visible, func(w asana.Workspace) bool { return w.GID == gid })
		if i < 0 {
			return nil, fmt.Errorf("--workspace=%s: the token cannot see that workspace; it sees %s", gid, describe(visible))
		}
		if !slices.ContainsFunc(targets, func(w asana.Workspace) bool { return w.GID == gid }) {
			targets = append(targets, visible[i])
		}
	}
	return targets, nil
}

func describe(ws []asana.Workspace) string {
	if len(ws) == 0 {
		return "none"
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.GID + " (" + w.Name + ")"
	}
	return strings.Join(names, ", ")
}

func parseStates(names []string) ([]asana.State, error) {
	var states []asana.State
	for _, n := range names {
		st, ok := asana.ParseState(n)
		if !ok {
			all := make([]string, len(asana.States))
			for i, s := range asana.States {
				all[i] = s.String()
			}
			return nil, fmt.Errorf("--state=%s: not a state; use one of %s", n, strings.Join(all, ", "))
		}
		states = append(states, st)
	}
	return states, nil
}
