package collector_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
)

// TestAPIMetricsShareTheirEndpoints: every endpoint asana_api_requests_total
// counts (the audit log's among them) has a series in
// asana_api_rate_limited_total and asana_api_retries_total too, at 0 until
// one is counted.
func TestAPIMetricsShareTheirEndpoints(t *testing.T) {
	m := collector.NewAPIMetrics()
	for _, ep := range []string{asana.EndpointWorkspaces, asana.EndpointAuditLogEvents, asana.EndpointOAuthToken} {
		m.Request(ep, 200, time.Millisecond)
	}
	m.Retry(asana.EndpointAuditLogEvents)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	endpoints := map[string][]string{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "endpoint" && !slices.Contains(endpoints[f.GetName()], l.GetValue()) {
					endpoints[f.GetName()] = append(endpoints[f.GetName()], l.GetValue())
				}
			}
		}
	}
	requested := endpoints["asana_api_requests_total"]
	if !slices.Contains(requested, asana.EndpointAuditLogEvents) || len(requested) != 3 {
		t.Fatalf("asana_api_requests_total has endpoints %q, want the 3 requested", requested)
	}
	for _, name := range []string{"asana_api_rate_limited_total", "asana_api_retries_total"} {
		for _, ep := range requested {
			if !slices.Contains(endpoints[name], ep) {
				t.Errorf("%s has no series for %s, which asana_api_requests_total has (it has %q)", name, ep, endpoints[name])
			}
		}
	}
}
