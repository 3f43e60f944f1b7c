package exporter

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// defaultScrapeTimeout is Prometheus's, for a scraper that announces none.
const defaultScrapeTimeout = 10 * time.Second

// scrapeHandler serves the exporter's own metrics (reg) and the seat
// metrics of the snapshot the collection readies for this scrape. In the
// background that is always the latest, so the seat collector joins reg
// once. On scrape it is one counted for this scrape, within the scrape's
// timeout less offset, so each scrape gathers its own.
func scrapeHandler(r *collect.Collection, reg *prometheus.Registry, offset time.Duration, opts promhttp.HandlerOpts) http.Handler {
	freshness := r.Freshness()
	if r.Background() {
		reg.MustRegister(collector.NewCollector(r.Snapshot, freshness))
		return promhttp.HandlerFor(reg, opts)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		timeout := defaultScrapeTimeout
		if v, err := strconv.ParseFloat(req.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && v > 0 {
			timeout = min(time.Duration(v*float64(time.Second)), collect.MaxScrapeTimeout)
		}
		ctx, cancel := context.WithTimeout(req.Context(), max(timeout-offset, 100*time.Millisecond))
		snap := r.BeforeScrape(ctx)
		cancel()
		seats := prometheus.NewRegistry()
		seats.MustRegister(collector.NewCollector(func() *collect.Snapshot { return snap }, freshness))
		promhttp.HandlerFor(prometheus.Gatherers{reg, seats}, opts).ServeHTTP(w, req)
	})
}
