package exporter

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// auditOnScrapeInterval is how often the audit log is polled when seats are
// counted at each scrape: there is no refresh interval to follow then.
const auditOnScrapeInterval = 5 * time.Minute

// newAudit wires the audit log reader. With --asana.audit-token-file it
// has a client and a request budget of its own (Asana's budget is per
// token); otherwise it shares the main client and waits while a membership
// listing runs, so the seat counts never fall behind for it.
func (e *Exporter) newAudit(opts Options, clientOpts asana.Options, mainToken string) error {
	if opts.StoragePath != "" {
		if st, err := os.Stat(opts.StoragePath); err != nil || !st.IsDir() {
			return fmt.Errorf("--storage.path %s must be an existing directory the exporter can write to", opts.StoragePath)
		}
	}
	e.auditSrc = e.client
	wait := func(ctx context.Context) error { return e.refresher.WaitIdle(ctx) }
	if opts.AuditTokenFile != "" && !opts.Demo {
		token, err := readToken(auditTokenFlag, opts.AuditTokenFile, e.logger)
		if err != nil {
			return err
		}
		if token == mainToken {
			e.logger.Warn("The audit token is the main token: it shares one request budget; give the exporter a separate service-account token, or drop --asana.audit-token-file")
		}
		bearer, err := asana.BearerToken(token, opts.Transport)
		if err != nil {
			return fmt.Errorf("--asana.audit-token-file: %w", err)
		}
		e.config.OnReload(tokenReload(auditTokenFlag, opts.AuditTokenFile, bearer, e.logger))
		clientOpts.Transport = bearer
		if e.auditSrc, err = asana.New(clientOpts); err != nil {
			return err
		}
		wait = nil
	}
	e.audit = auditlog.NewReader(auditlog.ReaderOptions{
		Source: e.auditSrc, Organisations: e.auditedOrganisations, Wait: wait,
		StoragePath: opts.StoragePath, Logger: e.logger,
	})
	return nil
}

// auditedOrganisations are the collected organisations while audit_log is
// on: those the last cycle listed.
func (e *Exporter) auditedOrganisations() []string {
	if !e.config.Get().AuditLog.Enabled {
		return nil
	}
	var gids []string
	for _, w := range e.refresher.Snapshot().Workspaces {
		if w.Listed && w.IsOrganization {
			gids = append(gids, w.GID)
		}
	}
	return gids
}

// sharedAuditRequests is what the audit log's steady polling adds to each
// cycle's requests when it shares the token.
func (e *Exporter) sharedAuditRequests() int {
	if e.auditSrc != e.client {
		return 0
	}
	return e.audit.SteadyRequests()
}
