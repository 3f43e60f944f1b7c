// Command asana_exporter exports how many Asana seats an organisation uses
// and pays for, from Asana's workspace memberships API, as Prometheus
// metrics. main parses the flags and serves; internal/exporter wires the
// rest.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
	"github.com/asana-exporter/asana_exporter/internal/summary"
)

const defaultPort = ":9861"

// pprofFlag turns profiling on.
const pprofFlag = "web.enable-pprof"

// The commands; serve is the default.
const (
	serveCommand = "serve"
	seatsCommand = "seats"
	loginCommand = "oauth login"
	planCommand  = "reclaim plan"
	applyCommand = "reclaim apply"
	undoCommand  = "reclaim undo"
)

// flags are the command line; kingpin fills them in.
type flags struct {
	command          string
	exporter         exporter.Options
	seats            exporter.SeatsOptions
	reclaim          exporter.ReclaimOptions
	login            exporter.LoginOptions
	configCheck      bool
	quiet            bool
	refreshSetByUser bool
	maxProcs         int
	web              *web.FlagConfig
	log              *promslog.Config
}

// newApp declares the command line: the app's flags, its commands and
// theirs, filling f when parsed.
func newApp() (*kingpin.Application, *flags) {
	app := kingpin.New(exporter.Program, "Prometheus exporter for Asana seats: licensed, view-only, guest and inactive workspace memberships.")
	f := &flags{log: &promslog.Config{}}
	o := &f.exporter
	app.Flag("config.file", "Optional YAML file: purchased seats, workspace selection, staleness (see config.example.yml).").
		PlaceHolder("FILE").StringVar(&o.ConfigFile)
	app.Flag("config.check", "Validate the config file and the token against Asana, run one refresh and print what it collected, then exit.").
		BoolVar(&f.configCheck)
	app.Flag("asana.url", "Asana API root.").Default(asana.DefaultBaseURL).StringVar(&o.AsanaURL)
	app.Flag("asana.token-file", "File holding the Asana personal access token or service-account token. Without it the "+exporter.TokenEnv+" environment variable is used.").
		PlaceHolder("FILE").StringVar(&o.TokenFile)
	app.Flag("asana.audit-token-file", "File holding a service account's token for the audit log alone (idle and paused seats), "+
		"with a request budget of its own. Without it the audit log is read with the main credentials.").
		PlaceHolder("FILE").StringVar(&o.AuditTokenFile)
	app.Flag("storage.path", "Directory in which to keep the audit log's state (stream positions, last logins), so that a restart "+
		"resumes instead of reading 90 days again and history older than Asana's 90 days is kept.").
		PlaceHolder("DIR").StringVar(&o.StoragePath)
	app.Flag("asana.oauth.client-id", "OAuth app's client id, to authenticate as an OAuth app (Full permissions) instead of with a token.").
		PlaceHolder("ID").StringVar(&o.OAuth.ClientID)
	app.Flag("asana.oauth.client-secret-file", "File holding the OAuth app's client secret.").
		PlaceHolder("FILE").StringVar(&o.OAuth.ClientSecretFile)
	app.Flag("asana.oauth.refresh-token-file", "File holding the OAuth refresh token (asana_exporter oauth login writes it).").
		PlaceHolder("FILE").StringVar(&o.OAuth.RefreshTokenFile)
	app.Flag("asana.oauth.token-url", "OAuth token endpoint. Default: /-/oauth_token on the --asana.url host.").
		PlaceHolder("URL").StringVar(&o.OAuth.TokenURL)
	app.Flag("organization", "Count only this organization, a name under organizations: in the config file; repeatable. "+
		"Default: every one. Applies to the server, --config.check, seats and reclaim.").
		PlaceHolder("NAME").StringsVar(&o.Organizations)
	durationVar(app.Flag("asana.refresh-interval", "How often to count seats in the background; 0 counts at every scrape instead.").
		Default("5m").IsSetByUser(&f.refreshSetByUser), &o.RefreshInterval)
	durationVar(app.Flag("asana.timeout-offset", "On-scrape mode: finish this long before Prometheus's scrape timeout.").
		Default("500ms"), &o.TimeoutOffset)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.TelemetryPath)
	app.Flag(pprofFlag, "Serve Go's profiles (net/http/pprof) under /debug/pprof/ and link them from the landing page. "+
		"Off by default: a profile costs CPU while it runs.").BoolVar(&o.EnablePprof)
	// As in node_exporter: the exporter waits on the network almost all the
	// time, and with one P a page or a scrape wakes one thread, not several.
	intVar(app.Flag("runtime.gomaxprocs", "The target number of CPUs Go will run on (GOMAXPROCS).").
		Envar("GOMAXPROCS").Default("1"), &f.maxProcs, 1, math.MaxInt, "a number of CPUs")
	app.Flag("reclaim.journal", "Export what reclaim apply and undo did (asana_reclaim_*) from this journal, read at each scrape.").
		PlaceHolder("FILE").StringVar(&o.ReclaimJournal)
	app.Flag("demo", "Run against a built-in simulated Asana organisation on loopback; no token needed.").BoolVar(&o.Demo)
	app.Flag("quiet", "--config.check, seats and reclaim: show no progress and no informational log lines on standard error, "+
		"only warnings and errors.").BoolVar(&f.quiet)
	f.web = kingpinflag.AddFlags(app, defaultPort)
	flag.AddFlags(app, f.log)
	checked(app.GetFlag(flag.LevelFlagName), "one of "+strings.Join(promslog.LevelFlagOptions, ", "), f.log.Level)
	checked(app.GetFlag(flag.FormatFlagName), "one of "+strings.Join(promslog.FormatFlagOptions, ", "), f.log.Format)
	app.Version(version.Print(exporter.Program))
	app.HelpFlag.Short('h')

	app.Command(serveCommand, "Serve the seat metrics (the default command).").Default()
	addSeatsCommand(app, &f.seats)
	addReclaimCommands(app, &f.reclaim)
	oauth := app.Command("oauth", "OAuth app helpers.")
	login := oauth.Command("login", "Authorize the OAuth app once, in a browser (authorization code with PKCE), and write its refresh token "+
		"to --asana.oauth.refresh-token-file, mode 0600.")
	intVar(login.Flag("oauth.port", "Port of the loopback redirect URL http://127.0.0.1:PORT/callback registered with the app.").
		Default("8912"), &f.login.Port, 0, math.MaxUint16, "a port")
	login.Flag("oauth.authorize-url", "Authorization endpoint. Default: /-/oauth_authorize on the --asana.url host.").
		PlaceHolder("URL").StringVar(&f.login.AuthURL)
	login.Flag("force", "Replace a refresh token already in the file.").BoolVar(&f.login.Force)
	durationVar(login.Flag("timeout", "How long to wait for the browser.").Default("5m"), &f.login.Timeout)
	return app, f
}

