// Package e2e holds the tests that need the built exporter or a real tool
// beside it: Prometheus, promtool, Alertmanager, amtool, Asana's Node
// client, Chromium, Grafana's schema and Asana's OpenAPI spec. It is a module of its
// own, so that those tools' Go modules stay out of the exporter's. Run it
// with `make test-e2e` (`make test` runs it too), which installs the tools
// first.
//
// A missing tool fails a test under CI=true, and skips it with the reason
// elsewhere: go test ./... in this directory still runs what it can.
package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// repo is the exporter's repository, seen from this package's directory.
const repo = "../.."

// repoPath is a path inside the exporter's repository.
func repoPath(parts ...string) string { return filepath.Join(append([]string{repo}, parts...)...) }

// needTool returns the path of the first of names that is installed: the
// pinned builds that scripts/install-test-deps.sh puts in .tools/bin, then
// PATH (Debian's packages, the fallback; Debian names some binaries
// differently, such as prometheus-alertmanager).
func needTool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p := repoPath(".tools", "bin", n); isExecutable(p) {
			logVersion(t, p)
			return p
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			logVersion(t, p)
			return p
		}
	}
	missing(t, "none of %v is installed: run `make test-deps` (scripts/install-test-deps.sh)", names)
	return ""
}

// missing fails t under CI=true, where every tool must be installed, and
// skips it with the reason elsewhere.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (this fails under CI=true)", args...)
}

var logged sync.Map

// logVersion says once per binary which build a test run used.
func logVersion(t testing.TB, path string) {
	t.Helper()
	if _, done := logged.LoadOrStore(path, true); done {
		return
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil { // helm
		out, _ = exec.Command(path, "version").CombinedOutput()
	}
	first, _, _ := strings.Cut(string(out), "\n")
	t.Logf("using %s: %s", path, first)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
