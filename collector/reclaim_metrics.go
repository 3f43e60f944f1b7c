package collector

import (
	"errors"
	"io/fs"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/internal/reclaim"
)

// ReclaimMetrics exports what reclaim apply and undo did, read from their
// journal at each scrape: the journal is the record, so the numbers
// survive restarts and agree with it. No person is named.
type ReclaimMetrics struct {
	journal                            string
	actions, last, removed, saving, up *prometheus.Desc
}

// The values of the action and result labels, all exported from the start.
var (
	reclaimActions = []reclaim.Action{reclaim.ActionRemove, reclaim.ActionAdd}
	reclaimResults = []reclaim.Result{reclaim.ResultDone, reclaim.ResultSkipped, reclaim.ResultFailed}
)

// NewReclaimMetrics reads the journal at path (--reclaim.journal).
func NewReclaimMetrics(path string) *ReclaimMetrics {
	return &ReclaimMetrics{
		journal: path,
		actions: prometheus.NewDesc("asana_reclaim_actions_total",
			"Actions in the reclaim journal (--reclaim.journal), by action (remove: POST removeUser by reclaim apply; add: POST addUser "+
				"by reclaim undo) and result (done: Asana confirmed it; skipped: the re-check found the reason gone; failed).",
			[]string{"action", "result"}, nil),
		last: prometheus.NewDesc("asana_reclaim_last_action_timestamp_seconds",
			"Unix time of the last action Asana confirmed (result done) in the reclaim journal. Absent before the first.", nil, nil),
		removed: prometheus.NewDesc("asana_reclaim_removed_seats",
			"Members the reclaim journal removed and has not added back since, by workspace.", []string{"workspace_gid"}, nil),
		saving: prometheus.NewDesc("asana_reclaim_monthly_saving",
			"The monthly seat price (seat_price in the config when the plan was made) of the seats in asana_reclaim_removed_seats, by workspace.",
			[]string{"workspace_gid"}, nil),
		up: prometheus.NewDesc("asana_reclaim_journal_up",
			"1 when the reclaim journal could be read at this scrape (or does not exist yet), 0 when it could not: "+
				"asana_exporter reclaim undo --journal=FILE, a dry run, says why.",
			nil, nil),
	}
}

func (m *ReclaimMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.actions, m.last, m.removed, m.saving, m.up} {
		ch <- d
	}
}

func (m *ReclaimMetrics) Collect(ch chan<- prometheus.Metric) {
	entries, err := reclaim.ReadJournal(m.journal)
	if errors.Is(err, fs.ErrNotExist) {
		entries, err = nil, nil
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 1)
	counts := map[[2]string]int{}
	var last float64
	for _, e := range entries {
		counts[[2]string{string(e.Action), string(e.Result)}]++
		if e.Result == reclaim.ResultDone {
			last = max(last, float64(e.Time.UnixNano())/1e9)
		}
	}
	for _, a := range reclaimActions {
		for _, r := range reclaimResults {
			ch <- prometheus.MustNewConstMetric(m.actions, prometheus.CounterValue, float64(counts[[2]string{string(a), string(r)}]), string(a), string(r))
		}
	}
	if last > 0 {
		ch <- prometheus.MustNewConstMetric(m.last, prometheus.GaugeValue, last)
	}
	for w, r := range reclaim.ReclaimedBy(entries) {
		ch <- prometheus.MustNewConstMetric(m.removed, prometheus.GaugeValue, float64(r.Seats), w)
		ch <- prometheus.MustNewConstMetric(m.saving, prometheus.GaugeValue, r.Monthly, w)
	}
}
