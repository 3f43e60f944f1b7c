package main

import (
	"context"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/config"
)

// startDemo serves the simulated demo organisation on loopback and points
// the flags and config at it. Without a config file, the demo's purchased
// seats are used, so one workspace shows as over its contract.
func startDemo(ctx context.Context, cfg *config.Config, f *flags) *asanatest.Server {
	srv := asanatest.NewServer(asanatest.DemoOrg(uint64(time.Now().UnixNano())), asanatest.Config{})
	go srv.Drift(ctx, 5*time.Second)
	f.asanaURL = srv.BaseURL
	if !f.refreshSetByUser {
		f.refreshInterval = 15 * time.Second
	}
	if f.configFile == "" {
		srv.Mutate(func(o *asanatest.Org) {
			for i, d := range asanatest.DemoWorkspaces {
				if d.SeatsPurchased > 0 {
					seats := d.SeatsPurchased
					cfg.Workspaces = append(cfg.Workspaces, config.Workspace{GID: o.Workspaces[i].GID, SeatsPurchased: &seats})
				}
			}
		})
	}
	return srv
}
