package collector

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Cached wraps a collector that is costly to read, and serves what it
// collected for up to ttl. The process collector is the case in point: it
// reads five files under /proc at every scrape, which costs more than the
// rest of a scrape together; the Go collector comes next. With a ttl of a
// second, no Prometheus scrape interval sees a difference, and a storm of
// scrapes reads them once a second instead of at every one of them.
//
// The metrics are kept as collected: the client library's metrics are
// immutable once made, so handing the same ones to several scrapes is safe.
func Cached(c prometheus.Collector, ttl time.Duration, now func() time.Time) prometheus.Collector {
	if now == nil {
		now = time.Now
	}
	return &cached{Collector: c, ttl: ttl, now: now}
}

type cached struct {
	prometheus.Collector // Describe is the wrapped one's
	ttl                  time.Duration
	now                  func() time.Time

	mu      sync.Mutex
	metrics []prometheus.Metric
	at      time.Time
}

func (c *cached) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if now := c.now(); c.metrics == nil || now.Sub(c.at) >= c.ttl {
		c.metrics, c.at = c.collect(), now
	}
	metrics := c.metrics
	c.mu.Unlock()
	for _, m := range metrics {
		ch <- m
	}
}

func (c *cached) collect() []prometheus.Metric {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collector.Collect(ch)
		close(ch)
	}()
	metrics := []prometheus.Metric{} // not nil: an empty collection is cached too
	for m := range ch {
		metrics = append(metrics, m)
	}
	return metrics
}
