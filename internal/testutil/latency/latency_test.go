package latency

import (
	"slices"
	"testing"
	"time"
)

func TestQuantilesAreNearestRank(t *testing.T) {
	var r Recorder
	if got := r.Quantiles(0.5); got[0] != 0 {
		t.Errorf("empty: %v, want 0", got)
	}
	var ms []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ms = append(ms, time.Duration(i)*time.Millisecond)
	}
	r.Add(ms[:50])
	r.Add(ms[50:])
	if got, want := r.Quantiles(0.01, 0.5, 0.99, 1), []float64{1, 50, 99, 100}; !slices.Equal(got, want) {
		t.Errorf("quantiles %v, want %v", got, want)
	}
	if r.Len() != 100 {
		t.Errorf("Len %d, want 100", r.Len())
	}
}
