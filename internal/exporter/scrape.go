package exporter

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// defaultScrapeTimeout is Prometheus's, for a scraper that announces none.
const defaultScrapeTimeout = 10 * time.Second

// scrapeHandler serves the exporter's own metrics (reg and the
// organisations') and the seat metrics of the snapshots the collections
// ready for this scrape. In the background those are always the latest,
// so the seat collector joins reg once. On scrape each organisation counts
// for this scrape, concurrently, within the scrape's timeout less the
// offset, so each scrape gathers its own.
func (e *Exporter) scrapeHandler(reg *prometheus.Registry, opts promhttp.HandlerOpts) http.Handler {
	first := e.organizations()[0].collection
	freshness := first.Freshness()
	if first.Background() {
		reg.MustRegister(e.seats(e.snapshots, freshness))
		return promhttp.HandlerFor(e.gatherer(reg), opts)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		timeout := defaultScrapeTimeout
		if v, err := strconv.ParseFloat(req.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && v > 0 {
			timeout = min(time.Duration(v*float64(time.Second)), collect.MaxScrapeTimeout)
		}
		ctx, cancel := context.WithTimeout(req.Context(), max(timeout-e.opts.TimeoutOffset, 100*time.Millisecond))
		orgs := e.organizations()
		snaps := make([]*collect.Snapshot, len(orgs))
		var wg sync.WaitGroup
		for i, o := range orgs {
			wg.Go(func() { snaps[i] = o.collection.BeforeScrape(ctx) })
		}
		wg.Wait()
		cancel()
		seats := prometheus.NewRegistry()
		seats.MustRegister(e.seats(func() []*collect.Snapshot { return snaps }, freshness))
		promhttp.HandlerFor(prometheus.Gatherers{e.gatherer(reg), seats}, opts).ServeHTTP(w, req)
	})
}
