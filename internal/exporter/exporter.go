// Package exporter wires asana_exporter together: the config and its
// reload, the credentials, the Asana clients, the collection, the metrics
// registry and the HTTP handler that main serves. Tests of the wired exporter use it in
// process, exactly as the binary does.
package exporter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// Program is the exporter's name, in its metrics, its User-Agent and its
// messages.
const Program = "asana_exporter"

// selfMetricsTTL is how long the exporter's own go_* and process_* metrics
// are reused: reading them (/proc and the runtime's statistics) is most of
// a scrape's cost, and no scrape interval is shorter.
const selfMetricsTTL = time.Second

// Options are what the command line decides.
type Options struct {
	ConfigFile string // "" runs on the defaults
	// TokenFile holds the token; "" reads $ASANA_TOKEN (TokenEnv).
	TokenFile string
	// OAuth authenticates as an OAuth app instead of with a token.
	OAuth    OAuthOptions
	AsanaURL string // the API root; asana.DefaultBaseURL when ""
	// AuditTokenFile holds a token for the audit log alone (a service
	// account's), with a request budget of its own; "" reads the audit
	// log with the main credentials.
	AuditTokenFile string
	// StoragePath is a directory that keeps the audit log's state across
	// restarts; "" keeps it in memory.
	StoragePath string
	// RefreshInterval is the collection mode: above 0 in the background,
	// 0 at each scrape.
	RefreshInterval time.Duration
	// TimeoutOffset: on scrape, finish this long before the scrape timeout.
	TimeoutOffset time.Duration
	TelemetryPath string // "/metrics" when ""
	// EnablePprof serves Go's profiles under /debug/pprof/.
	EnablePprof bool
	// Demo counts a simulated organisation served on loopback instead of
	// Asana: AsanaURL and the token are the simulator's.
	Demo   bool
	Logger *slog.Logger
	// ProgressOutput is where the commands (--config.check, seats) show how
	// their listings go; nil shows nothing (--quiet).
	ProgressOutput io.Writer
	// ReclaimJournal is reclaim apply's journal, whose actions the
	// exporter exports; "" exports none.
	ReclaimJournal string
	// Client tunes the Asana client's options (retries, say), for tests.
	Client func(*asana.Options)
	// Transport carries every request to Asana, the OAuth token
	// endpoint's too: net/http's default when nil. Tests give a simulator's
	// in-memory one.
	Transport http.RoundTripper
}

// Exporter is asana_exporter without its listener.
type Exporter struct {
	opts       Options
	logger     *slog.Logger
	config     *config.SafeConfig
	client     *asana.Client // the counts' client, for what it says of itself
	collection *collect.Collection
	handler    http.Handler
	demo       *asanatest.Server // nil unless Options.Demo
}

// New reads the config and the credentials, and wires the exporter: the
// config, the Asana clients, the collection that spends their budgets, the
// metrics and the HTTP handler, in that order. Its errors say what to fix.
// Close it when done.
func New(opts Options) (_ *Exporter, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.TelemetryPath == "" {
		opts.TelemetryPath = "/metrics"
	}
	e := &Exporter{logger: opts.Logger}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	var fallback *config.Config
	if opts.Demo {
		e.demo, fallback = startDemo(time.Now())
		opts.AsanaURL = e.demo.BaseURL
	}
	e.opts = opts
	if opts.StoragePath != "" {
		if err := inputfile.WritableDir(opts.StoragePath); err != nil {
			return nil, fmt.Errorf("--storage.path: %w", err)
		}
	}
	if e.config, err = config.NewSafeConfig(opts.ConfigFile, fallback, e.logger); err != nil {
		return nil, err
	}
	creds, err := readCredentials(opts, e.logger)
	if err != nil {
		return nil, err
	}
	for _, hook := range creds.reloads {
		e.config.OnReload(hook)
	}

	apiMetrics := collector.NewAPIMetrics()
	if e.client, e.collection, err = newCollection(opts, creds, e.config, apiMetrics); err != nil {
		return nil, err
	}
	e.config.OnReload(e.collection.Reload)
	if i := e.collection.Interval(); e.collection.Background() && i < time.Minute && !opts.Demo {
		e.logger.Warn("Refreshing more often than every minute spends the token's rate budget on numbers that rarely change", "refresh_interval", i)
	}
	if e.handler, err = e.newMux(e.registry(apiMetrics, creds.oauthMetrics)); err != nil {
		return nil, err
	}
	return e, nil
}

