package exporter_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
)

const (
	appID     = "1204000000000007"
	appSecret = "S3cr3tClientLeakCheck"
)

// oauthSetup is a simulated Asana with an OAuth app, and the app's files.
type oauthSetup struct {
	srv                     *asanatest.Server
	dir, secretFile, rtFile string
}

// newOAuthSetup serves the app with newServer: asanatest.NewServer for
// oauth login (a browser and the login's token exchange reach it over
// loopback), asanatest.NewMemoryServer for a test in a bubble.
func newOAuthSetup(t *testing.T, newServer func(*asanatest.Org, asanatest.Config) *asanatest.Server, app asanatest.OAuthApp, specs ...asanatest.WorkspaceSpec) *oauthSetup {
	t.Helper()
	s := &oauthSetup{srv: newServer(asanatest.Generate(11, specs...), asanatest.Config{}), dir: t.TempDir()}
	t.Cleanup(s.srv.Close)
	app.ClientID, app.ClientSecret = appID, appSecret
	s.srv.SetOAuthApp(&app)
	s.secretFile, s.rtFile = filepath.Join(s.dir, "client-secret"), filepath.Join(s.dir, "refresh-token")
	if err := os.WriteFile(s.secretFile, []byte(appSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *oauthSetup) options() exporter.OAuthOptions {
	return exporter.OAuthOptions{ClientID: appID, ClientSecretFile: s.secretFile, RefreshTokenFile: s.rtFile}
}

// start wires an exporter authenticated as the app, with opts for the
// rest, and drives it as inProcess does.
func (s *oauthSetup) start(t *testing.T, opts exporter.Options) *inProcess {
	t.Helper()
	opts.OAuth, opts.AsanaURL, opts.Transport = s.options(), s.srv.BaseURL, s.srv.Transport
	e, err := exporter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return &inProcess{deadline: 10 * time.Second, srv: s.srv, exp: e, gids: s.srv.WorkspaceGIDs()}
}

// login runs oauth login, acting as the browser with browse, and returns
// its error and output.
func (s *oauthSetup) login(t *testing.T, opts exporter.LoginOptions, browse func(authURL string)) (string, error) {
	t.Helper()
	tokenURL := opts.OAuth.TokenURL
	opts.OAuth, opts.AsanaURL = s.options(), s.srv.BaseURL
	opts.OAuth.TokenURL = tokenURL
	if opts.Timeout == 0 { // only for a login that hangs: the browser answers at once
		opts.Timeout = time.Minute
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- exporter.Login(context.Background(), opts, pw); pw.Close() }()
	var out bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(pr, &out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "http") && browse != nil {
			go browse(line)
		}
	}
	return out.String(), <-done
}

// TestOAuthLogin: oauth login against the simulator, a test acting as the
// browser, writes the refresh token with mode 0600 and prints the
// exporter's command line, and the exporter counts with that token.
func TestOAuthLogin(t *testing.T) {
	s := newOAuthSetup(t, asanatest.NewServer, asanatest.OAuthApp{}, asanatest.Acme)
	out, err := s.login(t, exporter.LoginOptions{}, func(u string) { http.Get(u) })
	if err != nil {
		t.Fatalf("oauth login: %v\n%s", err, out)
	}
	if st, err := os.Stat(s.rtFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("refresh-token file: %v, %v", st, err)
	}
	if !strings.Contains(out, "--asana.oauth.refresh-token-file="+s.rtFile) {
		t.Errorf("the login does not print the exporter's command line:\n%s", out)
	}
	p := s.start(t, exporter.Options{})
	families, _ := p.cycle(t)
	checkSeats(t, families, p.gids[0], asanatest.Acme.Seats())
	if n := s.srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want the login's code exchange and one renewal", n)
	}
}

