package reconcile

import "testing"

// BenchmarkParseActivity: a cell costs about 100 ns once its column's format
// is known, so that the activity column adds little to a row of 10^6.
func BenchmarkParseActivity(b *testing.B) {
	for _, cell := range []string{"2025-06-30", "2025-06-30T10:00:00Z", "Never", "03/04/2025", "Mar 4, 2025"} {
		b.Run(cell, func(b *testing.B) {
			var p activityParser
			for b.Loop() {
				p.parse(cell)
			}
		})
	}
}
