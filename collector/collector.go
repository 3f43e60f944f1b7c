package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// Collector exports the latest Snapshot as const metrics, or the latest
// of each organisation. It holds no mutable metric state, so a workspace
// that disappears from the snapshot disappears from /metrics.
type Collector struct {
	snapshots      func() []*collect.Snapshot
	byOrganization bool // asana_up and asana_refresh_* have the organization label

	members, admins, purchased, info   *prometheus.Desc
	outsideDomains                     *prometheus.Desc
	idle, paused, seatPrice, renewal   *prometheus.Desc
	up, success, duration, lastSuccess *prometheus.Desc
	minDuration, deadline, behind      *prometheus.Desc
}

// NewCollector reads snapshots from snapshot. freshness is appended to the
// HELP of values copied from Asana and says how old they can be, e.g.
// "Cached: refreshed every 5m0s in the background."
func NewCollector(snapshot func() *collect.Snapshot, freshness string) *Collector {
	return newCollector(func() []*collect.Snapshot { return []*collect.Snapshot{snapshot()} }, freshness, nil)
}

// NewOrganizationsCollector reads the snapshots of several organisations:
// asana_up and asana_refresh_* are each organisation's, with its
// organization label; the workspaces' metrics keep their labels, since a
// gid is unique across organisations. A workspace that two organisations'
// tokens see and count is published once, by the first of snapshots.
func NewOrganizationsCollector(snapshots func() []*collect.Snapshot, freshness string) *Collector {
	return newCollector(snapshots, freshness, []string{"organization"})
}

// newCollector labels the collections' own metrics (asana_up and
// asana_refresh_*) with org, which is nil or the organization label.
func newCollector(snapshots func() []*collect.Snapshot, freshness string, org []string) *Collector {
	ws := []string{"workspace_gid"}
	return &Collector{
		snapshots: snapshots, byOrganization: org != nil,
		members: prometheus.NewDesc("asana_workspace_members",
			"Workspace memberships by seat state, from GET /workspaces/{gid}/workspace_memberships. "+
				"licensed: is_active and not is_guest and not is_view_only (paid full seats; admins and pending invites included). "+
				"view_only: is_active and is_view_only and not is_guest. guest: is_active and is_guest. inactive: not is_active. "+
				"The states are disjoint, so sum() is every membership. "+freshness,
			[]string{"workspace_gid", "state"}, nil),
		outsideDomains: prometheus.NewDesc("asana_workspace_members_outside_email_domains",
			"Active workspace memberships by seat state whose user.email domain is not one of the workspace's email_domains "+
				"(GET /workspaces), from the same listing as asana_workspace_members. In an organisation such members should be guests: "+
				"a licensed one is a seat to reclaim or a wrong is_guest flag. Only for organisations with email domains, "+
				"while email_domain_check is on. "+freshness,
			[]string{"workspace_gid", "state"}, nil),
		idle: prometheus.NewDesc("asana_workspace_seats_idle",
			"Active members of the state (licensed or view_only) with no user_login_succeeded in Asana's audit log for the last "+
				"`days` days (none in the history counts as none), judged in the same listing as asana_workspace_members against the "+
				"audit log read so far. Members whose membership is younger than `days` days, and paused licences, are not counted. "+
				"A `days` value appears once the login history reaches back that far. Login-based: Asana does not log everyday activity. "+freshness,
			[]string{"workspace_gid", "state", "days"}, nil),
		paused: prometheus.NewDesc("asana_workspace_seats_paused",
			"Active licensed members whose licence is paused from billing: their last billing event in Asana's audit log is "+
				"domain_user_billing_paused, with no unpause and no login after it. Billed seats are licensed minus paused. "+freshness,
			ws, nil),
		seatPrice: prometheus.NewDesc("asana_workspace_seat_price",
			"What one seat costs a month, from seat_price in the exporter's config file, in the contract's currency.",
			ws, nil),
		renewal: prometheus.NewDesc("asana_workspace_contract_renewal_timestamp_seconds",
			"Unix time the workspace's contract renews (00:00 UTC of the day), from renewal_date in the exporter's config file.",
			ws, nil),
		admins: prometheus.NewDesc("asana_workspace_admins",
			"Active workspace admins (is_active and is_admin) from GET /workspaces/{gid}/workspace_memberships; "+
				"they are also counted in asana_workspace_members. "+freshness,
			ws, nil),
		purchased: prometheus.NewDesc("asana_workspace_seats_purchased",
			"Seats purchased for the workspace, from seats_purchased in the exporter's config file (Asana's API does not report it).",
			ws, nil),
		info: prometheus.NewDesc("asana_workspace_info",
			"Always 1. The workspace's name and is_organization, from GET /workspaces. Join on workspace_gid. "+freshness,
			[]string{"workspace_gid", "workspace_name", "is_organization"}, nil),
		up: prometheus.NewDesc("asana_up",
			"1 if the last collection reached the Asana API and authenticated (GET /workspaces succeeded), else 0.",
			org, nil),
		success: prometheus.NewDesc("asana_collection_success",
			"1 if the last collection of the workspace's memberships completed, else 0. A failed collection publishes no new seat numbers.",
			ws, nil),
		duration: prometheus.NewDesc("asana_collection_duration_seconds",
			"How long the last collection of the workspace's memberships took, failed or not.",
			ws, nil),
		lastSuccess: prometheus.NewDesc("asana_collection_last_success_timestamp_seconds",
			"Unix time of the last complete collection of the workspace's memberships; the seat numbers published are from then.",
			ws, nil),
		minDuration: prometheus.NewDesc("asana_refresh_min_duration_seconds",
			"Least time a complete collection can take within the token's requests_per_minute budget: one request for GET /workspaces "+
				"plus one per page of 100 memberships in each workspace's last complete listing.",
			org, nil),
		deadline: prometheus.NewDesc("asana_refresh_deadline_seconds",
			"Time the last collection was given: the refresh interval in background mode, the scrape timeout less the offset on scrape.",
			org, nil),
		behind: prometheus.NewDesc("asana_refresh_falling_behind",
			"1 if the organisation is too big to count within asana_refresh_deadline_seconds at the token's request budget "+
				"(asana_refresh_min_duration_seconds is longer, or a listing ran out of budget before the deadline), else 0. "+
				"Raise the refresh interval.",
			org, nil),
	}
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.members, c.outsideDomains, c.idle, c.paused, c.seatPrice, c.renewal, c.admins, c.purchased, c.info, c.up, c.success, c.duration, c.lastSuccess,
		c.minDuration, c.deadline, c.behind} {
		ch <- d
	}
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snaps := c.snapshots()
	var published map[string]bool // of several snapshots: the gids published already
	if len(snaps) > 1 {
		published = map[string]bool{}
	}
	for _, snap := range snaps {
		c.collect(ch, snap, published)
	}
}

