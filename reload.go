package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
)

// reloader re-reads the config file and the token file, on SIGHUP or a POST
// to /-/reload. Both are read and checked before either is used: an invalid
// file changes nothing, and the error says why.
type reloader struct {
	configFile string // "" when the exporter runs without one
	tokenFile  string // "" when the token comes from the environment
	refresher  *collector.Refresher
	client     *asana.Client
	bearer     *asana.Bearer
	logger     *slog.Logger

	mu          sync.Mutex
	successful  prometheus.Gauge
	successTime prometheus.Gauge
}

func newReloader(configFile, tokenFile string, refresher *collector.Refresher, client *asana.Client, bearer *asana.Bearer, logger *slog.Logger) *reloader {
	r := &reloader{
		configFile: configFile, tokenFile: tokenFile, refresher: refresher, client: client, bearer: bearer, logger: logger,
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asana_exporter_config_last_reload_successful",
			Help: "1 if the last reload of the config and token files (SIGHUP or POST /-/reload) succeeded; the startup load counts as one.",
		}),
		successTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asana_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful load of the config and token files.",
		}),
	}
	r.successful.Set(1)
	r.successTime.SetToCurrentTime()
	return r
}

func (r *reloader) Describe(ch chan<- *prometheus.Desc) {
	r.successful.Describe(ch)
	r.successTime.Describe(ch)
}

func (r *reloader) Collect(ch chan<- prometheus.Metric) {
	r.successful.Collect(ch)
	r.successTime.Collect(ch)
}

// reload applies the files if both are valid.
func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.apply()
	if err != nil {
		r.successful.Set(0)
		r.logger.Error("Reload failed; the previous config and token stay in use", "err", err)
		return err
	}
	r.successful.Set(1)
	r.successTime.SetToCurrentTime()
	return nil
}

func (r *reloader) apply() error {
	cfg := r.refresher.Config()
	if r.configFile != "" {
		var err error
		if cfg, err = config.Load(r.configFile); err != nil {
			return err
		}
	}
	if r.tokenFile != "" {
		token, err := readToken(r.tokenFile, r.logger)
		if err != nil {
			return err
		}
		// SetToken refuses an invalid token and keeps the old one; nothing
		// else has been applied yet.
		if err := r.bearer.SetToken(token); err != nil {
			return fmt.Errorf("%s: %w", r.tokenFile, err)
		}
	}
	r.refresher.SetConfig(cfg)
	r.client.SetRequestsPerMinute(cfg.RequestsPerMinute)
	r.logger.Info("Reloaded", "config_file", r.configFile, "token_file", r.tokenFile,
		"workspaces_listed", len(cfg.Workspaces), "requests_per_minute", cfg.RequestsPerMinute)
	return nil
}

// onSIGHUP reloads at every SIGHUP until ctx ends.
func (r *reloader) onSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload()
		}
	}
}

// ServeHTTP is /-/reload: POST or PUT reloads, and answers why not when it
// cannot.
func (r *reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "Use POST or PUT to reload the config and token files.", http.StatusMethodNotAllowed)
		return
	}
	if err := r.reload(); err != nil {
		http.Error(w, "Reload failed; the previous config and token stay in use: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "Reloaded at %s\n", time.Now().UTC().Format(time.RFC3339))
}