// TestOAuthCollectsThroughExpiries: in both modes the exporter counts
// exactly through three access-token lifetimes (test/e2e's binary test
// goes through more than ten), renewing each token a fifth of its life
// before it expires, with one token request per renewal and no failed
// request. On the bubble's clock, so that the renewals are exactly those.
func TestOAuthCollectsThroughExpiries(t *testing.T) {
	for _, background := range []bool{true, false} {
		t.Run(mode(background), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { collectThroughExpiries(t, background) })
		})
	}
}

func collectThroughExpiries(t *testing.T, background bool) {
	s := newOAuthSetup(t, asanatest.NewMemoryServer, asanatest.OAuthApp{AccessTTL: time.Second}, asanatest.Acme, asanatest.Globex)
	os.WriteFile(s.rtFile, []byte(s.srv.IssueRefreshToken()+"\n"), 0o600)
	var opts exporter.Options
	if background {
		opts.RefreshInterval = time.Minute
	}
	p := s.start(t, opts)
	p.truth = []asana.SeatCounts{asanatest.Acme.Seats(), asanatest.Globex.Seats()}
	start := time.Now()
	for time.Since(start) < 3500*time.Millisecond {
		families, _ := p.cycle(t)
		for i, gid := range p.gids {
			checkSeats(t, families, gid, p.truth[i])
		}
		if v, _ := families.Sample("asana_up"); v != 1 {
			t.Fatal("asana_up 0")
		}
		time.Sleep(50 * time.Millisecond)
	}
	families := p.scrape(t)
	// One at the start, then one every 0.8 s.
	renewals, _ := families.Sample("asana_oauth_token_refreshes_total", "result=success")
	if renewals != 5 || s.srv.TokenRequests() != 5 {
		t.Errorf("%v renewals, %d token requests; want 5 of each", renewals, s.srv.TokenRequests())
	}
	now := float64(time.Now().UnixMilli()) / 1000
	if exp, ok := families.Sample("asana_oauth_token_expiry_timestamp_seconds"); !ok || exp <= now || exp > now+1 {
		t.Errorf("expiry %v (published %v), want the current token's, within a second of %v", exp, ok, now)
	}
	for _, r := range s.srv.Requests() {
		if r.Status != 200 {
			t.Errorf("a request answered %d: %+v", r.Status, r)
		}
	}
}

// TestOAuthLoginRefuses: a wrong state, a denied consent, a timeout and a
// file that would be overwritten fail with a message that says so, and
// write nothing.
func TestOAuthLoginRefuses(t *testing.T) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	forgeState := func(u string) {
		resp, err := noRedirect.Get(u)
		if err != nil {
			return
		}
		resp.Body.Close()
		back, _ := url.Parse(resp.Header.Get("Location"))
		q := back.Query()
		q.Set("state", "forged")
		back.RawQuery = q.Encode()
		http.Get(back.String())
	}
	for _, c := range []struct {
		name   string
		app    asanatest.OAuthApp
		opts   exporter.LoginOptions
		browse func(string)
		before string // the refresh-token file's content before
		want   string
	}{
		{"wrong state", asanatest.OAuthApp{}, exporter.LoginOptions{}, forgeState, "", "state does not match"},
		{"denied", asanatest.OAuthApp{Deny: true}, exporter.LoginOptions{}, func(u string) { http.Get(u) }, "", "access was denied"},
		{"timeout", asanatest.OAuthApp{}, exporter.LoginOptions{Timeout: 200 * time.Millisecond}, nil, "", "no answer from the browser within 200ms"},
		{"would overwrite", asanatest.OAuthApp{}, exporter.LoginOptions{}, func(u string) { http.Get(u) }, "rt-old\n", "pass --force"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newOAuthSetup(t, asanatest.NewServer, c.app, asanatest.Acme)
			if c.before != "" {
				os.WriteFile(s.rtFile, []byte(c.before), 0o600)
			}
			out, err := s.login(t, c.opts, c.browse)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q\n%s", err, c.want, out)
			}
			if got, _ := os.ReadFile(s.rtFile); string(got) != c.before {
				t.Errorf("the refresh-token file holds %q, want %q", got, c.before)
			}
		})
	}
}

