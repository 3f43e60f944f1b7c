package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// cliToken is the token file's content in TestCommandLineSaysWhatToFix:
// no message may show it.
const cliToken = "cli-test-token-never-shown"

// TestCommandLineSaysWhatToFix: each mistake a new user makes on the
// command line, in the config file or in the network is refused by one
// message that names the flag, key, file, line or host at fault and what
// would be right, printed once.
func TestCommandLineSaysWhatToFix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	writeFile(t, token, cliToken+"\n")
	wrongType := filepath.Join(dir, "typed.yml")
	writeFile(t, wrongType, "workspaces:\n  - gid: \"1\"\n    seats_purchased: \"thirty\"\nworkspace_concurrency: 2.5\n")
	s := newSimulated(t, asanatest.Config{})

	// Cleanups, not defers: the parallel rows run after this function
	// returns.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	refused := freeAddress(t) // closed again: nothing listens there
	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(untrusted.Close)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	example, err := filepath.Abs(repoPath("config.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	brokenWebConfig := filepath.Join(dir, "web.yml")
	writeFile(t, brokenWebConfig, "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n")
	unreachable := func(url string) []string {
		return []string{"--config.check", "--asana.url=" + url + "/api/1.0", "--asana.token-file=" + token}
	}
	host := func(url string) string { return strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://") }

	for _, c := range []struct {
		name string
		args []string
		want []string
		// once appears exactly once: the error is not printed twice.
		once string
		// absent must not appear (a URL printed before the bind failed).
		absent string
	}{
		// 1. A value a flag cannot take names the flag and what it takes.
		{name: "enum", args: []string{"seats", "--demo", "--format=xlsx"},
			want: []string{`--format="xlsx" is not one of table, csv, json, html`}},
		{name: "duration without a unit", args: []string{"seats", "--demo", "--timeout=5"},
			want: []string{`--timeout="5" is not a duration; write it as 30s, 5m or 2h`}},
		{name: "server duration", args: []string{"--demo", "--asana.refresh-interval=5"},
			want: []string{`--asana.refresh-interval="5" is not a duration; write it as 30s, 5m or 2h`}},
		{name: "on-scrape duration", args: []string{"--demo", "--asana.timeout-offset=half"},
			want: []string{`--asana.timeout-offset="half" is not a duration`}},
		{name: "reclaim duration", args: []string{"reclaim", "plan", "--demo", "--idle=60d", "--output=plan.csv", "--timeout=2"},
			want: []string{`--timeout="2" is not a duration`}},
		{name: "login duration", args: []string{"oauth", "login", "--timeout=5"},
			want: []string{`--timeout="5" is not a duration`}},
		{name: "login port", args: []string{"oauth", "login", "--oauth.port=http"},
			want: []string{`--oauth.port="http" is not a port from 0 to 65535`}},
		{name: "log level", args: []string{"--demo", "--log.level=verbose"},
			want: []string{`--log.level="verbose" is not one of debug, info, warn, error`}},
		{name: "log format", args: []string{"--demo", "--log.format=xml"},
			want: []string{`--log.format="xml" is not one of logfmt, json`}},
		{name: "CPUs", args: []string{"--demo", "--runtime.gomaxprocs=two"},
			want: []string{`--runtime.gomaxprocs="two" (or $GOMAXPROCS) is not a number of CPUs from 1 up`}},
		{name: "bool with a value", args: []string{"seats", "--demo", "--bom=false"},
			want: []string{"--bom takes no value: write --bom to turn it on, --no-bom to turn it off"}},
		// 1. A config value of the wrong type: file, line, key path, type.
		{name: "config value of the wrong type", args: []string{"--config.check", "--demo", "--config.file=" + wrongType},
			want: []string{"config file " + wrongType, `line 3: workspaces[0].seats_purchased: "thirty" is not a whole number`,
				`line 4: workspace_concurrency: "2.5" is not a whole number`}},
		// 2. A misspelt command or flag: the nearest one.
		{name: "misspelt command", args: []string{"seat"}, want: []string{`unknown command "seat"; did you mean "seats"?`}},
		{name: "misspelt subcommand", args: []string{"reclaim", "plann"},
			want: []string{`unknown command "reclaim plann"; did you mean "reclaim plan"?`}},
		{name: "unknown command", args: []string{"export"},
			want: []string{`unknown command "export"; the commands are help, serve, seats, reclaim, oauth`}},
		{name: "group without its command", args: []string{"reclaim"},
			want: []string{"reclaim needs one of its commands: reclaim plan, reclaim apply, reclaim undo"}},
		{name: "argument to seats", args: []string{"seats", "everyone"},
			want: []string{`seats takes no argument, and "everyone" is not a flag`}},
		{name: "misspelt flag", args: []string{"seats", "--frmat=csv"}, want: []string{"unknown flag --frmat; did you mean --format?"}},
		// 3. The listen address fails before any URL is printed.
		{name: "busy port", args: []string{"--demo", "--web.listen-address=" + busy.Addr().String()},
			want: []string{"--web.listen-address=" + busy.Addr().String() + ": listen tcp", "address already in use"}, absent: "metrics at"},
		{name: "invalid port", args: []string{"--demo", "--web.listen-address=127.0.0.1:99999"},
			want: []string{"--web.listen-address=127.0.0.1:99999", "invalid port"}, absent: "metrics at"},
		{name: "broken web config", args: []string{"--demo", "--web.listen-address=" + freeAddress(t), "--web.config.file=" + brokenWebConfig},
			want: []string{"--web.config.file=" + brokenWebConfig, "missing.crt"}, absent: "metrics at"},
		// 5. Asana out of reach: the host and why, once.
		{name: "connection refused", args: unreachable("http://" + refused),
			want: []string{"could not reach " + refused + ": the connection was refused", "check --asana.url"},
			once: "could not reach", absent: "token check failed"},
		{name: "no such host", args: unreachable("https://asana.invalid"),
			want: []string{"could not reach asana.invalid:", "(DNS)", "check --asana.url"}, once: "could not reach"},
		{name: "untrusted certificate", args: unreachable(untrusted.URL),
			want: []string{"could not reach " + host(untrusted.URL) + ": its TLS certificate is not trusted"}, once: "could not reach"},
		{name: "https to an http port", args: unreachable("https://" + host(plain.URL)),
			want: []string{"could not reach " + host(plain.URL) + ": it answers in plain HTTP, not HTTPS: write its URL http://"}, once: "could not reach"},
		// 6. A flag the command does not read.
		{name: "--config.check with a command", args: []string{"seats", "--demo", "--config.check"},
			want: []string{"--config.check checks the server's configuration and does nothing with seats"}},
		{name: "server flag given to seats", args: []string{"seats", "--demo", "--web.listen-address=:0", "--web.listen-address=:1"},
			want: []string{"--web.listen-address does nothing with seats; it is for the server: leave it out"}, once: "--web.listen-address"},
		{name: "server flag given to --config.check", args: []string{"--config.check", "--demo", "--web.telemetry-path=/m"},
			want: []string{"--web.telemetry-path does nothing with --config.check; it is for the server"}},
		{name: "counting flag given to oauth login", args: []string{"oauth", "login", "--demo"},
			want: []string{"--demo does nothing with oauth login"}},
		{name: "journal given to reclaim plan", args: []string{"reclaim", "plan", "--demo", "--idle=60d", "--reclaim.journal=j.jsonl"},
			want: []string{"--reclaim.journal does nothing with reclaim plan; it is for the server and seats"}},
		// 8. config.example.yml as shipped: its gids are examples.
		{name: "config.example.yml as shipped",
			args: []string{"--config.check", "--asana.url=" + s.srv.BaseURL, "--asana.token-file=" + s.tokenFile, "--config.file=" + example},
			want: []string{s.gids[0], "The token cannot see 1111, 2222, listed under workspaces: in " + example,
				"if they are config.example.yml's examples, replace them with your organisation's gids",
				"the table above lists every workspace the token sees, with its gid"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// A bound, not a deadline to race: a row that should be
			// refused but serves instead fails rather than hangs.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, exporterBinary(t), c.args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("%q: %v, want exit status 1\n%s", c.args, err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%q does not say %q:\n%s", c.args, w, out)
				}
			}
			if c.once != "" && strings.Count(string(out), c.once) != 1 {
				t.Errorf("%q says %q %d times, want once:\n%s", c.args, c.once, strings.Count(string(out), c.once), out)
			}
			if c.absent != "" && strings.Contains(string(out), c.absent) {
				t.Errorf("%q says %q:\n%s", c.args, c.absent, out)
			}
			if strings.Contains(string(out), cliToken) {
				t.Errorf("%q shows the token:\n%s", c.args, out)
			}
		})
	}
}