func parseFlags(args []string) (*flags, error) {
	app, f := newApp()
	o := &f.exporter
	command, err := app.Parse(args)
	if err != nil {
		return nil, explain(app, args, err)
	}
	f.command = command
	if err := refuseUnread(app, args, command, f.configCheck); err != nil {
		return nil, err
	}
	if o.RefreshInterval < 0 {
		return nil, errors.New("--asana.refresh-interval must not be negative")
	}
	if f.seats.Timeout < 0 || f.reclaim.Timeout < 0 {
		return nil, errors.New("--timeout must not be negative")
	}
	if o.Demo && !f.refreshSetByUser {
		o.RefreshInterval = exporter.DemoRefreshInterval
	}
	return f, nil
}

// addSeatsCommand declares the seats command and its flags; the app's
// flags (token, URL, config, demo) apply to it too.
func addSeatsCommand(app *kingpin.Application, s *exporter.SeatsOptions) {
	seats := app.Command(seatsCommand, "Write who holds each seat: one row per workspace membership, with the user's name and email, "+
		"its state as the metrics count it, is_admin, whether the email is inside the organisation's domains, and created_at. "+
		"Uses the token, --asana.url, --config.file and --demo as the exporter does.")
	enumVar(seats.Flag("format", "Output format: csv (safe to open in a spreadsheet), json (one object per line; one document for --summary) "+
		"or table; html for --summary only. Default: csv for the roster, table for --reconcile and --summary.").
		Default(string(roster.CSV)).IsSetByUser(&s.FormatSet), (*string)(&s.Format), summary.Formats...)
	seats.Flag("state", "Only rows in this state (licensed, view_only, guest, inactive); repeatable.").
		PlaceHolder("STATE").StringsVar(&s.States)
	seats.Flag("workspace", "Only this workspace gid; repeatable. Default: the workspaces the exporter collects.").
		PlaceHolder("GID").StringsVar(&s.Workspaces)
	seats.Flag("output", "Write to FILE (mode 0600, whole or not at all) instead of standard output.").
		PlaceHolder("FILE").StringVar(&s.Output)
	durationVar(seats.Flag("timeout", "Give up after this long: a listing still running then fails, and its workspace's rows are not written.").
		Default("2h"), &s.Timeout)
	checked(seats.Flag("idle", "Only the seats idle this long or longer (whole days, e.g. 60d), by the rule of asana_workspace_seats_idle: "+
		"active licensed or view-only, no activity for that long, a membership older than that, a licence not paused. "+
		"Needs the audit log (audit_log.enabled) or --console-export. With --summary: the threshold whose idle seats are priced "+
		"(default 60d).").PlaceHolder("DURATION"), idleDaysTakes, &idleDays{&s.IdleDays})
	seats.Flag("console-export", "Read last activity from FILE, the members list exported from the Admin Console as CSV (every plan), "+
		"where the audit log cannot tell; with both, the later date counts.").PlaceHolder("FILE").StringVar(&s.ConsoleExport)
	seats.Flag("bom", "Start the CSV with a UTF-8 byte-order mark, for spreadsheets that otherwise garble accented names "+
		"(Excel on Windows opening the file by double-click).").BoolVar(&s.BOM)
	seats.Flag("wide", fmt.Sprintf("--format=table: every column and whole timestamps, however wide; "+
		"otherwise the table leaves columns out to fit %d columns and says which.", roster.TableWidth)).BoolVar(&s.Wide)
	seats.Flag("summary", "Write the renewal summary instead of the roster: per workspace the seats purchased, licensed, paused, billed, "+
		"view-only, guests, licensed members outside the email domains, idle seats at each audit_log.idle_days threshold, what the seats "+
		"idle 60 days (or --idle) cost a month and until the renewal; with --format=html, one page with charts and the idle seats' "+
		"people, to print or mail (write it with --output: mode 0600).").BoolVar(&s.Summary)
	seats.Flag("reconcile", "Compare with FILE, the members list exported from the Admin Console as CSV, person by person. "+
		"Exit status 0 when they agree, 1 when they differ, 2 on trouble.").PlaceHolder("FILE").StringVar(&s.Reconcile)
	seats.Flag("reconcile.email-column", "The header of the export's email column, if the guess is wrong.").
		PlaceHolder("HEADER").StringVar(&s.EmailColumn)
	seats.Flag("reconcile.type-column", "The header of the export's licence or type column, if the guess is wrong.").
		PlaceHolder("HEADER").StringVar(&s.TypeColumn)
	seats.Flag("reconcile.activity-column", "The header of the export's last-activity column, if the guess is wrong; "+
		"with it, --reconcile also counts the idle seats at each audit_log.idle_days.").
		PlaceHolder("HEADER").StringVar(&s.ActivityColumn)
	seats.Flag("demo.console-export", "With --demo: write the simulated organisation's Admin Console members export to FILE, to try --reconcile on.").
		PlaceHolder("FILE").StringVar(&s.DemoConsoleExport)
}

