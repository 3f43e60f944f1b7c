package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

const (
	oauthClientID = "1204000000000007"
	oauthSecret   = "S3cr3tClientLeakCheck"
)

// TestOAuthEndToEnd: the built binary's oauth login against the simulator,
// this test acting as the browser; then the exporter authenticated as the
// app, in both modes, through more than ten access-token expiries: exact
// counts, no failed collection, no request with an expired token, one
// token request per renewal however many listings need the token at once.
// In the background, a revoked refresh token takes asana_up to 0 with a log
// line that says what to do, and a new file and a reload bring it back.
// No secret is in anything the exporter wrote or served.
func TestOAuthEndToEnd(t *testing.T) {
	for _, mode := range []string{"background", "on scrape"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := asanatest.NewServer(asanatest.Generate(11, asanatest.Acme, asanatest.Globex), asanatest.Config{})
			t.Cleanup(srv.Close)
			srv.SetOAuthApp(&asanatest.OAuthApp{ClientID: oauthClientID, ClientSecret: oauthSecret, AccessTTL: time.Second})
			dir := t.TempDir()
			secretFile, rtFile := filepath.Join(dir, "client-secret"), filepath.Join(dir, "refresh-token")
			writeFile(t, secretFile, oauthSecret+"\n")
			oauthArgs := []string{"--asana.url=" + srv.BaseURL, "--asana.oauth.client-id=" + oauthClientID,
				"--asana.oauth.client-secret-file=" + secretFile, "--asana.oauth.refresh-token-file=" + rtFile}

			login := launch(t, exporterBinary(t), nil, append([]string{"oauth", "login", "--oauth.port=0", "--timeout=30s"}, oauthArgs...)...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			authURL := regexp.MustCompile(`(?m)^\s+(http://\S+/-/oauth_authorize\?\S+)$`)
			waitUntil(ctx, t, "the login to print the address", func() bool { return authURL.MatchString(login.output.String()) })
			resp, err := http.Get(authURL.FindStringSubmatch(login.output.String())[1]) // the browser follows the redirect
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			<-login.exited
			if login.err != nil || !strings.Contains(login.output.String(), "--asana.oauth.refresh-token-file="+rtFile) {
				t.Fatalf("oauth login: %v\n%s", login.err, login.output)
			}
			if st, err := os.Stat(rtFile); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("the refresh-token file: %v %v", st, err)
			}

			interval := "--asana.refresh-interval=1s" // 9 requests a cycle, within the budget
			if mode == "on scrape" {
				interval = "--asana.refresh-interval=0"
			}
			e := startExporter(t, nil, append([]string{interval, "--log.level=debug"}, oauthArgs...)...)
			e.waitFor(t, "/-/ready")
			gids := srv.WorkspaceGIDs()
			var served strings.Builder
			start := time.Now()
			for time.Since(start) < 11500*time.Millisecond {
				raw, families := e.scrape(t, "5")
				served.WriteString(raw)
				checkSeats(t, families, gids[0], asanatest.Acme.Seats(), 0)
				checkSeats(t, families, gids[1], asanatest.Globex.Seats(), 0)
				for _, gid := range gids {
					if v, _ := families.Sample("asana_collection_success", "workspace_gid="+gid); v != 1 {
						t.Fatalf("after %v: workspace %s not counted", time.Since(start), gid)
					}
				}
				time.Sleep(250 * time.Millisecond)
			}
			_, families := e.scrape(t, "5")
			renewals, _ := families.Sample("asana_oauth_token_refreshes_total", "result=success")
			if renewals < 10 || int(renewals) != srv.TokenRequests()-1 { // the login's exchange is one
				t.Errorf("%v renewals over 11.5 s of 1 s tokens, %d token requests (one is the login's)", renewals, srv.TokenRequests())
			}
			for _, r := range srv.Requests() {
				if r.Status != http.StatusOK {
					t.Fatalf("a request was answered %d: %s %s", r.Status, r.Path, r.Query)
				}
			}

			if mode == "background" {
				rt, _ := os.ReadFile(rtFile)
				srv.RevokeRefreshToken(strings.TrimSpace(string(rt)))
				waitUntil(ctx, t, "asana_up 0 after the revocation", func() bool {
					_, f := e.scrape(t, "")
					v, _ := f.Sample("asana_up")
					return v == 0
				})
				if !strings.Contains(e.output.String(), "invalid_grant") || !strings.Contains(e.output.String(), "asana_exporter oauth login") {
					t.Error("the log does not say to log in again")
				}
				writeFile(t, rtFile, srv.IssueRefreshToken()+"\n")
				resp, err := http.Post(e.url("/-/reload"), "", nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("reload: %v %v", resp, err)
				}
				resp.Body.Close()
				waitUntil(ctx, t, "asana_up 1 after a new refresh token and a reload", func() bool {
					_, f := e.scrape(t, "")
					v, _ := f.Sample("asana_up")
					return v == 1
				})
			}

			rt, _ := os.ReadFile(rtFile)
			for what, text := range map[string]string{"log": e.output.String(), "/metrics": served.String(), "login output": login.output.String()} {
				for _, secret := range []string{oauthSecret, strings.TrimSpace(string(rt)), "at-"} {
					if strings.Contains(text, secret) {
						t.Errorf("the %s holds a secret (%.6s…)", what, secret)
					}
				}
			}
		})
	}
}
