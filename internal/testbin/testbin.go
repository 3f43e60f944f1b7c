// Package testbin finds the real Prometheus, promtool, Alertmanager and
// amtool that the tests run: first the pinned builds that
// scripts/install-test-deps.sh puts in the module's .tools/bin, then PATH
// (Debian's packages, the fallback). A missing binary fails the test; it is
// never skipped.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Find returns the path of the first of names that is installed. Debian
// names some binaries differently (prometheus-alertmanager), so callers may
// pass several.
func Find(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p := filepath.Join(toolsDir(), n); isExecutable(p) {
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
	t.Fatalf("none of %v is installed: run `make test-deps` (scripts/install-test-deps.sh)", names)
	return ""
}

var logged sync.Map

// logVersion says once per binary which build a test run used.
func logVersion(t testing.TB, path string) {
	t.Helper()
	if _, done := logged.LoadOrStore(path, true); done {
		return
	}
	out, _ := exec.Command(path, "--version").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	t.Logf("using %s: %s", path, first)
}

// toolsDir is .tools/bin at the root of the module the test runs in.
func toolsDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools", "bin")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
