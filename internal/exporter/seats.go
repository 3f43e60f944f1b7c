package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/privatefile"
	"github.com/asana-exporter/asana_exporter/internal/reconcile"
	"github.com/asana-exporter/asana_exporter/internal/roster"
	"github.com/asana-exporter/asana_exporter/internal/summary"
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

	// IdleDays, when above 0, keeps the seats idle that many days or more
	// (--idle).
	IdleDays int
	// ConsoleExport is an Admin Console members export whose last-activity
	// dates tell idle seats where the audit log cannot.
	ConsoleExport string
	// BOM starts a CSV with a byte-order mark; Wide keeps every column of
	// the table.
	BOM, Wide bool
	// Summary writes the renewal summary instead of the roster: the
	// numbers of each workspace and the idle seats' people.
	Summary bool
	// Now is when idle days are counted to; zero is the time the command
	// runs.
	Now time.Time

	// Reconcile is an Admin Console members export to compare with.
	Reconcile string
	// EmailColumn, TypeColumn and ActivityColumn override the export's
	// guessed columns.
	EmailColumn, TypeColumn, ActivityColumn string
	// DemoConsoleExport, with the demo, writes the simulated
	// organisation's Admin Console export to this file.
	DemoConsoleExport string
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
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	if opts.Summary && !opts.FormatSet {
		opts.Format = roster.Table
	}
	switch {
	case opts.Format == summary.HTML && !opts.Summary:
		return errors.New("--format=html applies to --summary only: the roster and --reconcile write csv, json or table")
	case opts.Summary && (opts.Reconcile != "" || opts.DemoConsoleExport != ""):
		return errors.New("--summary does not apply with --reconcile or --demo.console-export: run them apart")
	case opts.DemoConsoleExport != "":
		return e.writeConsoleExport(ctx, opts.DemoConsoleExport, out)
	case opts.Reconcile != "":
		return e.reconcile(ctx, opts, out, errOut)
	case opts.ConsoleExport == "" && (opts.EmailColumn != "" || opts.TypeColumn != "" || opts.ActivityColumn != ""):
		return errors.New("--reconcile.email-column, --reconcile.type-column and --reconcile.activity-column apply only with --reconcile=FILE or --console-export=FILE")
	case opts.Summary && len(opts.States) > 0:
		return errors.New("--state does not apply to --summary: the summary counts every state; use --state without --summary for the rows")
	}
	states, err := parseStates(opts.States)
	if err != nil {
		return err
	}
	if opts.BOM && opts.Format != roster.CSV {
		return fmt.Errorf("--bom applies to --format=csv only: a byte-order mark is for spreadsheets that open a CSV file")
	}
	filter := roster.ListOptions{States: states, IdleDays: opts.IdleDays}
	if opts.Summary { // it counts every state and judges idle seats by each threshold itself
		filter = roster.ListOptions{}
	}
	targets, _, err := e.seatTargets(ctx, opts.Workspaces)
	if err != nil {
		return err
	}
	listings, listOpts, err := e.listSeats(ctx, targets, opts, filter, errOut)
	if err != nil {
		return err
	}
	defer listings.Close()
	if opts.Summary {
		return e.summary(listings, listOpts, opts, out, errOut)
	}
	wopts := roster.WriteOptions{Format: opts.Format, BOM: opts.BOM}
	if !opts.Wide {
		wopts.Width = roster.TableWidth
		wopts.Dropped = func(cols []string) {
			fmt.Fprintf(errOut, "%s: the table leaves out %s and shows dates without the time, to fit %d columns; "+
				"--wide or --format=csv shows them all\n", Program, strings.Join(cols, ", "), roster.TableWidth)
		}
	}
	if err := writeOutput(listings, opts.Output, "roster", out, func(w io.Writer) error { return listings.Write(w, wopts) }); err != nil {
		return err
	}
	describeRows(listings, listOpts, errOut)
	if failed := listings.Failed(); len(failed) > 0 {
		return fmt.Errorf("%d of %d workspace(s) could not be listed; their rows are missing", len(failed), len(listings))
	}
	return nil
}

// writeOutput writes what (the roster, the summary) to out, or whole or
// not at all, with mode 0600, to the file output. While a listing failed
// it leaves output as it was: a file half of whose workspaces are missing
// would pass for the whole.
func writeOutput(listings roster.Listings, output, what string, out io.Writer, write func(io.Writer) error) error {
	var err error
	switch failed := listings.Failed(); {
	case output == "":
		err = write(out)
	case len(failed) > 0:
		return fmt.Errorf("%d of %d workspace(s) could not be listed; %s was not written", len(failed), len(listings), output)
	default:
		err = privatefile.Write(output, write)
	}
	if err != nil {
		return fmt.Errorf("writing the %s: %w", what, err)
	}
	return nil
}

