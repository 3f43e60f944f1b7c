package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
)

// TestReclaimMetricsReadTheJournal: the counts by action and result, the
// seats removed and not added back with their price, and the last
// confirmed action's time, from the journal at each scrape; a journal not
// yet written is no error, a damaged one is.
func TestReclaimMetricsReadTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	m := NewReclaimMetrics(path)
	const zeros = `
# HELP asana_reclaim_journal_up 1 when the reclaim journal could be read at this scrape (or does not exist yet), 0 when it could not: asana_exporter reclaim undo --journal=FILE, a dry run, says why.
# TYPE asana_reclaim_journal_up gauge
asana_reclaim_journal_up 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(zeros), "asana_reclaim_journal_up"); err != nil {
		t.Errorf("before the first run: %v", err)
	}
	if n := testutil.CollectAndCount(m, "asana_reclaim_actions_total"); n != 6 {
		t.Errorf("%d action series before the first run, want all 6 at 0", n)
	}

	j, err := reclaim.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	price := 24.99
	row := func(user string) *reclaim.Row {
		return &reclaim.Row{PlannedAt: at.Add(-time.Hour), WorkspaceGID: "1", MembershipGID: "1" + user, UserGID: user, UserEmail: user + "@example.com",
			State: asana.Licensed, Reason: reclaim.ReasonIdle, IdleThresholdDays: 60, IdleDays: 90, ActivitySource: "audit_log",
			Domain: "inside", Action: reclaim.ActionRemove, MonthlyPrice: &price}
	}
	for i, e := range []struct {
		action reclaim.Action
		result reclaim.Result
		user   string
	}{
		{reclaim.ActionRemove, reclaim.ResultDone, "11"},
		{reclaim.ActionRemove, reclaim.ResultDone, "12"},
		{reclaim.ActionRemove, reclaim.ResultSkipped, "13"},
		{reclaim.ActionAdd, reclaim.ResultDone, "12"},
	} {
		p := row(e.user)
		err := j.Append(reclaim.Entry{Time: at.Add(time.Duration(i) * time.Minute), Run: "r1", ActorGID: "9", Action: e.action, Result: e.result,
			WorkspaceGID: "1", MembershipGID: p.MembershipGID, UserGID: e.user, UserEmail: p.UserEmail, PlanRow: p})
		if err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	const want = `
# HELP asana_reclaim_removed_seats Members the reclaim journal removed and has not added back since, by workspace.
# TYPE asana_reclaim_removed_seats gauge
asana_reclaim_removed_seats{workspace_gid="1"} 1
# HELP asana_reclaim_monthly_saving The monthly seat price (seat_price in the config when the plan was made) of the seats in asana_reclaim_removed_seats, by workspace.
# TYPE asana_reclaim_monthly_saving gauge
asana_reclaim_monthly_saving{workspace_gid="1"} 24.99
# HELP asana_reclaim_last_action_timestamp_seconds Unix time of the last action Asana confirmed (result done) in the reclaim journal. Absent before the first.
# TYPE asana_reclaim_last_action_timestamp_seconds gauge
asana_reclaim_last_action_timestamp_seconds 1.79647218e+09
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "asana_reclaim_removed_seats", "asana_reclaim_monthly_saving",
		"asana_reclaim_last_action_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		action, result string
		want           float64
	}{{"remove", "done", 2}, {"remove", "skipped", 1}, {"add", "done", 1}, {"add", "failed", 0}} {
		if got := counterOf(t, m, c.action, c.result); got != c.want {
			t.Errorf("asana_reclaim_actions_total{action=%q,result=%q} = %v, want %v", c.action, c.result, got, c.want)
		}
	}

	if err := os.WriteFile(path, []byte("not json\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(m, strings.NewReader(strings.Replace(zeros, "journal_up 1\n", "journal_up 0\n", 1)), "asana_reclaim_journal_up"); err != nil {
		t.Errorf("a damaged journal: %v", err)
	}
}

func counterOf(t *testing.T, m *ReclaimMetrics, action, result string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != "asana_reclaim_actions_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["action"] == action && labels["result"] == result {
				return s.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no asana_reclaim_actions_total{action=%q,result=%q}", action, result)
	return 0
}
