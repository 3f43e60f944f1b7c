package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// secretToken is the token the leak tests use; secretPart is what must
// never show, since a log line could cut or quote a token.
const (
	secretToken = "2/1204000000000042:S3cr3tT0kenLeakCheck"
	secretPart  = "S3cr3tT0kenLeakCheck"
)

// errorPaths are the faults of the matrix plus what a bad token, a token
// without the right permissions and a wrong URL bring.
func errorPaths() []asanatest.Fault {
	var faults []asanatest.Fault
	for _, fc := range faultMatrix {
		faults = append(faults, fc.faults...)
	}
	return append(faults,
		asanatest.Fault{Status: 401}, asanatest.Fault{Status: 403, Message: "Full permissions are required"},
		asanatest.Fault{Status: 400}, asanatest.Fault{Status: 402}, asanatest.Fault{Status: 404},
		asanatest.Fault{Status: 451}, asanatest.Fault{Status: 500})
}

// TestClientErrorsNeverHoldTheToken formats every error the client returns
// on every error path, and the client and its transport themselves, with
// %v, %+v and %#v: the token is in none.
func TestClientErrorsNeverHoldTheToken(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(11, acmeSpec, globexSpec),
		asanatest.Config{Tokens: map[string]asanatest.TokenKind{secretToken: asanatest.FullAccess}})
	defer srv.Close()
	bearer, err := asana.BearerToken(secretToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gid string
	srv.Mutate(func(o *asanatest.Org) { gid = o.Workspaces[1].GID })
	check := func(what string, v any) {
		t.Helper()
		if s := fmt.Sprintf("%v|%+v|%#v", v, v, v); strings.Contains(s, secretPart) {
			t.Errorf("%s holds the token: %s", what, s)
		}
	}
	for _, base := range []string{srv.BaseURL, srv.URL} { // srv.URL: 404 "No matching route"
		client, err := asana.New(asana.Options{BaseURL: base, Transport: bearer, MaxAttempts: 2,
			RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, MaxListingRestarts: 1})
		if err != nil {
			t.Fatal(err)
		}
		check("the client", client)
		check("the transport", bearer)
		errs := 0
		for _, f := range errorPaths() {
			srv.ClearFaults()
			srv.Inject(f)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, err1 := client.Workspaces(ctx)
			_, err2 := client.CountSeats(ctx, gid)
			cancel()
			for _, err := range []error{err1, err2} {
				if err != nil {
					errs++
					check(fmt.Sprintf("the error for %+v", f), err)
				}
			}
			srv.GrantToken(secretToken, asanatest.FullAccess) // after Revoke
		}
		if errs < len(errorPaths()) {
			t.Errorf("only %d errors from %d error paths: the faults did not bite", errs, len(errorPaths()))
		}
	}
}

// TestTokenNeverLeaks runs the exporter at debug level, in both log formats,
// through every error path, a reload with a bad token file and a config
// check, and reads everything it wrote and served: logs, /metrics, the
// landing page, the probes, the reload answer. The token is in none of it.
func TestTokenNeverLeaks(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			s := newSimulated(t, asanatest.Config{Tokens: map[string]asanatest.TokenKind{secretToken: asanatest.FullAccess}})
			writeFile(t, s.tokenFile, secretToken+"\n")
			e := startExporter(t, nil, s.args("--asana.refresh-interval=500ms", "--log.level=debug", "--log.format="+format)...)
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
			for _, f := range errorPaths() {
				s.srv.ClearFaults()
				s.srv.Inject(f)
				time.Sleep(550 * time.Millisecond) // at least one cycle, within the rate budget
				get(http.MethodGet, "/metrics")
				s.srv.GrantToken(secretToken, asanatest.FullAccess)
			}
			s.srv.ClearFaults()
			writeFile(t, s.tokenFile, strings.Replace(secretToken, ":", " :", 1)) // refused by the reload
			get(http.MethodPost, "/-/reload")
			for _, path := range []string{"/", "/metrics", "/-/ready", "/-/healthy", "/-/reload"} {
				get(http.MethodGet, path)
			}
			writeFile(t, s.tokenFile, secretToken+"\n")
			check, _ := exec.Command(binary, s.args("--config.check", "--log.level=debug", "--log.format="+format)...).CombinedOutput()

			for what, text := range map[string]string{"log": e.output.String(), "HTTP answers": served.String(), "--config.check": string(check)} {
				if strings.Contains(text, secretPart) {
					i := strings.Index(text, secretPart)
					t.Errorf("the %s holds the token: …%s…", what, text[max(0, i-200):min(len(text), i+100)])
				}
			}
			for _, want := range []string{"429", "503", "401", "Full permissions", "whitespace"} {
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