// newCollection makes a client for each token, observed by observer, and
// the collection that spends their budgets.
func newCollection(opts Options, creds credentials, cfg *config.SafeConfig, observer asana.Observer) (*asana.Client, *collect.Collection, error) {
	clientOpts := asana.Options{
		BaseURL:           opts.AsanaURL,
		Transport:         creds.counts,
		UserAgent:         Program + "/" + version.Version,
		RequestsPerMinute: cfg.Get().RequestsPerMinute,
		Observer:          observer,
		Logger:            opts.Logger,
	}
	if opts.Client != nil {
		opts.Client(&clientOpts)
	}
	counts, err := asana.New(clientOpts)
	if err != nil {
		return nil, nil, err
	}
	collectOpts := collect.Options{Config: cfg.Get, Interval: opts.RefreshInterval, Logger: opts.Logger, StoragePath: opts.StoragePath}
	if creds.audit != nil {
		clientOpts.Transport = creds.audit
		if collectOpts.AuditSource, err = asana.New(clientOpts); err != nil {
			return nil, nil, err
		}
	}
	return counts, collect.New(counts, collectOpts), nil
}

// registry holds the exporter's metrics but the seats' (scrapeHandler
// adds those, by mode).
func (e *Exporter) registry(api *collector.APIMetrics, oauth *collector.OAuthMetrics) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(Program),
		api,
		e.config,
		collector.Cached(collectors.NewGoCollector(), selfMetricsTTL, nil),
		collector.Cached(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), selfMetricsTTL, nil),
		collector.NewAuditMetrics(e.collection.AuditLog(), e.collection.AuditedOrganizations))
	if oauth != nil {
		reg.MustRegister(oauth)
	}
	if e.opts.ReclaimJournal != "" {
		reg.MustRegister(collector.NewReclaimMetrics(e.opts.ReclaimJournal))
	}
	return reg
}

// Close stops the demo's simulated organisation, if any.
func (e *Exporter) Close() {
	if e.demo != nil {
		e.demo.Close()
	}
}

// Handler serves the metrics, the probes, the reload endpoint and the
// landing page.
func (e *Exporter) Handler() http.Handler { return e.handler }

// AsanaURL is the API root the exporter counts from (the simulator's in
// the demo).
func (e *Exporter) AsanaURL() string { return e.client.BaseURL() }

// Run collects in the background (in that mode), reloads at every value
// on hup, and lets the demo organisation drift, until ctx ends.
func (e *Exporter) Run(ctx context.Context, hup <-chan os.Signal) {
	if e.demo != nil {
		go e.demo.Drift(ctx, 5*time.Second)
	}
	go e.collection.Run(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			e.config.Reload()
		}
	}
}

// Preflight stops startup on what no retry can fix: a bad token, a wrong
// URL, a token that cannot read memberships. Transient failures are only
// logged: the collection keeps retrying them.
func (e *Exporter) Preflight(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	visible, err := e.collection.Probe(ctx)
	switch {
	case err == nil:
		e.logger.Info("Connected to Asana", "workspaces_visible", len(visible))
		return nil
	case asana.IsFatal(err):
		return fmt.Errorf("cannot start: %w", err)
	}
	e.logger.Warn("Asana is not reachable yet; collection will keep retrying", "err", err)
	return nil
}

func (e *Exporter) newMux(reg *prometheus.Registry) (http.Handler, error) {
	mux := http.NewServeMux()
	metrics := promhttp.InstrumentMetricHandler(reg, scrapeHandler(e.collection, reg, e.opts.TimeoutOffset, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(e.logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		// The answer is small (about 18 KB for one workspace), and gzip
		// would take more CPU than the rest of a scrape together
		// (BENCHMARKS.md). Prometheus takes an uncompressed answer as well.
		DisableCompression: true,
	}))
	mux.Handle(e.opts.TelemetryPath, metrics)
	mux.Handle("/-/reload", reloadHandler(e.config))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Healthy\n") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if e.collection.Ready() {
			io.WriteString(w, "Ready\n")
			return
		}
		http.Error(w, "Not ready: "+e.collection.Waiting(), http.StatusServiceUnavailable)
	})
	if e.opts.EnablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // and the runtime's profiles under it
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if e.opts.TelemetryPath == "/" {
		return mux, nil
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "Asana Exporter",
		Description: "Asana seats (licensed, view-only, guest, inactive) as Prometheus metrics",
		Version:     version.Info(),
		// The page links the profiles only where they are served.
		Profiling: strconv.FormatBool(e.opts.EnablePprof),
		Links: []web.LandingLinks{
			{Address: e.opts.TelemetryPath, Text: "Metrics"},
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
