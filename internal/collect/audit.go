package collect

import (
	"context"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// auditOnScrapeInterval is how often the audit log is polled when seats are
// counted at each scrape: there is no refresh interval to follow then.
const auditOnScrapeInterval = 5 * time.Minute

// auditIdleRetry is how soon the audit log's schedule looks again for an
// organisation to read while there is none (audit_log is off, or the first
// count has not listed any yet).
const auditIdleRetry = 5 * time.Second

// audit is the audit log's side of the collection: the Reader that keeps
// its Ledgers, and the Source that reads it. On the counts' token each of
// its requests waits while a count runs.
type audit struct {
	reader *auditlog.Reader
	src    Source
	own    bool // src has a token, and so a budget, of its own
}

func newAudit(counts Source, opts Options, counting *busy) audit {
	a := audit{src: opts.AuditSource, own: opts.AuditSource != nil}
	ropts := auditlog.ReaderOptions{Source: a.src, StoragePath: opts.StoragePath, Logger: opts.Logger, Now: opts.Now}
	if !a.own {
		a.src, ropts.Source, ropts.Wait = counts, counts, counting.wait
	}
	a.reader = auditlog.NewReader(ropts)
	return a
}

// run polls the organisations orgs gives every interval until ctx ends;
// each poll gets one interval, and a backfill cut short goes on at once.
func (a *audit) run(ctx context.Context, every time.Duration, orgs func() []string) {
	for {
		next := min(every, auditIdleRetry)
		if gids := orgs(); len(gids) > 0 {
			start := time.Now()
			pollCtx, cancel := context.WithTimeout(ctx, every)
			a.reader.Poll(pollCtx, gids, nil)
			cancel()
			next = every - time.Since(start)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

func (c *Collection) auditInterval() time.Duration {
	if c.Background() {
		return c.opts.Interval
	}
	return auditOnScrapeInterval
}

// sharedRequests is what the audit log's steady polling adds to a cycle's
// requests when it shares the counts' token: one request per stream of
// every organisation, once caught up.
func (a *audit) sharedRequests(cfg *config.Config, snap *Snapshot) int {
	if a.own {
		return 0
	}
	return len(organizations(cfg, snap)) * len(asana.SeatEventTypes)
}

// AuditedOrganizations are the organisations whose audit log is read while
// audit_log is on: the collected ones the last cycle listed.
func (c *Collection) AuditedOrganizations() []string {
	return organizations(c.opts.Config(), c.Snapshot())
}

func organizations(cfg *config.Config, snap *Snapshot) []string {
	if !cfg.AuditLog.Enabled {
		return nil
	}
	var gids []string
	for _, w := range snap.Workspaces {
		if w.Listed && w.IsOrganization {
			gids = append(gids, w.GID)
		}
	}
	return gids
}

// AuditLog is the Reader of the organisations' audit logs.
func (c *Collection) AuditLog() *auditlog.Reader { return c.audit.reader }

// ReadAuditLogs brings the organisations' audit log state up to date now,
// showing each read with show (nil logs a backfill instead).
func (c *Collection) ReadAuditLogs(ctx context.Context, orgs []string, show func(gid string) auditlog.Display) error {
	return c.audit.reader.Poll(ctx, orgs, show)
}

// AuditLogReadable reads one page of an organisation's last hour of logins:
// whether its token may read the audit log, without a backfill.
func (c *Collection) AuditLogReadable(ctx context.Context, gid string) error {
	_, err := c.audit.src.AuditLogPage(ctx, gid, asana.AuditQuery{EventType: asana.EventLoginSucceeded, StartAt: c.opts.Now().Add(-time.Hour)})
	return err
}
