package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// writeCertificate writes a self-signed certificate for 127.0.0.1 and its
// key as PEM files, and returns a pool that trusts it.
func writeCertificate(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "asana_exporter test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// exampleWebConfig writes web-config.example.yml as shipped next to a
// generated certificate for 127.0.0.1, and returns its path and a pool
// that trusts the certificate. Its basic-auth user is prometheus, with the
// password change-me.
func exampleWebConfig(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	example, err := os.ReadFile(repoPath("web-config.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web-config.yml")
	writeFile(t, webConfig, string(example))
	return webConfig, writeCertificate(t, filepath.Join(dir, "asana_exporter.crt"), filepath.Join(dir, "asana_exporter.key"))
}

// TestWebConfigTLSAndBasicAuth runs the exporter with web-config.example.yml
// as shipped (next to a generated certificate) and checks what each kind of
// client gets, then has a real Prometheus scrape it over TLS with the
// password.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	webConfig, trusted := exampleWebConfig(t)
	dir := filepath.Dir(webConfig)
	s := newSimulated(t, asanatest.Config{})
	e := launchExporter(t, nil, s.args("--web.config.file="+webConfig)...)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trusted}}}
	get := func(c *http.Client, url, user, password string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	metrics := "https://" + e.addr + "/metrics"
	deadline := time.Now().Add(15 * time.Second)
	for code, _ := get(client, metrics, "prometheus", "change-me"); code != http.StatusOK; code, _ = get(client, metrics, "prometheus", "change-me") {
		if time.Now().After(deadline) {
			t.Fatalf("the exporter never served /metrics over TLS\n%s", e.output)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tc := range []struct {
		what           string
		client         *http.Client
		url            string
		user, password string
		want           int
		wantErr        string
	}{
		{"no password", client, metrics, "", "", http.StatusUnauthorized, ""},
		{"a wrong password", client, metrics, "prometheus", "guess", http.StatusUnauthorized, ""},
		{"an unknown user", client, metrics, "admin", "change-me", http.StatusUnauthorized, ""},
		{"the landing page without a password", client, "https://" + e.addr + "/", "", "", http.StatusUnauthorized, ""},
		{"plain HTTP", http.DefaultClient, "http://" + e.addr + "/metrics", "prometheus", "change-me", http.StatusBadRequest, ""},
		{"a client that does not trust the certificate", &http.Client{Timeout: 5 * time.Second}, metrics, "prometheus", "change-me", 0, "certificate signed by unknown authority"},
	} {
		code, err := get(tc.client, tc.url, tc.user, tc.password)
		if code != tc.want || (tc.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: status %d, error %v; want status %d, error containing %q", tc.what, code, err, tc.want, tc.wantErr)
		}
	}
	tooOld := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trusted, MaxVersion: tls.VersionTLS11}}}
	if _, err := get(tooOld, metrics, "prometheus", "change-me"); err == nil {
		t.Error("a TLS 1.1 client was served; the example sets min_version TLS12")
	}

	// A real Prometheus, scraping with the CA and the password.
	ctx, cancel := context.WithTimeout(context.Background(), stackTimeout)
	defer cancel()
	promAddr := freeAddress(t)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: asana
    scheme: https
    tls_config:
      ca_file: %s
    basic_auth:
      username: prometheus
      password: change-me
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "asana_exporter.crt"), e.addr))
	launch(t, needTool(t, "prometheus"), nil, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr, "--scrape.discovery-reload-interval=100ms")
	waitUntil(ctx, t, "Prometheus to scrape over TLS with basic auth", func() bool {
		r, _ := promQuery("http://"+promAddr, `asana_workspace_members{state="licensed"}`)
		return len(r) == 2
	})
	if up, err := promQuery("http://"+promAddr, `up{job="asana"}`); err != nil || len(up) != 1 || up[0].Value[1] != "1" {
		t.Errorf("up = %+v, %v", up, err)
	}
}
