// Command asana_exporter exports how many Asana seats an organisation uses
// and pays for, from Asana's workspace memberships API, as Prometheus
// metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
)

// maxScrapeTimeout caps the time an on-scrape collection may take, whatever
// timeout the scraper announces.
const maxScrapeTimeout = 5 * time.Minute

// selfMetricsTTL is how long the exporter's own go_* and process_* metrics
// are reused: reading them (/proc and the runtime's statistics) is most of
// a scrape's cost, and no scrape interval is shorter.
const selfMetricsTTL = time.Second

const (
	program     = "asana_exporter"
	defaultPort = ":9861"
	tokenEnv    = "ASANA_TOKEN"
)

// flags are the command line; kingpin fills them in.
type flags struct {
	configFile       string
	configCheck      bool
	asanaURL         string
	tokenFile        string
	refreshInterval  time.Duration
	refreshSetByUser bool
	timeoutOffset    time.Duration
	telemetryPath    string
	maxProcs         int
	demo             bool
	web              *web.FlagConfig
	log              *promslog.Config
}

func parseFlags(args []string) (*flags, error) {
	app := kingpin.New(program, "Prometheus exporter for Asana seats: licensed, view-only, guest and inactive workspace memberships.")
	f := &flags{log: &promslog.Config{}}
	app.Flag("config.file", "Optional YAML file: purchased seats, workspace selection, staleness (see config.example.yml).").
		PlaceHolder("FILE").StringVar(&f.configFile)
	app.Flag("config.check", "Validate the config file and the token against Asana, print what would be collected, then exit.").
		BoolVar(&f.configCheck)
	app.Flag("asana.url", "Asana API root.").Default(asana.DefaultBaseURL).StringVar(&f.asanaURL)
	app.Flag("asana.token-file", "File holding the Asana personal access token or service-account token. Without it the "+tokenEnv+" environment variable is used.").
		PlaceHolder("FILE").StringVar(&f.tokenFile)
	app.Flag("asana.refresh-interval", "How often to count seats in the background; 0 counts at every scrape instead.").
		Default("5m").IsSetByUser(&f.refreshSetByUser).DurationVar(&f.refreshInterval)
	app.Flag("asana.timeout-offset", "On-scrape mode: finish this long before Prometheus's scrape timeout.").
		Default("500ms").DurationVar(&f.timeoutOffset)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.telemetryPath)
	// As in node_exporter: the exporter waits on the network almost all the
	// time, and with one P a page or a scrape wakes one thread, not several.
	app.Flag("runtime.gomaxprocs", "The target number of CPUs Go will run on (GOMAXPROCS).").
		Envar("GOMAXPROCS").Default("1").IntVar(&f.maxProcs)
	app.Flag("demo", "Run against a built-in simulated Asana organisation on loopback; no token needed.").BoolVar(&f.demo)
	f.web = kingpinflag.AddFlags(app, defaultPort)
	flag.AddFlags(app, f.log)
	app.Version(version.Print(program))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	if f.refreshInterval < 0 {
		return nil, errors.New("--asana.refresh-interval must not be negative")
	}
	if f.maxProcs < 1 {
		return nil, errors.New("--runtime.gomaxprocs (or $GOMAXPROCS) must be at least 1")
	}
	return f, nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, program+": "+err.Error())
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	logger := promslog.New(f.log)
	runtime.GOMAXPROCS(f.maxProcs)

	cfg := config.Default()
	if f.configFile != "" {
		if cfg, err = config.Load(f.configFile); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var token string
	if f.demo {
		demo := startDemo(ctx, cfg, f)
		defer demo.Close()
		token = asanatest.DefaultToken
		logger.Info("Demo mode: counting a simulated Asana organisation", "asana_url", f.asanaURL)
	} else if token, err = readToken(f.tokenFile, logger); err != nil {
		return err
	}

	apiMetrics := collector.NewAPIMetrics()
	bearer, err := asana.BearerToken(token, nil)
	if err != nil {
		return err
	}
	client, err := newClient(f.asanaURL, bearer, cfg, apiMetrics, logger)
	if err != nil {
		return err
	}

	if f.configCheck {
		return checkConfig(ctx, client, cfg, f.configFile, f.refreshInterval, stdout)
	}

	logger.Info("Starting "+program, "version", version.Info(), "build_context", version.BuildContext(), "gomaxprocs", f.maxProcs)
	if err := preflight(ctx, client, cfg, logger); err != nil {
		return err
	}

	if f.refreshInterval > 0 && f.refreshInterval < time.Minute && !f.demo {
		logger.Warn("Refreshing more often than every minute spends the token's rate budget on numbers that rarely change",
			"refresh_interval", f.refreshInterval)
	}
	a, err := newApp(client, apiMetrics, bearer, cfg, f, logger)
	if err != nil {
		return err
	}
	go a.reload.onSIGHUP(ctx)
	if a.background {
		go a.refresher.Run(ctx, f.refreshInterval)
	}
	srv := &http.Server{
		Handler: a.handler,
		// Requests share the signal context: SIGTERM cancels an on-scrape
		// collection in flight, so shutdown does not wait for Asana.
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// On-scrape mode answers within the scrape timeout, which is capped
		// at maxScrapeTimeout.
		WriteTimeout: maxScrapeTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, f.web, logger) }()
	if f.demo {
		fmt.Fprintf(stdout, "asana_exporter demo: metrics at http://%s%s (simulated Asana at %s)\n",
			displayAddress((*f.web.WebListenAddresses)[0]), f.telemetryPath, f.asanaURL)
	}
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

