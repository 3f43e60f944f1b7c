package exporter_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
)

// TestInputFilesThatCannotBeRead: every file the exporter reads at start
// (the token, the audit token, the OAuth app's secret and refresh token,
// the config) is refused at once if it is a FIFO with no writer (a plain
// open would wait for ever), a device, a directory, larger than such a
// file can be, or missing; the error names the flag and the file, and
// gives no advice on tokens, since the file is at fault.
func TestInputFilesThatCannotBeRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	token, secret := write("token", asanatest.DefaultToken), write("secret", appSecret)
	large, fifo, missing := write("large", strings.Repeat("x", 5000)), filepath.Join(dir, "fifo"), filepath.Join(dir, "missing")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	faults := map[string]string{
		fifo:        "is a named pipe (FIFO), not a regular file",
		"/dev/zero": "is a character device, not a regular file",
		dir:         "is a directory, not a regular file",
		large:       "is larger than 4096 bytes",
		missing:     "no such file or directory; check the path",
	}
	for _, f := range []struct {
		prefix string
		opts   func(path string) exporter.Options
	}{
		{"reading the Asana token from --asana.token-file: ", func(p string) exporter.Options { return exporter.Options{TokenFile: p} }},
		{"reading the Asana token from --asana.audit-token-file: ", func(p string) exporter.Options {
			return exporter.Options{TokenFile: token, AuditTokenFile: p}
		}},
		{"reading the OAuth client secret from --asana.oauth.client-secret-file: ", func(p string) exporter.Options {
			return exporter.Options{OAuth: exporter.OAuthOptions{ClientID: appID, ClientSecretFile: p, RefreshTokenFile: token}}
		}},
		{"reading the OAuth refresh token from --asana.oauth.refresh-token-file: ", func(p string) exporter.Options {
			return exporter.Options{OAuth: exporter.OAuthOptions{ClientID: appID, ClientSecretFile: secret, RefreshTokenFile: p}}
		}},
		{"reading the config file: ", func(p string) exporter.Options { return exporter.Options{TokenFile: token, ConfigFile: p} }},
	} {
		for path, fault := range faults {
			if path == large && f.prefix == "reading the config file: " {
				continue // a config may be larger than a token: config's own tests
			}
			_, err := exporter.New(f.opts(path))
			if err == nil || !strings.Contains(err.Error(), f.prefix+path+" "+fault) && !strings.Contains(err.Error(), f.prefix+path+": "+fault) ||
				strings.Contains(err.Error(), "create a personal access token") {
				t.Errorf("%s%s: %v, want %q and no advice on tokens", f.prefix, path, err, fault)
			}
		}
	}
}

// TestReloadOfATokenFIFOFailsAtOnce: a token file replaced by a FIFO fails
// the reload at once, leaving the token in use, and does not hold up the
// next reload.
func TestReloadOfATokenFIFOFailsAtOnce(t *testing.T) {
	p := newInProcess(t, setup{config: "requests_per_minute: 100\n"}, asanatest.Acme)
	reload := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		p.exp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec
	}
	if os.Remove(p.tokenFile) != nil || syscall.Mkfifo(p.tokenFile, 0o600) != nil {
		t.Fatal("cannot put a FIFO in the token file's place")
	}
	if rec := reload(); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), p.tokenFile+" is a named pipe (FIFO)") {
		t.Errorf("a reload of a FIFO: %d %s", rec.Code, rec.Body)
	}
	if families, _ := p.cycle(t); !upIs(families, 1) {
		t.Error("the token in use was dropped")
	}
	os.Remove(p.tokenFile)
	p.write(t, "token", asanatest.DefaultToken)
	if rec := reload(); rec.Code != http.StatusOK {
		t.Errorf("the reload after: %d %s", rec.Code, rec.Body)
	}
}
