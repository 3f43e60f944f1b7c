package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// AuditMetrics exports how the audit log reader goes, and the seat events
// it read, from the reader's Ledgers. The idle and paused seats are the
// Collector's: they are judged in the membership listing.
type AuditMetrics struct {
	reader        *auditlog.Reader
	organizations func() []string

	up, lastPoll, historyStart, lastEvent, backfilled, stalled *prometheus.Desc
	events, roleChanges                                        *prometheus.Desc
}

// NewAuditMetrics exports reader's numbers for the organisations it reads.
func NewAuditMetrics(reader *auditlog.Reader, organizations func() []string) *AuditMetrics {
	ws := []string{"workspace_gid"}
	return &AuditMetrics{
		reader: reader, organizations: organizations,
		up: prometheus.NewDesc("asana_audit_log_up",
			"1 if the last poll read the audit log (GET /workspaces/{gid}/audit_log_events) of every organisation, else 0. "+
				"A token that may not read it (only an Enterprise+ service account may) stays at 0, with no other asana_audit_log_* metric.",
			nil, nil),
		lastPoll: prometheus.NewDesc("asana_audit_log_last_success_timestamp_seconds",
			"Unix time at which the last poll that read every organisation's audit log started.", nil, nil),
		historyStart: prometheus.NewDesc("asana_audit_log_history_start_timestamp_seconds",
			"Unix time from which the login history is complete: the first start's backfill (Asana keeps 90 days), kept across restarts by --storage.path.",
			ws, nil),
		lastEvent: prometheus.NewDesc("asana_audit_log_last_event_timestamp_seconds",
			"Unix time of the newest seat event read from the organisation's audit log (created_at).", ws, nil),
		backfilled: prometheus.NewDesc("asana_audit_log_backfill_complete",
			"1 once every seat event stream of the organisation has been read up to the present at least once, else 0 (backfilling).", ws, nil),
		stalled: prometheus.NewDesc("asana_audit_log_stream_stalled",
			"1 if the organisation's audit log stream of event_type (one request chain of GET /workspaces/{gid}/audit_log_events per seat event type) "+
				"has made no progress for "+strconv.Itoa(auditlog.StallPolls)+" polls in a row: its requests keep failing, or it keeps starting over without reaching the present. "+
				"0 while it moves, caught up with no new event included. The exporter's log says why.",
			[]string{"workspace_gid", "event_type"}, nil),
		events: prometheus.NewDesc("asana_audit_log_events_total",
			"Seat events read from the organisation's audit log since the backfill, by event_type (logins, invites, deprovisions, reprovisions, "+
				"billing pauses and unpauses, admin role changes). The backfill's own events are not counted, so a restart replays none.",
			[]string{"workspace_gid", "event_type"}, nil),
		roleChanges: prometheus.NewDesc("asana_workspace_admin_role_changes_total",
			"user_workspace_admin_role_changed events read since the backfill, by the role given (details.new_value): member, domain_admin, "+
				"super_admin, or other. The audit log is the only place a super admin shows.",
			[]string{"workspace_gid", "new_role"}, nil),
	}
}

func (m *AuditMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.up, m.lastPoll, m.historyStart, m.lastEvent, m.backfilled, m.stalled, m.events, m.roleChanges} {
		ch <- d
	}
}

func (m *AuditMetrics) Collect(ch chan<- prometheus.Metric) {
	orgs := m.organizations()
	if len(orgs) == 0 { // audit_log is off, or no organisation is collected
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	health := m.reader.Health()
	gauge(m.up, boolFloat(health.Polled && health.Err == nil))
	if health.Denied {
		return
	}
	if !health.LastSuccess.IsZero() {
		gauge(m.lastPoll, float64(health.LastSuccess.UnixMilli())/1000)
	}
	for _, gid := range orgs {
		l := m.reader.Ledger(gid)
		if l == nil {
			continue
		}
		st := l.Status()
		gauge(m.historyStart, float64(st.HistoryStart.UnixMilli())/1000, gid)
		gauge(m.backfilled, boolFloat(st.BackfillDone), gid)
		if !st.LastEvent.IsZero() {
			gauge(m.lastEvent, float64(st.LastEvent.UnixMilli())/1000, gid)
		}
		for _, t := range asana.SeatEventTypes {
			gauge(m.stalled, boolFloat(st.Stalled[t]), gid, t)
			counter(m.events, st.Events[t], gid, t)
		}
		for _, r := range auditlog.Roles {
			counter(m.roleChanges, st.RoleChanges[r], gid, r)
		}
		if n := st.RoleChanges["other"]; n > 0 {
			counter(m.roleChanges, n, gid, "other")
		}
	}
}