func newClient(baseURL string, bearer *asana.Bearer, cfg *config.Config, apiMetrics *collector.APIMetrics, logger *slog.Logger) (*asana.Client, error) {
	return asana.New(asana.Options{
		BaseURL:           baseURL,
		Transport:         bearer,
		UserAgent:         program + "/" + version.Version,
		RequestsPerMinute: cfg.RequestsPerMinute,
		Observer:          apiMetrics,
		Logger:            logger,
	})
}

// app is the exporter without its listener and goroutines: the refresher,
// the reloader and the HTTP handler that run serves.
type app struct {
	refresher  *collector.Refresher
	reload     *reloader
	handler    http.Handler
	background bool // refreshed by refresher.Run; otherwise at every scrape
}

func newApp(client *asana.Client, apiMetrics *collector.APIMetrics, bearer *asana.Bearer, cfg *config.Config, f *flags, logger *slog.Logger) (*app, error) {
	a := &app{background: f.refreshInterval > 0}
	a.refresher = collector.NewRefresher(client, collector.Options{Config: cfg, Logger: logger, RetainStale: a.background})
	a.reload = newReloader(f.configFile, f.tokenFile, a.refresher, client, bearer, logger)
	freshness := "Collected at scrape time."
	if a.background {
		freshness = fmt.Sprintf("Cached: refreshed every %v in the background.", f.refreshInterval)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(exporterCollectors(a.refresher, apiMetrics, a.reload, freshness)...)
	reg.MustRegister(
		collector.Cached(collectors.NewGoCollector(), selfMetricsTTL, nil),
		collector.Cached(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), selfMetricsTTL, nil))
	var err error
	a.handler, err = newMux(reg, a.refresher, a.reload, f, a.background, logger)
	return a, err
}

// newMux serves the metrics, the health and readiness probes, the reload
// endpoint and the landing page.
func newMux(reg *prometheus.Registry, refresher *collector.Refresher, reload http.Handler, f *flags, background bool, logger *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	metrics := promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		// The answer is small (about 18 KB for one workspace), and gzip
		// would take more CPU than the rest of a scrape together
		// (BENCHMARKS.md). Prometheus takes an uncompressed answer as well.
		DisableCompression: true,
	}))
	if !background {
		metrics = collectOnScrape(refresher, metrics, f.timeoutOffset)
	}
	mux.Handle(f.telemetryPath, metrics)
	mux.Handle("/-/reload", reload)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Healthy\n") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !background || refresher.Ready() {
			io.WriteString(w, "Ready\n")
			return
		}
		http.Error(w, "Not ready: waiting for the first collection to reach Asana", http.StatusServiceUnavailable)
	})
	if f.telemetryPath == "/" {
		return mux, nil
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "Asana Exporter",
		Description: "Asana seats (licensed, view-only, guest, inactive) as Prometheus metrics",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: f.telemetryPath, Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", landing)
	return mux, nil
}