// TestOAuthLoginNeverFollowsTheCodeElsewhere: a token endpoint that
// redirects the code exchange to another host gets it refused: the other
// host hears nothing (the request carries the client secret and the code),
// and no refresh-token file is written.
func TestOAuthLoginNeverFollowsTheCodeElsewhere(t *testing.T) {
	s := newOAuthSetup(t, asanatest.NewServer, asanatest.OAuthApp{}, asanatest.Acme)
	var heard atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { heard.Add(1) }))
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/-/oauth_token", http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	root, _ := url.Parse(s.srv.BaseURL)
	opts := exporter.LoginOptions{AuthURL: root.Scheme + "://" + root.Host + "/-/oauth_authorize",
		OAuth: exporter.OAuthOptions{TokenURL: redirecting.URL + "/-/oauth_token"}}
	out, err := s.login(t, opts, func(u string) { http.Get(u) })
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), elsewhere.URL) {
		t.Errorf("error %v, want the redirect to %s refused\n%s", err, elsewhere.URL, out)
	}
	if n := heard.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
	if _, err := os.Stat(s.rtFile); !os.IsNotExist(err) {
		t.Errorf("a refresh-token file was written: %v", err)
	}
}

// TestOAuthRevokedRefreshTokenRecoversOnReload: a revoked refresh token
// makes asana_up 0 with a log line that says what to do; a new file and a
// reload recover it without a restart. In a bubble, where the token is
// surely due for renewal a second later.
func TestOAuthRevokedRefreshTokenRecoversOnReload(t *testing.T) {
	synctest.Test(t, revokedRefreshTokenRecoversOnReload)
}

func revokedRefreshTokenRecoversOnReload(t *testing.T) {
	s := newOAuthSetup(t, asanatest.NewMemoryServer, asanatest.OAuthApp{AccessTTL: time.Second}, asanatest.Acme)
	rt := s.srv.IssueRefreshToken()
	os.WriteFile(s.rtFile, []byte(rt+"\n"), 0o600)
	var logs bytes.Buffer // written by the cycles p.cycle waits for
	p := s.start(t, exporter.Options{RefreshInterval: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if families, _ := p.cycle(t); !upIs(families, 1) {
		t.Fatal("not up before the revocation")
	}
	s.srv.RevokeRefreshToken(rt)
	time.Sleep(time.Second) // the access token is due for renewal
	families, _ := p.cycle(t)
	if !upIs(families, 0) {
		t.Error("asana_up is not 0 with a revoked refresh token")
	}
	if n, _ := families.Sample("asana_oauth_token_refreshes_total", "result=invalid_grant"); n != 1 {
		t.Errorf("%v invalid_grant renewals counted", n)
	}
	if !strings.Contains(logs.String(), "invalid_grant") || !strings.Contains(logs.String(), "asana_exporter oauth login") {
		t.Errorf("the log does not say to log in again:\n%s", logs.String())
	}
	os.WriteFile(s.rtFile, []byte(s.srv.IssueRefreshToken()+"\n"), 0o600)
	if rec := p.serve(t, "/-/reload", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /-/reload: %d", rec.Code)
	}
	rec := httptest.NewRecorder()
	p.exp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("reload: %d %s", rec.Code, rec.Body.String())
	}
	if families, _ := p.cycle(t); !upIs(families, 1) {
		t.Error("not up again after a new refresh token and a reload")
	}
	for _, secret := range []string{appSecret, rt, "at-"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds a secret (%q…)", secret[:3])
		}
	}
}

func upIs(f interface {
	Sample(string, ...string) (float64, bool)
}, want float64) bool {
	v, ok := f.Sample("asana_up")
	return ok && v == want
}

