package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// TestMetricsAreSentUncompressed keeps the README's word: /metrics answers
// in plain text even to a scraper that offers gzip, as Prometheus does, and
// the go_* and process_* metrics are there.
func TestMetricsAreSentUncompressed(t *testing.T) {
	p := wireInProcess(t, inProcessSetup{background: true, deadline: 5 * time.Second, newClient: newClient},
		asanatest.WorkspaceSpec{Name: "Acme", IsOrganization: true, Licensed: 3})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
	rec := httptest.NewRecorder()
	p.app.handler.ServeHTTP(rec, req)
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
