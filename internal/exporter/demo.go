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
// roster and the reconciliation docs/SEATS.md shows are what a user sees.
const demoSeed = 2026

// startDemo serves the simulated demo organisation on loopback. Its config,
// used when no config file is given, has the demo's purchased seats and
// their price, so that one workspace shows as over its contract, renewal
// dates counted from now, so that one renewal is near, and reads the audit
// log, so that idle and paused seats show.
func startDemo(now time.Time) (*asanatest.Server, *config.Config) {
	srv := asanatest.NewServer(asanatest.DemoOrg(demoSeed), asanatest.Config{})
	cfg := config.Default()
	cfg.AuditLog.Enabled = true
	for i, gid := range srv.WorkspaceGIDs() {
		d := asanatest.DemoWorkspaces[i]
		w := config.Workspace{GID: gid}
		if d.SeatsPurchased > 0 {
			w.SeatsPurchased, w.SeatPrice = &d.SeatsPurchased, &d.SeatPrice
		}
		if d.RenewalIn > 0 {
			renewal := config.DateOf(now.Add(d.RenewalIn))
			w.RenewalDate = &renewal
		}
		if w.SeatsPurchased != nil || w.RenewalDate != nil {
			cfg.Workspaces = append(cfg.Workspaces, w)
		}
	}
	return srv, cfg
}
