package exporter

import (
	"testing"
	"time"
)

// TestTakesIsTrueOfEveryValue: --config.check's "which take ..." never
// says "at least 0s", nor more than the time it was given.
func TestTakesIsTrueOfEveryValue(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                      "under a second",
		999 * time.Millisecond:                 "under a second",
		time.Second:                            "at least 1s",
		1900 * time.Millisecond:                "at least 1s",
		6*time.Minute + 42500*time.Millisecond: "at least 6m42s",
	} {
		if got := takes(d); got != want {
			t.Errorf("takes(%v) = %q, want %q", d, got, want)
		}
	}
}
