package collector_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
)

// TestAuditStreamStalled: asana_audit_log_stream_stalled is 0 for every
// stream that reads, and 1 for each stream whose requests failed for
// auditlog.StallPolls polls in a row, until one reads again.
func TestAuditStreamStalled(t *testing.T) {
	o := asanatest.Generate(7, asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, Licensed: 20})
	o.GenerateUsage(o.Workspaces[0], time.Now(), asanatest.UsageSpec{Idle30: 2, Paused: 1})
	srv := asanatest.NewServer(o, asanatest.Config{RequestsPerWindow: 1 << 20})
	t.Cleanup(srv.Close)
	client := srv.NewClient(func(o *asana.Options) {
		o.RetryBaseDelay, o.RetryMaxDelay, o.RequestsPerMinute = time.Millisecond, 10*time.Millisecond, 1<<20
	})
	orgs := func() []string { return srv.WorkspaceGIDs()[:1] }
	reader := auditlog.NewReader(auditlog.ReaderOptions{Source: client})
	m := collector.NewAuditMetrics(reader, orgs)
	expect := func(stalled int) string {
		var b strings.Builder
		b.WriteString("# HELP asana_audit_log_stream_stalled 1 if the organisation's audit log stream of event_type " +
			"(one request chain of GET /workspaces/{gid}/audit_log_events per seat event type) has made no progress for " +
			fmt.Sprint(auditlog.StallPolls) + " polls in a row: its requests keep failing, or it keeps starting over without " +
			"reaching the present. 0 while it moves, caught up with no new event included. The exporter's log says why.\n" +
			"# TYPE asana_audit_log_stream_stalled gauge\n")
		for _, typ := range asana.SeatEventTypes {
			fmt.Fprintf(&b, "asana_audit_log_stream_stalled{event_type=%q,workspace_gid=%q} %d\n", typ, orgs()[0], stalled)
		}
		return b.String()
	}

	if err := reader.Poll(context.Background(), orgs(), nil); err != nil {
		t.Fatal(err)
	}
	srv.Inject(asanatest.Fault{Route: asana.EndpointAuditLogEvents, Status: 400, Message: "event_type: Not a recognized value."})
	for i := range auditlog.StallPolls {
		if err := testutil.CollectAndCompare(m, strings.NewReader(expect(0)), "asana_audit_log_stream_stalled"); err != nil {
			t.Fatalf("after %d failed polls: %v", i, err)
		}
		if err := reader.Poll(context.Background(), orgs(), nil); err == nil {
			t.Fatal("a refused poll succeeded")
		}
	}
	if err := testutil.CollectAndCompare(m, strings.NewReader(expect(1)), "asana_audit_log_stream_stalled"); err != nil {
		t.Fatalf("after %d failed polls: %v", auditlog.StallPolls, err)
	}
	srv.ClearFaults()
	if err := reader.Poll(context.Background(), orgs(), nil); err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(m, strings.NewReader(expect(0)), "asana_audit_log_stream_stalled"); err != nil {
		t.Fatalf("after a poll that read: %v", err)
	}
}
