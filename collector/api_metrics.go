package collector

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
)

// APIMetrics counts the client's requests. It implements asana.Observer.
// These are cumulative counters owned by the exporter, not values copied
// from Asana, so they are plain instrumented metrics.
type APIMetrics struct {
	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	retries     *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
}

var _ asana.Observer = (*APIMetrics)(nil)

// NewAPIMetrics returns the API metrics, with the collection's listings
// initialised so that rate() works from the first scrape; any other
// endpoint has its series from its first request. Register it as a
// collector.
func NewAPIMetrics() *APIMetrics {
	m := &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asana_api_requests_total",
			Help: "HTTP requests the exporter sent to the Asana API, by route template and status code (code=\"0\" when no response arrived). Retries count as requests.",
		}, []string{"endpoint", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "asana_api_request_duration_seconds",
			Help:    "Duration of Asana API requests, body read included, by route template.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"endpoint"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asana_api_rate_limited_total",
			Help: "Asana API responses with status 429 (rate limited), by route template. The exporter waits Retry-After before retrying.",
		}, []string{"endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asana_api_retries_total",
			Help: "Asana API requests retried after a 429, a 5xx, a network error or a malformed body, by route template.",
		}, []string{"endpoint"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asana_api_duplicate_records_dropped_total",
			Help: "Records an Asana listing returned whose gid an earlier record of the same listing had, by route template: the exporter drops them, so that each membership or workspace counts once. Counted by the exporter as it reads the pages.",
		}, []string{"endpoint"}),
	}
	for _, ep := range []string{asana.EndpointWorkspaces, asana.EndpointWorkspaceMemberships} {
		m.endpoint(ep)
		m.duplicates.WithLabelValues(ep) // listings alone drop duplicates
	}
	return m
}

// endpoint gives ep a series, at 0 until counted, in each metric a request
// to it may count: every endpoint of asana_api_requests_total (the audit
// log's, the OAuth token endpoint's, a command's) is in the rate-limited
// and retries totals too, so that a ratio of them has no gap.
func (m *APIMetrics) endpoint(ep string) {
	m.durations.WithLabelValues(ep)
	m.rateLimited.WithLabelValues(ep)
	m.retries.WithLabelValues(ep)
}

func (m *APIMetrics) Request(endpoint string, code int, d time.Duration) {
	m.endpoint(endpoint)
	m.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
	m.durations.WithLabelValues(endpoint).Observe(d.Seconds())
}

func (m *APIMetrics) RateLimited(endpoint string) { m.rateLimited.WithLabelValues(endpoint).Inc() }
func (m *APIMetrics) Retry(endpoint string)       { m.retries.WithLabelValues(endpoint).Inc() }
func (m *APIMetrics) DuplicatesDropped(endpoint string, n int) {
	m.duplicates.WithLabelValues(endpoint).Add(float64(n))
}

func (m *APIMetrics) vecs() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.durations, m.rateLimited, m.retries, m.duplicates}
}

func (m *APIMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range m.vecs() {
		v.Describe(ch)
	}
}

func (m *APIMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, v := range m.vecs() {
		v.Collect(ch)
	}
}
