package auditlog

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/internal/idle"

	"github.com/asana-exporter/asana_exporter/asana"
)

// BenchmarkMillionUsers measures the state of an organisation of a million
// users: its heap in memory (the target is 100 MB), and how long the state
// file takes to write and to load, and its size.
func BenchmarkMillionUsers(b *testing.B) {
	const users = 1_000_000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := newLedger(time.Now().Add(-Retention))
		now := time.Now().UnixMilli()
		for i := range uint64(users) {
			u := user{lastLogin: now - int64(i%90)*int64(idle.Day/time.Millisecond)}
			if i%100 == 0 {
				u.paused = now
			}
			l.users[1_200_000_000_000_000+i] = u
		}
		l.streams[asana.EventLoginSucceeded].Offset = "eyJ0eXAiOiJKV1QifQ.e30.c2ln"
		runtime.GC()
		runtime.ReadMemStats(&after)
		ledgers := map[string]*Ledger{"1200000000000001": l}

		dir := b.TempDir()
		start := time.Now()
		if err := save(dir, ledgers); err != nil {
			b.Fatal(err)
		}
		write := time.Since(start)
		st, err := os.Stat(filepath.Join(dir, StateFile))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		loaded, err := load(dir)
		if err != nil {
			b.Fatal(err)
		}
		read := time.Since(start)
		if got := len(loaded["1200000000000001"].users); got != users {
			b.Fatalf("loaded %d users, want %d", got, users)
		}
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(write.Seconds(), "write-s")
		b.ReportMetric(read.Seconds(), "load-s")
		b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
		runtime.KeepAlive(l)
	}
}
