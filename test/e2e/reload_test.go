package e2e

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// TestReload changes the config and rotates the token on a running
// exporter, by SIGHUP and by POST /-/reload, and checks that invalid files
// are refused with the reason while the old config and token stay in use.
func TestReload(t *testing.T) {
	const rotated = "2/9876543210:rotated-secret"
	s := newSimulated(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{
		asanatest.DefaultToken: asanatest.FullAccess, rotated: asanatest.FullAccess}})
	e := startExporter(t, nil, s.args("--asana.refresh-interval=300ms")...)
	e.waitFor(t, "/-/ready")

	// waitForSample polls /metrics until name{labels} == want.
	waitForSample := func(what string, want float64, name string, labels ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, families := e.scrape(t, "")
			v, ok := families.Sample(name, labels...)
			if ok && v == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s%v = %v (present %v), want %v\n%s", what, name, labels, v, ok, want, e.output)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// A new purchase, by SIGHUP.
	writeFile(t, s.config, strings.Replace(readFile(t, s.config), "seats_purchased: 400", "seats_purchased: 450", 1))
	e.cmd.Process.Signal(syscall.SIGHUP)
	waitForSample("after SIGHUP", 450, "asana_workspace_seats_purchased", "workspace_gid="+s.gids[1])
	waitForSample("after SIGHUP", 1, "asana_exporter_config_last_reload_successful")

	// A typo: refused, with the reason; the old config stays.
	good := readFile(t, s.config)
	writeFile(t, s.config, strings.Replace(good, "seats_purchased: 450", "seat_purchased: 500", 1))
	if code, body := e.reload(t); code != http.StatusInternalServerError || !strings.Contains(body, `unknown key "seat_purchased"`) ||
		!strings.Contains(body, "previous config and token stay in use") {
		t.Errorf("reload of a bad config: %d %q", code, body)
	}
	waitForSample("after a bad config", 0, "asana_exporter_config_last_reload_successful")
	time.Sleep(700 * time.Millisecond) // two more cycles
	waitForSample("after a bad config", 450, "asana_workspace_seats_purchased", "workspace_gid="+s.gids[1])

	// A token with a stray space: refused, and the token is not echoed.
	writeFile(t, s.config, good)
	writeFile(t, s.tokenFile, "2/9876543210 :rotated-secret\n")
	if code, body := e.reload(t); code != http.StatusInternalServerError || !strings.Contains(body, "whitespace") || strings.Contains(body, "rotated-secret") {
		t.Errorf("reload of a bad token: %d %q", code, body)
	}

	// A rotated token: the next cycles use it.
	writeFile(t, s.tokenFile, rotated+"\n")
	if code, body := e.reload(t); code != http.StatusOK || !strings.HasPrefix(body, "Reloaded at ") {
		t.Errorf("reload: %d %q", code, body)
	}
	waitForSample("after rotation", 1, "asana_exporter_config_last_reload_successful")
	before := s.srv.Stats(asanatest.DefaultToken).Requests
	deadline := time.Now().Add(10 * time.Second)
	for s.srv.Stats(rotated).Requests < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the rotated token was never used\n%s", e.output)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after := s.srv.Stats(asanatest.DefaultToken).Requests; after > before+3 {
		t.Errorf("the old token sent %d more requests after the rotation", after-before)
	}

	resp, err := http.Get(e.url("/-/reload"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", resp.StatusCode)
	}
	for _, secret := range []string{asanatest.DefaultToken, "rotated-secret"} {
		if strings.Contains(e.output.String(), secret) {
			t.Errorf("the log contains a token: %q", secret)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestSIGHUPDuringStartup: a reload asked for while the exporter still
// waits for Asana at startup (here, a slow first answer) must not kill it.
func TestSIGHUPDuringStartup(t *testing.T) {
	s := newSimulated(t, asanatest.Config{})
	s.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaces, Times: 1, Latency: 1500 * time.Millisecond})
	e := launchExporter(t, nil, s.args()...)
	time.Sleep(500 * time.Millisecond)
	e.cmd.Process.Signal(syscall.SIGHUP)
	e.waitFor(t, "/-/healthy")
	select {
	case <-e.exited:
		t.Fatalf("the exporter exited: %v", e.err)
	default:
	}
}
