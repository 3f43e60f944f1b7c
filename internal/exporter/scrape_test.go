package exporter_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// TestMetricsAreSentUncompressed keeps docs/METRICS.md's word: /metrics answers
// in plain text even to a scraper that offers gzip, as Prometheus does, and
// the go_* and process_* metrics are there.
func TestMetricsAreSentUncompressed(t *testing.T) {
	p := newInProcess(t, setup{background: true, deadline: 5 * time.Second},
		asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, Licensed: 3})
	rec := p.serve(t, "/metrics", http.Header{
		"Accept-Encoding": {"gzip"},
		"Accept":          {"application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"},
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if enc := rec.Header().Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q, want none", enc)
	}
	body := rec.Body.String()
	for _, name := range []string{"asana_up ", "go_goroutines ", "process_cpu_seconds_total "} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("the plain-text answer has no %s", strings.TrimSpace(name))
		}
	}
}

// In the background a scrape only reads the snapshot: it makes no request.
func TestABackgroundScrapeMakesNoRequest(t *testing.T) {
	synctest.Test(t, aBackgroundScrapeMakesNoRequest)
}

func aBackgroundScrapeMakesNoRequest(t *testing.T) {
	p := newInProcess(t, setup{background: true, deadline: 5 * time.Second}, asanatest.Acme)
	p.cycle(t)
	p.srv.ResetRequests()
	for range 10 {
		checkSeats(t, p.scrape(t), p.gids[0], p.truth[0])
	}
	if n := len(p.srv.Requests()); n != 0 {
		t.Errorf("10 scrapes made %d requests", n)
	}
}
