package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// checkOnScrapeDeadline bounds --config.check's refresh in on-scrape mode,
// where the deadline is the scraper's.
const checkOnScrapeDeadline = 2 * time.Minute

// Check is --config.check: the config parsed already; it runs one real
// refresh, as the exporter would (concurrently, within one refresh
// interval; each organisation's at once), and prints its snapshot: the
// workspaces the token sees, which are collected, what each holds, and
// whether a refresh fits the interval at the token's request budget.
func (e *Exporter) Check(ctx context.Context, out io.Writer) error {
	if file := e.config.File(); file != "" {
		fmt.Fprintf(out, "config: %s is valid\n", file)
	}
	orgs := e.organizations()
	interval, deadline := orgs[0].collection.Interval(), orgs[0].collection.Interval()
	if deadline == 0 {
		deadline = checkOnScrapeDeadline
	}
	if e.byOrganization() {
		fmt.Fprintf(out, "counting the memberships of %d organization(s) as one refresh would (at most %v, each at its requests_per_minute)\n", len(orgs), deadline)
	} else {
		fmt.Fprintf(out, "counting memberships as one refresh would (at most %v at %d requests/minute)\n", deadline, orgs[0].counts.client.RequestsPerMinute())
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	b := e.newBoard()
	snaps := make([]*collect.Snapshot, len(orgs))
	var wg sync.WaitGroup
	for i, o := range orgs {
		wg.Go(func() { snaps[i] = o.collection.Refresh(ctx, b.listings()) })
	}
	wg.Wait()
	for _, snap := range snaps {
		for _, w := range snap.Workspaces {
			b.finish(asana.Workspace{GID: w.GID, Name: w.Name}, w.Err)
		}
	}
	b.stop()
	var errs []error
	for i, o := range orgs {
		if o.name != "" {
			fmt.Fprintf(out, "\norganization %s:\n", o.name)
		}
		if err := e.checkOrganization(ctx, o, snaps[i], interval, out); err != nil {
			if o.name != "" {
				err = fmt.Errorf("organization %s: %w", o.name, err)
			}
			errs = append(errs, err)
		}
	}
	if twice := countedTwice(orgs, snaps); len(twice) > 0 {
		fmt.Fprintf(out, "\nWARNING: %s; each is published once, by the first organization: list it under one organization, "+
			"or add it to the others' exclude_workspaces\n", strings.Join(twice, "; "))
	}
	return errors.Join(errs...)
}

// checkOrganization prints one organisation's refresh, snap, and says
// whether its token or any of its workspaces failed.
func (e *Exporter) checkOrganization(ctx context.Context, o *organization, snap *collect.Snapshot, interval time.Duration, out io.Writer) error {
	switch {
	case !snap.Up && errors.Is(snap.Err, asana.ErrNetwork):
		return snap.Err // it says what could not be reached
	case !snap.Up:
		return fmt.Errorf("token check failed: %w", snap.Err)
	}
	visible := len(snap.NotCollected)
	for _, w := range snap.Workspaces {
		if w.Listed {
			visible++
		}
	}
	fmt.Fprintf(out, "token: valid, sees %d workspace(s) at %s\n", visible, o.counts.client.BaseURL())

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GID\tNAME\tTYPE\tCOLLECTED\tSEATS PURCHASED\tMEMBERSHIPS")
	failed, outOfTime := 0, false
	var unseen []string // gids the config lists that the token cannot see
	for _, w := range snap.Workspaces {
		status := ""
		switch {
		case w.Success:
			status = fmt.Sprintf("readable: %d (%d licensed) in %d page(s)", w.Seats.Total(), w.Seats.Licensed, w.Pages)
		case !w.Listed:
			failed++
			unseen = append(unseen, w.GID)
			status = "ERROR: the token cannot see this workspace; check the gid or use a token of one of its members"
		case w.OutOfBudget || errors.Is(w.Err, context.DeadlineExceeded):
			outOfTime = true
			status = "readable, too many to count within the refresh interval"
		default:
			failed++
			status = "ERROR: " + w.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\tyes\t%s\t%s\n", w.GID, orUnknown(w.Name), kind(w.Listed, w.IsOrganization), purchased(w.SeatsPurchased), status)
	}
	for _, w := range snap.NotCollected {
		fmt.Fprintf(tw, "%s\t%s\t%s\tno\t-\t-\n", w.GID, w.Name, kind(true, w.IsOrganization))
	}
	tw.Flush()

	take := takes(snap.MinDuration)
	perMinute := o.counts.client.RequestsPerMinute()
	switch {
	case interval > 0 && (snap.FallingBehind || outOfTime):
		fmt.Fprintf(out, "WARNING: the organisation is too big to count every %v at %d requests/minute (a refresh needs %d requests or more, which take %s); "+
			"raise --asana.refresh-interval\n", interval, perMinute, snap.Requests, take)
	case interval > 0:
		fmt.Fprintf(out, "refresh: %d requests, which take %s of the %v interval at %d requests/minute\n", snap.Requests, take, interval, perMinute)
	default:
		fmt.Fprintf(out, "refresh: %d requests, which take %s at %d requests/minute; each scrape's scrape_timeout must allow that and Asana's answers\n",
			snap.Requests, take, perMinute)
	}
	e.checkAuditLog(ctx, o.collection, snap, out)
	if len(unseen) > 0 {
		return fmt.Errorf("%d workspace(s) cannot be collected; see above. The token cannot see %s, listed under workspaces: in %s: "+
			"if they are config.example.yml's examples, replace them with your organisation's gids; the table above lists every workspace "+
			"the token sees, with its gid", failed, strings.Join(unseen, ", "), e.config.File())
	}
	if failed > 0 {
		return fmt.Errorf("%d workspace(s) cannot be collected; see above", failed)
	}
	return nil
}

// countedTwice names the workspaces that more than one organisation
// counted, with the organisations.
func countedTwice(orgs []*organization, snaps []*collect.Snapshot) []string {
	by := map[string][]string{}
	var gids []string
	for i, snap := range snaps {
		for _, w := range snap.Workspaces {
			if w.Listed {
				if by[w.GID] == nil {
					gids = append(gids, w.GID)
				}
				by[w.GID] = append(by[w.GID], orgs[i].name)
			}
		}
	}
	var twice []string
	for _, gid := range gids {
		if len(by[gid]) > 1 {
			twice = append(twice, fmt.Sprintf("workspace %s is counted by %s", gid, strings.Join(by[gid], " and ")))
		}
	}
	return twice
}

// checkAuditLog says, with audit_log on, whether the audit log of each
// collected organisation is readable: one request each, no backfill.
func (e *Exporter) checkAuditLog(ctx context.Context, c *collect.Collection, snap *collect.Snapshot, out io.Writer) {
	if !e.config.Get().AuditLog.Enabled {
		fmt.Fprintln(out, "audit log: off (audit_log.enabled in the config file)")
		return
	}
	for _, w := range snap.Workspaces {
		if !w.Listed || !w.IsOrganization {
			continue
		}
		err := c.AuditLogReadable(ctx, w.GID)
		switch {
		case err == nil:
			fmt.Fprintf(out, "audit log: readable for %s (%s)\n", w.GID, w.Name)
		case auditlog.NotPermitted(err):
			fmt.Fprintf(out, "WARNING: audit log: not readable for %s (%s): the token must be a service account's of an Enterprise+ organisation "+
				"with the Audit logs permission (--asana.audit-token-file); idle and paused seats will not be exported: %v\n", w.GID, w.Name, err)
		default:
			fmt.Fprintf(out, "WARNING: audit log: cannot be read for %s (%s) now: %v\n", w.GID, w.Name, err)
		}
	}
}

// takes says how long the requests of a refresh take at least at the
// budget, in words true of every value: whole seconds, never more than d.
func takes(d time.Duration) string {
	if d < time.Second {
		return "under a second"
	}
	return "at least " + d.Truncate(time.Second).String()
}

func kind(listed, organization bool) string {
	switch {
	case !listed:
		return "?"
	case organization:
		return "organization"
	}
	return "workspace"
}

func orUnknown(name string) string {
	if name == "" {
		return "?"
	}
	return name
}

func purchased(seats *int) string {
	if seats == nil {
		return "-"
	}
	return fmt.Sprint(*seats)
}
