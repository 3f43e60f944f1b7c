package collector

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// countingCollector reports how often it was collected, as its value.
type countingCollector struct {
	desc  *prometheus.Desc
	calls int
}

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	c.calls++
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.calls))
}

func TestCachedCollectsAtMostOncePerTTL(t *testing.T) {
	inner := &countingCollector{desc: prometheus.NewDesc("collections_total", "Collections.", nil, nil)}
	now := time.Unix(1_700_000_000, 0)
	c := Cached(inner, time.Second, func() time.Time { return now })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	for _, step := range []struct {
		advance time.Duration
		want    float64
	}{
		{0, 1},                      // the first scrape collects
		{999 * time.Millisecond, 1}, // within the ttl: the same metrics
		{time.Millisecond, 2},       // a ttl later: collected again
		{10 * time.Second, 3},
		{0, 3},
	} {
		now = now.Add(step.advance)
		if got := testutil.ToFloat64(c); got != step.want {
			t.Fatalf("after %v: collections_total %v, want %v", step.advance, got, step.want)
		}
		if _, err := reg.Gather(); err != nil { // Describe and Collect agree
			t.Fatal(err)
		}
	}
	if inner.calls != 3 {
		t.Errorf("the wrapped collector ran %d times, want 3", inner.calls)
	}
}
