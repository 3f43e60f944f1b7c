// Package latency collects request latencies from concurrent workers and
// reports their quantiles, for the load the tests and benchmarks put on
// /metrics.
package latency

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Recorder is safe for concurrent use. Each worker keeps its own slice and
// adds it once at the end, so recording takes no lock per request.
type Recorder struct {
	mu  sync.Mutex
	all []time.Duration
}

// Add records one worker's latencies.
func (r *Recorder) Add(mine []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, mine...)
}

// Len is the number of latencies recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// Quantiles returns the q-quantiles (nearest rank), in milliseconds; 0 for
// each when nothing was recorded.
func (r *Recorder) Quantiles(qs ...float64) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.all)
	out := make([]float64, len(qs))
	for i, q := range qs {
		if n := len(r.all); n > 0 {
			out[i] = float64(r.all[max(0, int(math.Ceil(q*float64(n)))-1)].Microseconds()) / 1000
		}
	}
	return out
}
