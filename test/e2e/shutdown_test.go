package e2e

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// TestShutdownDuringACollection sends SIGTERM while an on-scrape collection
// waits on a stalled Asana: the collection is cancelled, the scrape gets an
// answer, and the exporter exits cleanly at once instead of waiting for
// Asana or its shutdown timeout.
func TestShutdownDuringACollection(t *testing.T) {
	s := newSimulated(t, asanatest.Config{})
	e := startExporter(t, nil, s.args("--asana.refresh-interval=0")...)
	s.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 3, Latency: time.Hour})

	scraped := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, e.url("/metrics"), nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "120")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			scraped <- 0
			return
		}
		resp.Body.Close()
		scraped <- resp.StatusCode
	}()
	// Wait until the collection is stuck on the stalled page.
	deadline := time.Now().Add(10 * time.Second)
	for !stalled(s.srv) {
		if time.Now().After(deadline) {
			t.Fatal("the collection never reached the stalled page")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // Globex's page 3 is due right after its page 2

	start := time.Now()
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		if e.err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", e.err, e.output)
		}
	case <-time.After(4 * time.Second):
		t.Fatalf("no exit within 4 s of SIGTERM\n%s", e.output)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	select {
	case code := <-scraped:
		if code != http.StatusOK {
			t.Errorf("the scrape in flight got %d", code)
		}
	case <-time.After(2 * time.Second):
		t.Error("the scrape in flight never got an answer")
	}
	if !strings.Contains(e.output.String(), "Shutting down") {
		t.Errorf("no shutdown log line:\n%s", e.output)
	}
}

// stalled reports whether a listing has answered page 2 and none has
// answered page 3: the simulator logs a request when it answers it.
func stalled(srv *asanatest.Server) bool {
	pages := map[int]bool{}
	for _, r := range srv.Requests() {
		if r.Route == asana.EndpointWorkspaceMemberships {
			pages[r.Page] = true
		}
	}
	return pages[2] && !pages[3]
}