// exporterCollectors are the asana_* metrics, the ones the README's table
// documents.
func exporterCollectors(r *collector.Refresher, api *collector.APIMetrics, reload prometheus.Collector, freshness string) []prometheus.Collector {
	return []prometheus.Collector{
		versioncollector.NewCollector(program),
		api,
		reload,
		collector.NewCollector(r.Snapshot, freshness),
	}
}

// readToken reads the token from a file, or else from $ASANA_TOKEN. The
// token is never a flag value: flags show up in ps and shell history.
func readToken(path string, logger *slog.Logger) (string, error) {
	howTo := "create a personal access token (Asana: My settings > Apps > Developer apps) or a service-account token " +
		"(Admin Console > Apps > Service accounts) and put it in a file passed with --asana.token-file, or in the " + tokenEnv + " environment variable"
	var token string
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading the Asana token: %w; %s", err, howTo)
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			logger.Warn("The token file is readable by other users; chmod 600 it", "file", path)
		}
		token = strings.TrimSpace(string(raw))
		if token == "" {
			return "", fmt.Errorf("the token file %s is empty: %s", path, howTo)
		}
	} else if token = strings.TrimSpace(os.Getenv(tokenEnv)); token == "" {
		return "", errors.New("no Asana token: " + howTo)
	}
	return token, nil
}

// preflight stops startup on what no retry can fix: a bad token, a wrong
// URL, a token that cannot read memberships. Transient failures are only
// logged: the collection loop retries them.
func preflight(ctx context.Context, client *asana.Client, cfg *config.Config, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	workspaces, err := client.Workspaces(ctx)
	if err == nil {
		for _, w := range workspaces {
			if cfg.Collects(w.GID) {
				err = probeMemberships(ctx, client, w.GID)
				break
			}
		}
	}
	switch {
	case err == nil:
		logger.Info("Connected to Asana", "workspaces_visible", len(workspaces))
		return nil
	case fatal(err):
		return fmt.Errorf("cannot start: %w", err)
	}
	logger.Warn("Asana is not reachable yet; collection will keep retrying", "err", err)
	return nil
}

// fatal reports errors that mean the token or URL must be changed.
func fatal(err error) bool {
	for _, k := range []asana.Kind{asana.ErrUnauthorized, asana.ErrForbidden, asana.ErrFullPermissionsRequired,
		asana.ErrNoRoute, asana.ErrPaymentRequired, asana.ErrLegal, asana.ErrBadRequest} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

var errProbed = errors.New("probed")

// probeMemberships reads one page of a workspace's memberships: the call a
// granular OAuth token cannot make.
func probeMemberships(ctx context.Context, client *asana.Client, gid string) error {
	_, err := client.EachMembershipPage(ctx, gid, asana.MembershipFields{}, func(asana.MembershipPage) error { return errProbed })
	if errors.Is(err, errProbed) {
		return nil
	}
	return err
}

// collectOnScrape counts seats before each scrape, within Prometheus's scrape
// timeout. Concurrent scrapes share one collection.
func collectOnScrape(r *collector.Refresher, next http.Handler, offset time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		timeout := 10 * time.Second // Prometheus's default scrape timeout
		if v, err := strconv.ParseFloat(req.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && v > 0 {
			timeout = min(time.Duration(v*float64(time.Second)), maxScrapeTimeout)
		}
		ctx, cancel := context.WithTimeout(req.Context(), max(timeout-offset, 100*time.Millisecond))
		defer cancel()
		r.Refresh(ctx)
		next.ServeHTTP(w, req)
	})
}

func displayAddress(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "localhost" + listen
	}
	return listen
}