// TestOAuthFlagsExcludeTheToken: a token and an OAuth app together, or an
// OAuth app missing a file, stop startup with what to keep.
func TestOAuthFlagsExcludeTheToken(t *testing.T) {
	s := newOAuthSetup(t, asanatest.NewServer, asanatest.OAuthApp{}, asanatest.Acme)
	for _, c := range []struct {
		opts exporter.Options
		want string
	}{
		{exporter.Options{TokenFile: s.secretFile, OAuth: s.options()}, "--asana.token-file and the OAuth app's flags (--asana.oauth.client-id and its files) exclude each other"},
		{exporter.Options{OAuth: exporter.OAuthOptions{ClientID: appID}}, "needs all three"},
		{exporter.Options{OAuth: s.options()}, "reading the OAuth refresh token"}, // no such file yet
	} {
		if _, err := exporter.New(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.opts.OAuth, err, c.want)
		}
	}
	t.Setenv(exporter.TokenEnv, "a-token")
	if _, err := exporter.New(exporter.Options{OAuth: s.options()}); err == nil || !strings.Contains(err.Error(), "unset ASANA_TOKEN") {
		t.Errorf("$ASANA_TOKEN and OAuth: %v", err)
	}
}

// TestOAuthRotatedRefreshTokenIsSaved: a refresh token that comes back
// from a renewal (Asana's do not rotate, but the protocol allows it)
// replaces the file's, mode 0600, so that the next start uses it.
func TestOAuthRotatedRefreshTokenIsSaved(t *testing.T) {
	synctest.Test(t, rotatedRefreshTokenIsSaved)
}

func rotatedRefreshTokenIsSaved(t *testing.T) {
	s := newOAuthSetup(t, asanatest.NewMemoryServer, asanatest.OAuthApp{AccessTTL: time.Second, RotateRefreshTokens: true}, asanatest.Acme)
	first := s.srv.IssueRefreshToken()
	os.WriteFile(s.rtFile, []byte(first+"\n"), 0o600)
	p := s.start(t, exporter.Options{RefreshInterval: time.Minute})
	for range 3 { // three renewals, each retiring the token before
		if families, _ := p.cycle(t); !upIs(families, 1) {
			t.Fatal("not up")
		}
		time.Sleep(time.Second)
	}
	if n := s.srv.TokenRequests(); n != 3 {
		t.Fatalf("%d renewals, want 3", n)
	}
	saved, _ := os.ReadFile(s.rtFile)
	if st, _ := os.Stat(s.rtFile); strings.TrimSpace(string(saved)) == first || st.Mode().Perm() != 0o600 {
		t.Errorf("the refresh-token file still holds the first token, or has mode %v", st.Mode())
	}
	if families, _ := s.start(t, exporter.Options{RefreshInterval: time.Minute}).cycle(t); !upIs(families, 1) {
		t.Error("a new start with the saved refresh token is not up")
	}
}

// TestOAuthFilesThatCannotBeUsed: an empty or garbled secret or refresh
// token stops startup with a message that names the file and the fault,
// never the content.
func TestOAuthFilesThatCannotBeUsed(t *testing.T) {
	s := newOAuthSetup(t, asanatest.NewServer, asanatest.OAuthApp{}, asanatest.Acme)
	for _, c := range []struct{ secret, refresh, want string }{
		{"", "rt", "the OAuth client secret file " + s.secretFile + ": token is empty"},
		{appSecret, "rt-first\nrt-second", "the OAuth refresh token file " + s.rtFile + ": token contains whitespace"},
	} {
		os.WriteFile(s.secretFile, []byte(c.secret), 0o600)
		os.WriteFile(s.rtFile, []byte(c.refresh), 0o600)
		_, err := exporter.New(exporter.Options{OAuth: s.options(), AsanaURL: s.srv.BaseURL})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "rt-") || strings.Contains(err.Error(), appSecret) {
			t.Errorf("error %v, want %q and no file content", err, c.want)
		}
	}
}
