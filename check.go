package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
)

// checkConfig is --config.check: the config parsed already; now show what
// the token can see and prove it can read every collected workspace's
// memberships, one page each.
func checkConfig(ctx context.Context, client *asana.Client, cfg *config.Config, file string, out io.Writer) error {
	if file != "" {
		fmt.Fprintf(out, "config: %s is valid\n", file)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	visible, err := client.Workspaces(ctx)
	if err != nil {
		return fmt.Errorf("token check failed: %w", err)
	}
	fmt.Fprintf(out, "token: valid, sees %d workspace(s) at %s\n", len(visible), client.BaseURL())

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
		if collected {
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
