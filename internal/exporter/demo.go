package exporter

import (
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/config"
)

// DemoRefreshInterval is the demo's refresh interval unless one is given:
// its organisation drifts every few seconds.
const DemoRefreshInterval = 15 * time.Second

// demoSeed makes every demo start from the same organisation, so that the
// roster and the reconciliation the README shows are what a user sees.
const demoSeed = 2026

// startDemo serves the simulated demo organisation on loopback. Its config,
// used when no config file is given, has the demo's purchased seats and
// their price, so that one workspace shows as over its contract, and reads
// the audit log, so that idle and paused seats show.
func startDemo() (*asanatest.Server, *config.Config) {
	srv := asanatest.NewServer(asanatest.DemoOrg(demoSeed), asanatest.Config{})
	cfg := config.Default()
	cfg.AuditLog.Enabled = true
	for i, gid := range srv.WorkspaceGIDs() {
		d := asanatest.DemoWorkspaces[i]
		if d.SeatsPurchased > 0 {
			cfg.Workspaces = append(cfg.Workspaces, config.Workspace{GID: gid, SeatsPurchased: &d.SeatsPurchased, SeatPrice: &d.SeatPrice})
		}
	}
	return srv, cfg
}
