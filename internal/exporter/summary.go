package exporter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/asana-exporter/asana_exporter/internal/cell"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
	"github.com/asana-exporter/asana_exporter/internal/summary"
)

// summary is seats --summary: the renewal summary of the listings, to out
// or, whole or not at all, to opts.Output. Its notes (why a number is
// unknown) go to errOut. A workspace whose listing failed is left out, no
// --output file is written, and the command fails.
func (e *Exporter) summary(listings roster.Listings, listOpts roster.ListOptions, opts SeatsOptions, out, errOut io.Writer) error {
	cfg := e.config.Get()
	pricedDays := summary.DefaultPricedDays
	if opts.IdleDays > 0 {
		pricedDays = opts.IdleDays
	}
	reclaimed, err := e.reclaimed()
	if err != nil {
		return err
	}
	b := summary.New(summary.Options{Thresholds: cfg.AuditLog.IdleDays, PricedDays: pricedDays, Now: listOpts.Now, Reclaim: reclaimed != nil})
	for _, l := range listings {
		if l.Err != nil {
			continue
		}
		w := l.Workspace
		auditLog, consoleExport, _ := l.Sources()
		sw := summary.Workspace{GID: w.GID, Name: w.Name, Organization: w.IsOrganization, Domains: len(w.EmailDomains) > 0,
			PausedKnown: auditLog, ActivityKnown: auditLog || consoleExport}
		if c := cfg.Workspace(w.GID); c != nil {
			sw.Purchased, sw.SeatPrice = c.SeatsPurchased, c.SeatPrice
			if c.RenewalDate != nil {
				sw.Renewal = &c.RenewalDate.Time
			}
		}
		if reclaimed != nil {
			r := reclaimed[w.GID]
			sw.Reclaimed = &r
		}
		if auditLog && !consoleExport { // the export tells activity however old
			sw.ActivitySince = e.ledger(w.GID).Status().HistoryStart
		}
		if err := l.Each(b.Workspace(sw).Add); err != nil {
			return fmt.Errorf("workspace %s: reading its roster back: %w", w.GID, err)
		}
	}
	s := b.Summary()
	wopts := summary.WriteOptions{Format: opts.Format, BOM: opts.BOM}
	if err := writeOutput(listings, opts.Output, "summary", out, func(w io.Writer) error { return s.Write(w, wopts) }); err != nil {
		return err
	}
	for _, n := range s.Notes {
		fmt.Fprintf(errOut, "%s: %s\n", Program, cell.Terminal(n)) // a workspace's name is anyone's to choose
	}
	if failed := listings.Failed(); len(failed) > 0 {
		return fmt.Errorf("%d of %d workspace(s) could not be listed; the summary leaves them out", len(failed), len(listings))
	}
	return nil
}

// reclaimed is what the reclaim journal (--reclaim.journal) says reclaim
// freed, by workspace gid; nil without a journal. A journal not written
// yet has freed nothing.
func (e *Exporter) reclaimed() (map[string]reclaim.Reclaimed, error) {
	if e.opts.ReclaimJournal == "" {
		return nil, nil
	}
	entries, err := reclaim.ReadJournal(e.opts.ReclaimJournal)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--reclaim.journal: %w", err)
	}
	return reclaim.ReclaimedBy(entries), nil
}