// addReclaimCommands declares reclaim plan, apply and undo and their
// flags; the app's flags (token, URL, config, demo) apply to them too.
func addReclaimCommands(app *kingpin.Application, r *exporter.ReclaimOptions) {
	group := app.Command("reclaim", "Free the seats nobody uses: plan (changes nothing), apply (a dry run unless --yes), undo.")
	plan := group.Command("plan", "Write the plan: the seats that meet --idle and/or --outside-domains, one CSV row each with the reason, "+
		"the evidence and the proposed action, and say on standard error how many and what they cost. Changes nothing in Asana. "+
		"Never proposed: admins, the token's own user, memberships younger than --idle, paused licences, anyone in --exclude.")
	checked(plan.Flag("idle", "Propose the seats idle this long or longer (whole days, e.g. 60d), by the rule of asana_workspace_seats_idle. "+
		"Needs the audit log (audit_log.enabled) or --console-export.").PlaceHolder("DURATION"), idleDaysTakes, &idleDays{&r.IdleDays})
	plan.Flag("outside-domains", "Propose the licensed members whose email is outside the workspace's email domains (action: review, "+
		"since making them guests is an Admin Console action; remove when they are idle too).").BoolVar(&r.OutsideDomains)
	plan.Flag("output", "The plan file to write (CSV, mode 0600, whole or not at all).").PlaceHolder("FILE").StringVar(&r.Output)
	plan.Flag("bom", "Start the plan with a UTF-8 byte-order mark, for spreadsheets that otherwise garble accented names.").BoolVar(&r.BOM)
	plan.Flag("workspace", "Only this workspace gid; repeatable. Default: the workspaces the exporter collects.").
		PlaceHolder("GID").StringsVar(&r.Workspaces)
	apply := group.Command("apply", "Remove the members the plan holds (POST removeUser), re-checking each just before: a member "+
		"who is active again, an admin, paused, already removed or excluded is skipped with the reason. A dry run unless --yes. "+
		"Every action goes to --journal; a rerun repeats nothing.")
	apply.Flag("plan", "The plan file, as reclaim plan wrote it and a person edited it (rows deleted to keep those people).").
		PlaceHolder("FILE").StringVar(&r.Plan)
	longest := model.Duration(reclaim.LongestMaxAge)
	checked(apply.Flag("max-age", fmt.Sprintf("Refuse a plan older than this (at most %s).", longest)).Default("7d"),
		fmt.Sprintf("a duration above 0 and at most %s; write it as 7d, 48h or 2w", longest), &planAge{&r.MaxAge})
	for _, c := range []*kingpin.CmdClause{plan, apply} {
		c.Flag("console-export", "Read last activity from FILE, the members list exported from the Admin Console as CSV (every plan), "+
			"where the audit log cannot tell.").PlaceHolder("FILE").StringVar(&r.ConsoleExport)
		durationVar(c.Flag("timeout", "Give up the listings and re-checks after this long.").Default("2h"), &r.Timeout)
	}
	undo := group.Command("undo", "Add back (POST addUser, by email) the members the journal says were removed. In an organisation "+
		"each gets an invitation. A dry run unless --yes.")
	for _, c := range []*kingpin.CmdClause{plan, apply, undo} {
		c.Flag("exclude", "FILE of emails or user gids never to touch (undo: never to add back), one a line; # starts a comment.").
			PlaceHolder("FILE").SetValue(&fileFlag{"exclude", &r.Exclude})
	}
	for _, c := range []*kingpin.CmdClause{apply, undo} {
		c.Flag("journal", "The journal: every action, JSON lines, mode 0600, appended and synced before the next action.").
			PlaceHolder("FILE").StringVar(&r.Journal)
		c.Flag("yes", "Act. Without it, say what would be done and change nothing.").BoolVar(&r.Yes)
		intVar(c.Flag("max", fmt.Sprintf("Act on at most this many members per run (1 to %d).", reclaim.MaxPerRun)).
			Default(strconv.Itoa(reclaim.DefaultMax)), &r.Max, 1, reclaim.MaxPerRun, "a number of members")
	}
}

