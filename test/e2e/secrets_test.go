package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// secretToken is the token the leak tests use; secretPart is what must
// never show, since a log line could cut or quote a token.
const (
	secretToken = "2/1204000000000042:S3cr3tT0kenLeakCheck"
	secretPart  = "S3cr3tT0kenLeakCheck"
	// auditToken reads the audit log (a service account's).
	auditToken = "2/1204000000000043:AuditS3cr3tLeakCheck"
	auditPart  = "AuditS3cr3tLeakCheck"
)

// TestTokenNeverLeaks runs the exporter at debug level, in both log formats,
// through every error path, a reload with a bad token file and a config
// check, and reads everything it wrote and served: logs, /metrics, the
// landing page, the probes, the reload answer. It runs the seats command,
// the roster and --reconcile, through every error path too. The token is in
// none of it, and no member's name or email is in what the exporter logged
// or served.
func TestTokenNeverLeaks(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			s := newSimulated(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{secretToken: asanatest.FullAccess, auditToken: asanatest.ServiceAccount}})
			writeFile(t, s.tokenFile, secretToken+"\n")
			// The audit log too, with a token of its own; its logs are empty,
			// so each seats command reads them in a few requests.
			audit := s.withAuditLog(t, auditToken)
			e := startExporter(t, nil, s.args(append(audit, "--asana.refresh-interval=500ms", "--log.level=debug", "--log.format="+format)...)...)
			e.waitFor(t, "/-/ready")
			var served strings.Builder
			get := func(method, path string) {
				req, _ := http.NewRequest(method, e.url(path), nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Fprintf(&served, "%s %s: %d %v\n%s\n", method, path, resp.StatusCode, resp.Header, body)
			}
			console := filepath.Join(t.TempDir(), "console.csv")
			writeFile(t, console, "Email,License\nsomeone@example.com,Member\n")
			var seats strings.Builder
			for _, f := range asanatest.EveryFault() {
				s.srv.ClearFaults()
				s.srv.Inject(f)
				time.Sleep(550 * time.Millisecond) // at least one cycle, within the rate budget
				get(http.MethodGet, "/metrics")
				// The roster and --reconcile, side by side; a stall ends at
				// --timeout.
				var wg sync.WaitGroup
				outs := make([][]byte, 2)
				for i, args := range [][]string{{}, {"--reconcile=" + console}} {
					wg.Go(func() {
						outs[i], _ = exec.Command(exporterBinary(t), s.args(append(append([]string{"seats", "--timeout=2s", "--log.level=debug", "--log.format=" + format}, audit...), args...)...)...).CombinedOutput()
					})
				}
				wg.Wait()
				seats.Write(bytes.Join(outs, nil))
				s.srv.GrantToken(secretToken, asanatest.FullAccess)
				s.srv.GrantToken(auditToken, asanatest.ServiceAccount)
			}
			s.srv.ClearFaults()
			writeFile(t, s.tokenFile, strings.Replace(secretToken, ":", " :", 1)) // refused by the reload
			get(http.MethodPost, "/-/reload")
			for _, path := range []string{"/", "/metrics", "/-/ready", "/-/healthy", "/-/reload"} {
				get(http.MethodGet, path)
			}
			writeFile(t, s.tokenFile, secretToken+"\n")
			check, _ := exec.Command(exporterBinary(t), s.args(append(audit, "--config.check", "--log.level=debug", "--log.format="+format)...)...).CombinedOutput()

			for what, text := range map[string]string{"log": e.output.String(), "HTTP answers": served.String(), "--config.check": string(check),
				"seats command": seats.String()} {
				for _, secret := range []string{secretPart, auditPart} {
					if i := strings.Index(text, secret); i >= 0 {
						t.Errorf("the %s holds a token: …%s…", what, text[max(0, i-200):min(len(text), i+100)])
					}
				}
			}
			// The simulated members' emails and names (User 000123).
			for what, text := range map[string]string{"log": e.output.String(), "HTTP answers": served.String()} {
				for _, personal := range []string{"@example.com", "@" + asanatest.OutsideDomain, "User 0"} {
					if strings.Contains(text, personal) {
						t.Errorf("the %s holds a member's %q", what, personal)
					}
				}
			}
			if !strings.Contains(seats.String(), "no rows written") || !strings.Contains(seats.String(), "nothing compared") {
				t.Errorf("the seats command's error paths did not all run:\n%s", seats.String())
			}
			for _, want := range []string{"429", "503", "401", "Full permissions", "whitespace", "The Asana audit log is readable"} {
				if !strings.Contains(e.output.String(), want) {
					t.Errorf("the log never mentions %q: the error paths did not all run\n%s", want, e.output)
				}
			}
		})
	}
}

// TestTokenFileReadableByOthersWarns: a token file others can read starts
// the exporter with a warning that says how to fix it.
func TestTokenFileReadableByOthersWarns(t *testing.T) {
	s := newSimulated(t, asanatest.Config{})
	if err := os.Chmod(s.tokenFile, 0o644); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, nil, s.args()...)
	e.waitFor(t, "/-/ready")
	if out := e.output.String(); !strings.Contains(out, "The token file is readable by other users; chmod 600 it") ||
		!strings.Contains(out, filepath.Base(s.tokenFile)) {
		t.Errorf("no warning about a world-readable token file:\n%s", out)
	}
}