// listSeats lists the rosters of targets, filtered as
// filter says, with the audit log's columns when the config reads it. A
// listing that failed is in the result with its Err, which listSeats has
// told errOut.
func (e *Exporter) listSeats(ctx context.Context, targets targets, opts SeatsOptions, filter roster.ListOptions, errOut io.Writer) (roster.Listings, roster.ListOptions, error) {
	cfg := e.config.Get()
	listOpts := filter
	listOpts.Prices = prices(cfg)
	if opts.IdleDays > 0 && !cfg.AuditLog.Enabled && opts.ConsoleExport == "" {
		return nil, listOpts, errors.New("--idle needs to know when each person was last active: turn on audit_log.enabled in the config " +
			"(Enterprise+, with a service account) or give --console-export=FILE, the members list exported from the Admin Console (every plan)")
	}
	if opts.ConsoleExport != "" {
		console, err := readConsole("console-export", opts.ConsoleExport,
			reconcile.ReadOptions{EmailColumn: opts.EmailColumn, ActivityColumn: opts.ActivityColumn}, errOut)
		if err != nil {
			return nil, listOpts, err
		}
		if err := console.RequireActivity(); err != nil {
			return nil, listOpts, fmt.Errorf("--console-export: %w", err)
		}
		listOpts.Console = func(string) roster.Activity { return consoleActivity{console} }
	}
	if cfg.AuditLog.Enabled {
		listOpts.History = e.ledger
		e.readAuditLog(ctx, targets, errOut)
	}
	// Now is taken once the audit log is read, as the metric's is: taken
	// before, the history would look younger than its 90 days, and seats
	// idle since its start would miss the 90-day threshold by the reading's
	// few seconds.
	listOpts.Now = opts.now()
	listings := e.listRoster(ctx, targets, listOpts)
	for _, l := range listings.Failed() {
		fmt.Fprintf(errOut, "%s: workspace %s: no rows written: %v\n", Program, l.Workspace.GID, l.Err)
	}
	return listings, listOpts, nil
}

// consoleActivity is the last activity the Admin Console's export gives a
// person, by email. An export is one organisation's: a member of another
// workspace is not in it, and so unknown.
type consoleActivity struct{ console *reconcile.Console }

func (c consoleActivity) LastActivity(email string) (time.Time, bool) {
	i := c.console.Find(email)
	if i < 0 {
		return time.Time{}, false
	}
	return c.console.LastActivity(i)
}

func (o *SeatsOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// describeRows says on errOut how many rows each workspace has, and once
// for each reason why a column is empty, the workspaces it concerns.
func describeRows(listings roster.Listings, opts roster.ListOptions, errOut io.Writer) {
	const (
		noActivity = "idle_days and activity_source are empty for %s: no audit log (audit_log.enabled in the config: Enterprise+ " +
			"with a service account) and no --console-export=FILE (the Admin Console's members export, on every plan)"
		plainWorkspace = "idle_days and activity_source are empty for %s: a workspace that is not an organisation has no audit log; " +
			"--console-export=FILE can give its members' last activity"
		noPrice = "monthly_price is empty for %s: set seat_price for the workspace in the config file"
	)
	var reasons []string
	concern := map[string][]string{}
	for _, l := range listings {
		if l.Err != nil {
			continue
		}
		w := l.Workspace
		auditLog, consoleExport, price := l.Sources()
		rows := fmt.Sprintf("%d rows", l.Rows())
		var why []string
		switch {
		case auditLog || consoleExport:
			rows += fmt.Sprintf(", %d with idle_days", l.Dated())
		case opts.History != nil && !w.IsOrganization:
			why = append(why, plainWorkspace)
		case opts.History == nil:
			why = append(why, noActivity)
		} // else the audit log could not be read, and readAuditLog said why
		fmt.Fprintf(errOut, "%s: workspace %s (%s): %s\n", Program, w.GID, w.Name, rows)
		if !price {
			why = append(why, noPrice)
		}
		for _, r := range why {
			if concern[r] == nil {
				reasons = append(reasons, r)
			}
			concern[r] = append(concern[r], w.GID)
		}
	}
	for _, r := range reasons {
		fmt.Fprintf(errOut, "%s: "+r+"\n", Program, "workspace "+strings.Join(concern[r], ", "))
	}
}

// prices are the configured monthly seat prices by workspace gid.
func prices(cfg *config.Config) map[string]float64 {
	p := map[string]float64{}
	for _, w := range cfg.ListedWorkspaces() {
		if w.SeatPrice != nil {
			p[w.GID] = *w.SeatPrice
		}
	}
	return p
}

// readAuditLog brings the organisations' audit log state up to date before
// the roster, each organisation's reader at once: from the state file of
// --storage.path that is a few requests, without it a read of 90 days. If
// it fails, the roster goes on without the audit log's columns.
func (e *Exporter) readAuditLog(ctx context.Context, t targets, errOut io.Writer) {
	b := e.newBoard()
	show := b.auditLogs(t.all())
	errs := make([]error, len(t))
	var wg sync.WaitGroup
	for i, o := range t {
		var orgs []string
		for _, w := range o.workspaces {
			if w.IsOrganization {
				orgs = append(orgs, w.GID)
			}
		}
		wg.Go(func() {
			if errs[i] = o.org.collection.ReadAuditLogs(ctx, orgs, show); errs[i] != nil && o.org.name != "" {
				errs[i] = fmt.Errorf("organization %s: %w", o.org.name, errs[i])
			}
		})
	}
	wg.Wait()
	err := errors.Join(errs...)
	b.finishAll(err)
	b.stop()
	if err != nil {
		fmt.Fprintf(errOut, "%s: the audit log could not be read, so its columns (last_login_at, licence_paused, and idle_days "+
			"unless --console-export gives them) stay empty: %v\n", Program, err)
	}
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
