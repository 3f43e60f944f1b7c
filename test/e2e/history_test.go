package e2e

import (
	"bufio"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// historyDays is how much history TestSeatHistoryCost writes: enough for
// the TSDB's compression to settle, little enough to stay quick. A year
// costs 365/historyDays times as much.
const historyDays = 3

// TestSeatHistoryCost measures what a year of the exporter's series costs
// in a Prometheus TSDB at docs/PROMETHEUS.md's 1m scrape interval, with promtool's
// own block writer, and holds docs/PROMETHEUS.md's "Keeping seat history" numbers
// to it (within 25%). The series are those of a real scrape of the demo:
// one organisation with every feature on (the email-domain check, the
// audit log, a purchase and a price), and the exporter's own. Their values
// move as they do in life: seat counts by a seat now and then, timestamps
// at each 5-minute refresh, durations and the runtime's gauges at random,
// counters upward.
func TestSeatHistoryCost(t *testing.T) {
	promtool := needTool(t, "promtool")
	e := startExporter(t, nil, "--demo")
	e.waitFor(t, "/-/ready")
	var families exposition.Families
	waitUntil(t.Context(), t, "the demo's audit log read", func() bool {
		_, families = e.scrape(t, "")
		return families["asana_workspace_seats_idle"] != nil
	})
	acme := demoGIDs[0]
	workspace := func(m *dto.Metric) bool { return labelOf(m, "workspace_gid") == acme }
	exporterWide := func(m *dto.Metric) bool { return labelOf(m, "workspace_gid") == "" }

	perWorkspace, perWorkspaceSeries := tsdbBytes(t, promtool, families, workspace)
	own, ownSeries := tsdbBytes(t, promtool, families, exporterWide)
	year := func(b int64) float64 { return float64(b) * 365 / historyDays / (1 << 20) }
	t.Logf("a year at 1m: %d series of an organisation %.1f MiB; the exporter's own %d series %.1f MiB", perWorkspaceSeries, year(perWorkspace), ownSeries, year(own))

	readme := string(readRepoFile(t, "docs", "PROMETHEUS.md"))
	m := regexp.MustCompile(`(?s)exports\s+\*\*(\d+)\s+series\s+per\s+organisation\*\*.*?\*\*([\d.]+)\s+MiB\s+a\s+year\*\*\s+per\s+organisation.*?own\s+(\d+)\s+series.*?\*\*([\d.]+)\s+MiB\s+a\s+year\*\*`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("docs/PROMETHEUS.md's Keeping seat history section does not give the series and their cost in the form this test reads")
	}
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	if int(num(m[1])) != perWorkspaceSeries || int(num(m[3])) != ownSeries {
		t.Errorf("docs/PROMETHEUS.md says %s series per organisation and %s of the exporter's own; a scrape has %d and %d", m[1], m[3], perWorkspaceSeries, ownSeries)
	}
	for _, c := range []struct {
		what           string
		said, measured float64
	}{{"per organisation", num(m[2]), year(perWorkspace)}, {"the exporter's own", num(m[4]), year(own)}} {
		if c.measured < 0.75*c.said || c.measured > 1.25*c.said {
			t.Errorf("the README says %.1f MiB a year %s; measured %.1f", c.said, c.what, c.measured)
		}
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// tsdbBytes writes historyDays of the series keep selects, one sample a
// minute, as OpenMetrics, turns them into TSDB blocks with promtool, and
// returns the blocks' size on disk and the number of series.
func tsdbBytes(t *testing.T, promtool string, families exposition.Families, keep func(*dto.Metric) bool) (int64, int) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "history.om")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	type series struct {
		family, labels         string
		counter, jitter, stamp bool
		value                  float64
	}
	var all []*series
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range families {
			if !yield(n) {
				return
			}
		}
	}) {
		fam := families[name]
		for _, m := range fam.GetMetric() {
			if !keep(m) {
				continue
			}
			for _, s := range samplesOf(name, fam.GetType(), m) {
				all = append(all, &series{family: s.name, labels: s.labels, value: s.value,
					counter: s.counter, stamp: strings.HasSuffix(s.name, "_timestamp_seconds"),
					jitter: strings.Contains(s.name, "duration") || strings.HasPrefix(s.name, "go_") || strings.HasPrefix(s.name, "process_")})
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := int64(1_760_000_000) // a fixed past instant, so blocks land in the past
	for minute := range historyDays * 24 * 60 {
		at := start + int64(minute)*60
		refresh := minute%5 == 0
		for _, s := range all {
			switch {
			case s.stamp && refresh:
				s.value = float64(at)
			case s.counter && refresh:
				s.value += float64(rng.IntN(3))
			case s.jitter && (refresh || strings.HasPrefix(s.family, "go_") || strings.HasPrefix(s.family, "process_")):
				s.value = max(0, s.value*(0.95+0.1*rng.Float64()))
			case refresh && rng.Float64() < 0.01: // a seat more or less
				s.value = max(0, s.value+float64(rng.IntN(3)-1))
			}
			fmt.Fprintf(w, "%s%s %g %d\n", s.family, s.labels, s.value, at)
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "blocks")
	if b, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", in, out).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, b)
	}
	var size int64
	filepath.WalkDir(out, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			size += info.Size()
		}
		return err
	})
	if size == 0 {
		t.Fatal("promtool wrote no block")
	}
	return size, len(all)
}

type sample struct {
	name, labels string
	value        float64
	counter      bool
}

// samplesOf flattens a metric into the series Prometheus stores for it:
// a histogram into its buckets, sum and count.
func samplesOf(name string, typ dto.MetricType, m *dto.Metric) []sample {
	labels := func(extra ...string) string {
		var parts []string
		for _, l := range m.GetLabel() {
			parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		parts = append(parts, extra...)
		if len(parts) == 0 {
			return ""
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	switch typ {
	case dto.MetricType_COUNTER:
		return []sample{{name, labels(), m.GetCounter().GetValue(), true}}
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		out := []sample{{name + "_sum", labels(), h.GetSampleSum(), true}, {name + "_count", labels(), float64(h.GetSampleCount()), true}}
		for _, b := range h.GetBucket() {
			out = append(out, sample{name + "_bucket", labels(fmt.Sprintf("le=%q", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))), float64(b.GetCumulativeCount()), true})
		}
		return append(out, sample{name + "_bucket", labels(`le="+Inf"`), float64(h.GetSampleCount()), true})
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		return []sample{{name + "_sum", labels(), s.GetSampleSum(), true}, {name + "_count", labels(), float64(s.GetSampleCount()), true}}
	case dto.MetricType_UNTYPED:
		return []sample{{name, labels(), m.GetUntyped().GetValue(), false}}
	}
	return []sample{{name, labels(), m.GetGauge().GetValue(), false}}
}
