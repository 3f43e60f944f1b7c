// Package alerts holds Prometheus alerting and recording rules for
// asana_exporter; its test runs them through the real promtool.
package alerts

import (
	"os/exec"
	"testing"
)

func promtool(t *testing.T, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed: run `make test-deps` (Debian package prometheus)")
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Errorf("promtool %v: %v\n%s", args, err, out)
	}
}

func TestRulesAreValid(t *testing.T) { promtool(t, "check", "rules", "asana_rules.yml") }

// TestRulesFireAsSpecified runs asana_rules_test.yml: each alert fires when
// and with the labels and annotations it should, and stays quiet otherwise.
func TestRulesFireAsSpecified(t *testing.T) { promtool(t, "test", "rules", "asana_rules_test.yml") }