func main() {
	err := run(os.Args[1:], os.Stdout)
	if err == nil {
		return
	}
	code := 1
	var exit *exporter.ExitError
	if errors.As(err, &exit) {
		code = exit.Code
	}
	if exit == nil || exit.Err != nil {
		fmt.Fprintln(os.Stderr, exporter.Program+": "+err.Error())
	}
	os.Exit(code)
}

func run(args []string, stdout io.Writer) error {
	// SIGHUP is caught from the start: its default action would kill the
	// process if one came before the reload loop runs.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	if f.quiet && f.log.Level.Level() < slog.LevelWarn {
		// --quiet asks for the answer alone: warnings and errors still show.
		_ = f.log.Level.Set("warn") // a level promslog knows
	}
	logger := promslog.New(f.log)
	runtime.GOMAXPROCS(f.maxProcs)
	if f.command == loginCommand {
		f.login.OAuth, f.login.AsanaURL, f.login.Logger = f.exporter.OAuth, f.exporter.AsanaURL, logger
		return exporter.Login(ctx, f.login, stdout)
	}
	f.exporter.Logger = logger
	if !f.quiet {
		f.exporter.ProgressOutput = os.Stderr
	}
	e, err := exporter.New(f.exporter)
	if err != nil {
		return err
	}
	defer e.Close()
	switch {
	case f.command == seatsCommand:
		return e.Seats(ctx, f.seats, stdout, os.Stderr)
	case f.command == planCommand:
		return e.ReclaimPlan(ctx, f.reclaim, os.Stderr)
	case f.command == applyCommand:
		return e.ReclaimApply(ctx, f.reclaim, stdout, os.Stderr)
	case f.command == undoCommand:
		return e.ReclaimUndo(ctx, f.reclaim, stdout, os.Stderr)
	case f.configCheck:
		return e.Check(ctx, stdout)
	}

	logger.Info("Starting "+exporter.Program, "version", version.Info(), "build_context", version.BuildContext(), "gomaxprocs", f.maxProcs)
	if f.exporter.Demo {
		logger.Info("Demo mode: counting a simulated Asana organisation", "asana_url", e.AsanaURL())
	}
	l, err := listen(f.web)
	if err != nil {
		return err
	}
	if err := e.Preflight(ctx); err != nil {
		l.close()
		return err
	}
	go e.Run(ctx, hup)
	srv := &http.Server{
		Handler: e.Handler(),
		// Requests share the signal context: SIGTERM cancels an on-scrape
		// collection in flight, so shutdown does not wait for Asana.
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// On-scrape mode answers within the scrape timeout, which is capped
		// at MaxScrapeTimeout.
		WriteTimeout: collect.MaxScrapeTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
	}
	if url := l.url(f.exporter.TelemetryPath); f.exporter.Demo && url != "" {
		fmt.Fprintf(stdout, "asana_exporter demo: metrics at %s (simulated Asana at %s)\n", url, e.AsanaURL())
	}
	served := make(chan error, 1)
	go func() { served <- l.serve(srv, logger) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		logger.Info("Shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}
