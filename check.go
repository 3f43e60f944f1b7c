package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
)

// checkConfig is --config.check: the config parsed already; now show what
// the token can see and prove it can read every collected workspace's
// memberships. In background mode it counts them, as one refresh would and
// within one refresh interval, so that it can say whether the organisation
// fits the interval at the token's request budget; on scrape it reads one
// page of each.
func checkConfig(ctx context.Context, client *asana.Client, cfg *config.Config, file string, interval time.Duration, out io.Writer) error {
	if file != "" {
		fmt.Fprintf(out, "config: %s is valid\n", file)
	}
	listCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	visible, err := client.Workspaces(listCtx)
	if err != nil {
		return fmt.Errorf("token check failed: %w", err)
	}
	fmt.Fprintf(out, "token: valid, sees %d workspace(s) at %s\n", len(visible), client.BaseURL())
	if interval > 0 {
		fmt.Fprintf(out, "counting memberships as one refresh would (at most %v at %d requests/minute)\n", interval, cfg.RequestsPerMinute)
		ctx, cancel = context.WithTimeout(ctx, interval)
	} else {
		ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	}
	defer cancel()
	requests, outOfBudget := 1, false

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GID\tNAME\tTYPE\tCOLLECTED\tSEATS PURCHASED\tMEMBERSHIPS")
	failed := 0
	seen := map[string]bool{}
	for _, w := range visible {
		seen[w.GID] = true
		kind := "workspace"
		if w.IsOrganization {
			kind = "organization"
		}
		status, collected := "-", cfg.Collects(w.GID)
		switch {
		case collected && interval > 0:
			listing, err := client.CountSeats(ctx, w.GID)
			switch {
			case errors.Is(err, asana.ErrBudgetExhausted) || errors.Is(err, context.DeadlineExceeded):
				status, outOfBudget = "readable, too many to count within the refresh interval", true
			case err != nil:
				status, failed = "ERROR: "+err.Error(), failed+1
			default:
				requests += listing.Pages
				status = fmt.Sprintf("readable: %d (%d licensed) in %d page(s)", listing.Seats.Total(), listing.Seats.Licensed, listing.Pages)
			}
		case collected:
			status = "readable"
			if err := probeMemberships(ctx, client, w.GID); err != nil {
				status, failed = "ERROR: "+err.Error(), failed+1
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", w.GID, w.Name, kind, yesNo(collected), purchased(cfg, w.GID), status)
	}
	for _, gid := range cfg.ListedButAbsent(func(gid string) bool { return seen[gid] }) {
		failed++
		fmt.Fprintf(tw, "%s\t?\t?\tyes\t%s\tERROR: the token cannot see this workspace; check the gid or use a token of one of its members\n", gid, purchased(cfg, gid))
	}
	tw.Flush()
	if need := asana.MinDuration(requests, cfg.RequestsPerMinute); interval > 0 && (outOfBudget || need > interval) {
		fmt.Fprintf(out, "WARNING: the organisation is too big to count every %v at %d requests/minute (a refresh needs %d requests or more, at least %v); "+
			"raise --asana.refresh-interval\n", interval, cfg.RequestsPerMinute, requests, need.Round(time.Second))
	} else if interval > 0 {
		fmt.Fprintf(out, "refresh: %d requests, at least %v of the %v interval at %d requests/minute\n", requests, need.Round(time.Second), interval, cfg.RequestsPerMinute)
	}
	if failed > 0 {
		return fmt.Errorf("%d workspace(s) cannot be collected; see above", failed)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func purchased(cfg *config.Config, gid string) string {
	if w := cfg.Workspace(gid); w != nil && w.SeatsPurchased != nil {
		return fmt.Sprint(*w.SeatsPurchased)
	}
	return "-"
}
