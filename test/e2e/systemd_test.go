package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: examples/asana_exporter.service, as written and as its
// comment on several organisations makes it, passes systemd-analyze
// verify (with the unit's binary where the test built it), its hardening
// rates "OK" or better in systemd-analyze security, and its ExecStart
// arguments are ones the exporter's flag parser accepts.
func TestSystemdUnit(t *testing.T) {
	single, several := systemdUnits(t)
	t.Run("one organisation", func(t *testing.T) { checkSystemdUnit(t, single) })
	t.Run("several organisations", func(t *testing.T) { checkSystemdUnit(t, several) })
}

func checkSystemdUnit(t *testing.T, unit string) {
	t.Helper()
	analyze := needTool(t, "systemd-analyze")
	bin, err := filepath.Abs(exporterBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "asana_exporter.service")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(unit, "/usr/local/bin/asana_exporter", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", file).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Exposure is 0 (locked down) to 10 (exposed), 1.2 when written; the
	// threshold counts tenths.
	if out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=20", file).CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze security rates the unit above 2: %v\n%s", err, out)
	}

	_, args := execStart(t, unit)
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "%d", "/run/credentials/asana_exporter.service")
	}
	checkArgsParse(t, args)
}
