// Package exporter wires asana_exporter together: the config and its
// reload, the credentials, the Asana clients, the collection, the metrics
// registry and the HTTP handler that main serves. Tests of the wired exporter use it in
// process, exactly as the binary does.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
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
	// Organizations are the names of the organisations under
	// organizations: in the config to count (--organization); none: every
	// one.
	Organizations []string
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
	opts    Options
	logger  *slog.Logger
	config  *config.SafeConfig
	handler http.Handler
	demo    *asanatest.Server // nil unless Options.Demo

	// orgs are the organisations counted, one without organizations: in
	// the config; a reload replaces the set whole.
	orgs atomic.Pointer[[]*organization]
	// creds are the credentials that organizations: names, by key: the
	// reload hook alone writes them.
	creds map[string]*credential
	// mu guards running, and the start and stop of the collections.
	mu      sync.Mutex
	running context.Context // Run's, once it runs
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
	if cfg := e.config.Get(); len(cfg.Organizations) > 0 {
		if err := credentialFlags(opts, cfg, opts.ConfigFile); err != nil {
			return nil, err
		}
		_, apply, err := e.prepare(cfg)
		if err != nil {
			return nil, err
		}
		apply()
		e.config.OnReload(e.reloadOrganizations)
	} else {
		if _, err := e.selection(cfg); err != nil {
			return nil, err
		}
		o, err := e.oneOrganization()
		if err != nil {
			return nil, err
		}
		e.swap([]*organization{o})
	}
	if i := opts.RefreshInterval; i > 0 && i < time.Minute && !opts.Demo {
		e.logger.Warn("Refreshing more often than every minute spends the token's rate budget on numbers that rarely change", "refresh_interval", i)
	}
	if e.handler, err = e.newMux(e.registry()); err != nil {
		return nil, err
	}
	return e, nil
}

// registry holds the exporter's own metrics but the organisations' (which
// each organisation's registry holds) and the seats' (scrapeHandler adds
// those, by mode).
func (e *Exporter) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(Program),
		e.config,
		collector.Cached(collectors.NewGoCollector(), selfMetricsTTL, nil),
		collector.Cached(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), selfMetricsTTL, nil))
	if e.opts.ReclaimJournal != "" {
		reg.MustRegister(collector.NewReclaimMetrics(e.opts.ReclaimJournal))
	}
	return reg
}

// gatherer gathers reg and the metrics of each organisation in use.
func (e *Exporter) gatherer(reg prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		gs := prometheus.Gatherers{reg}
		for _, o := range e.organizations() {
			gs = append(gs, o.metrics)
		}
		return gs.Gather()
	})
}

// seats exports snaps, the organisations' latest or those counted for a
// scrape.
func (e *Exporter) seats(snaps func() []*collect.Snapshot, freshness string) prometheus.Collector {
	if e.byOrganization() {
		return collector.NewOrganizationsCollector(snaps, freshness)
	}
	return collector.NewCollector(func() *collect.Snapshot { return snaps()[0] }, freshness)
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
func (e *Exporter) AsanaURL() string { return e.organizations()[0].counts.client.BaseURL() }

// Run collects in the background (in that mode), reloads at every value
// on hup, and lets the demo organisation drift, until ctx ends.
func (e *Exporter) Run(ctx context.Context, hup <-chan os.Signal) {
	if e.demo != nil {
		go e.demo.Drift(ctx, 5*time.Second)
	}
	e.mu.Lock()
	e.running = ctx
	for _, o := range e.organizations() {
		e.start(o)
	}
	e.mu.Unlock()
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
// logged: the collection keeps retrying them. Of several organisations,
// one that cannot be counted is logged, and the others are counted; only
// when none can does startup stop.
func (e *Exporter) Preflight(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	orgs := e.organizations()
	errs := make([]error, len(orgs))
	var wg sync.WaitGroup
	for i, o := range orgs {
		wg.Go(func() { errs[i] = e.probe(ctx, o) })
	}
	wg.Wait()
	if !e.byOrganization() {
		return errs[0]
	}
	for i, err := range errs {
		if err == nil {
			return nil
		}
		errs[i] = fmt.Errorf("organization %s: %w", orgs[i].name, err)
	}
	return fmt.Errorf("cannot start: no organization can be counted: %w", errors.Join(errs...))
}

// probe checks what no retry can fix of one organisation, and says how it
// went: an error only for that.
func (e *Exporter) probe(ctx context.Context, o *organization) error {
	log := e.logger
	if o.name != "" {
		log = log.With("organization", o.name)
	}
	visible, err := o.collection.Probe(ctx)
	switch {
	case err == nil:
		log.Info("Connected to Asana", "workspaces_visible", len(visible))
		return nil
	case asana.IsFatal(err) && o.name == "":
		return fmt.Errorf("cannot start: %w", err)
	case asana.IsFatal(err):
		log.Error("Cannot count this organisation; the others are counted, and asana_up says so for it", "err", err)
		return err
	}
	log.Warn("Asana is not reachable yet; collection will keep retrying", "err", err)
	return nil
}

// ready reports whether the exporter has numbers to serve, and if not what
// it waits for. Of several organisations, it waits for each one's first
// cycle, and one whose cycle could not reach Asana does not hold up the
// others.
func (e *Exporter) ready() (bool, string) {
	orgs := e.organizations()
	if !e.byOrganization() {
		c := orgs[0].collection
		return c.Ready(), c.Waiting()
	}
	var waiting []string
	reached := false
	for _, o := range orgs {
		switch c := o.collection; {
		case c.Ready():
			reached = true
		case c.Snapshot().Err == nil: // no cycle has ended
			waiting = append(waiting, o.name+": "+c.Waiting())
		}
	}
	switch {
	case len(waiting) > 0:
		return false, strings.Join(waiting, "; ")
	case !reached:
		return false, "no organization's collection has reached Asana yet"
	}
	return true, ""
}

func (e *Exporter) newMux(reg *prometheus.Registry) (http.Handler, error) {
	mux := http.NewServeMux()
	metrics := promhttp.InstrumentMetricHandler(reg, e.scrapeHandler(reg, promhttp.HandlerOpts{
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
		if ready, waiting := e.ready(); !ready {
			http.Error(w, "Not ready: "+waiting, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "Ready\n")
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