// demoURL matches the demo's line that says where its metrics are.
var demoURL = regexp.MustCompile(`asana_exporter demo: metrics at (\S+) `)

// TestDemoSaysWhereOnceBound: the demo's line with the metrics URL comes
// once the address is bound, so the URL answers at once, over https under
// a TLS web config.
func TestDemoSaysWhereOnceBound(t *testing.T) {
	t.Parallel()
	webConfig, trusted := exampleWebConfig(t)
	for _, c := range []struct {
		scheme string
		args   []string
		client *http.Client
	}{
		{"http", nil, &http.Client{Timeout: 10 * time.Second}},
		{"https", []string{"--web.config.file=" + webConfig},
			&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trusted}}}},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			t.Parallel()
			e := launchExporter(t, nil, append([]string{"--demo"}, c.args...)...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var url string
			waitUntil(ctx, t, "the demo's metrics URL", func() bool {
				if m := demoURL.FindStringSubmatch(e.output.String()); m != nil {
					url = m[1]
				}
				return url != ""
			})
			if want := c.scheme + "://" + e.addr + "/metrics"; url != want {
				t.Fatalf("the demo says its metrics are at %s, want %s", url, want)
			}
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.SetBasicAuth("prometheus", "change-me") // the example web config's user
			resp, err := c.client.Do(req)
			if err != nil {
				t.Fatalf("GET %s right after the line: %v", url, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %s", url, resp.Status)
			}
		})
	}
}

