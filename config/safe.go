package config

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// SafeConfig owns the live config, as blackbox_exporter's does: the config
// in use, its reload, and the metrics that say how the last reload went.
// Everyone else reads the config with Get, and whatever a reload must also
// re-read or push elsewhere (the token file, the client's request budget)
// takes part through a ReloadHook.
type SafeConfig struct {
	file   string // "" when the exporter runs without one
	logger *slog.Logger

	current atomic.Pointer[Config]

	mu          sync.Mutex // one reload at a time
	hooks       []ReloadHook
	successful  prometheus.Gauge
	successTime prometheus.Gauge
}

// ReloadHook takes part in every reload. Given the config about to be used,
// it reads and checks what it owns (a token file, say) and returns how to
// apply it. A reload applies nothing unless the config file and every hook
// succeeded, so an invalid file changes nothing.
type ReloadHook func(next *Config) (apply func(), err error)

// NewSafeConfig loads file, or uses fallback without one (Default() when
// fallback is nil). The startup load counts as a successful reload.
func NewSafeConfig(file string, fallback *Config, logger *slog.Logger) (*SafeConfig, error) {
	if fallback == nil {
		fallback = Default()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sc := &SafeConfig{
		file: file, logger: logger,
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asana_exporter_config_last_reload_successful",
			Help: "1 if the last reload of the config and token files (SIGHUP or POST /-/reload) succeeded; the startup load counts as one.",
		}),
		successTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asana_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful load of the config and token files.",
		}),
	}
	cfg, err := sc.load(fallback)
	if err != nil {
		return nil, err
	}
	sc.current.Store(cfg)
	sc.successful.Set(1)
	sc.successTime.SetToCurrentTime()
	return sc, nil
}

func (sc *SafeConfig) load(fallback *Config) (*Config, error) {
	if sc.file == "" {
		return fallback, nil
	}
	return Load(sc.file)
}

// File is the config file, "" without one.
func (sc *SafeConfig) File() string { return sc.file }

// Get returns the config in use.
func (sc *SafeConfig) Get() *Config { return sc.current.Load() }

// OnReload adds a hook to every later reload.
func (sc *SafeConfig) OnReload(h ReloadHook) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.hooks = append(sc.hooks, h)
}

// Reload re-reads the config file and runs the hooks; if all succeed it
// applies them and makes the new config current. Otherwise nothing changes,
// and the error says why.
func (sc *SafeConfig) Reload() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	next, err := sc.load(sc.Get())
	applies := []func(){}
	for _, hook := range sc.hooks {
		if err != nil {
			break
		}
		var apply func()
		if apply, err = hook(next); apply != nil {
			applies = append(applies, apply)
		}
	}
	if err != nil {
		sc.successful.Set(0)
		sc.logger.Error("Reload failed; the previous config and token stay in use", "err", err)
		return err
	}
	// The config first: what an apply starts (an organisation's new
	// collection) reads the config it was built for.
	sc.current.Store(next)
	for _, apply := range applies {
		apply()
	}
	sc.successful.Set(1)
	sc.successTime.SetToCurrentTime()
	sc.logger.Info("Reloaded", "config_file", sc.file, "workspaces_listed", len(next.Workspaces), "requests_per_minute", next.RequestsPerMinute)
	return nil
}

func (sc *SafeConfig) Describe(ch chan<- *prometheus.Desc) {
	sc.successful.Describe(ch)
	sc.successTime.Describe(ch)
}

func (sc *SafeConfig) Collect(ch chan<- prometheus.Metric) {
	sc.successful.Collect(ch)
	sc.successTime.Collect(ch)
}