// collect exports one snapshot, but the workspaces published already (nil:
// none to keep track of).
func (c *Collector) collect(ch chan<- prometheus.Metric, snap *collect.Snapshot, published map[string]bool) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	var org []string
	if c.byOrganization {
		org = []string{snap.Organization}
	}
	gauge(c.up, boolFloat(snap.Up), org...)
	gauge(c.behind, boolFloat(snap.FallingBehind), org...)
	if snap.Deadline > 0 { // a cycle has run
		gauge(c.minDuration, snap.MinDuration.Seconds(), org...)
		gauge(c.deadline, snap.Deadline.Seconds(), org...)
	}
	for _, w := range snap.Workspaces {
		if published != nil {
			if published[w.GID] {
				continue
			}
			published[w.GID] = true
		}
		gauge(c.info, 1, w.GID, w.Name, strconv.FormatBool(w.IsOrganization))
		gauge(c.success, boolFloat(w.Success), w.GID)
		gauge(c.duration, w.Duration.Seconds(), w.GID)
		if !w.LastSuccess.IsZero() {
			gauge(c.lastSuccess, float64(w.LastSuccess.UnixMilli())/1000, w.GID)
		}
		if w.SeatsPurchased != nil {
			gauge(c.purchased, float64(*w.SeatsPurchased), w.GID)
		}
		if w.SeatPrice != nil {
			gauge(c.seatPrice, *w.SeatPrice, w.GID)
		}
		if !w.RenewalDate.IsZero() {
			gauge(c.renewal, float64(w.RenewalDate.Unix()), w.GID)
		}
		if u := w.Usage; u != nil {
			gauge(c.paused, float64(u.Paused), w.GID)
			for _, idle := range u.Idle {
				days := strconv.Itoa(idle.Days)
				gauge(c.idle, float64(idle.Licensed), w.GID, asana.Licensed.String(), days)
				gauge(c.idle, float64(idle.ViewOnly), w.GID, asana.ViewOnly.String(), days)
			}
		}
		if s := w.Seats; s != nil {
			for _, st := range asana.States {
				gauge(c.members, float64(s.Of(st)), w.GID, st.String())
				if s.DomainsChecked && st != asana.Inactive {
					gauge(c.outsideDomains, float64(s.Outside[st]), w.GID, st.String())
				}
			}
			gauge(c.admins, float64(s.Admins), w.GID)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