// TestProfilingOnlyWhenEnabled: the landing page links Go's profiles only
// with --web.enable-pprof, and then every link on it answers.
func TestProfilingOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	href := regexp.MustCompile(`href="(/[^"]*)"`)
	for _, enabled := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[enabled], func(t *testing.T) {
			t.Parallel()
			args := []string{"--demo"}
			if enabled {
				args = append(args, "--web.enable-pprof")
			}
			e := startExporter(t, nil, args...)
			e.waitFor(t, "/-/ready")
			_, page := get(t, e.url("/"))
			if linked := strings.Contains(page, "/debug/pprof/"); linked != enabled {
				t.Errorf("with --web.enable-pprof=%t the landing page links the profiles: %t", enabled, linked)
			}
			if code, _ := get(t, e.url("/debug/pprof/heap")); (code == http.StatusOK) != enabled {
				t.Errorf("with --web.enable-pprof=%t /debug/pprof/heap answers %d", enabled, code)
			}
			links := href.FindAllStringSubmatch(page, -1)
			if len(links) < 3 {
				t.Fatalf("the landing page has %d links:\n%s", len(links), page)
			}
			for _, m := range links {
				// The CPU profile link asks for 60 s; 1 s proves it answers.
				path := strings.Replace(m[1], "seconds=60", "seconds=1", 1)
				if code, _ := get(t, e.url(path)); code != http.StatusOK {
					t.Errorf("the landing page links %s, which answers %d", m[1], code)
				}
			}
		})
	}
}
