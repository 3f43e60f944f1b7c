package e2e

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// demoGIDs are the demo organisation's workspaces: Acme, Globex, Initech.
var demoGIDs = []string{"1200000000000001", "1200000000000364", "1200000000001558"}

// TestProgressOffATerminal: with standard error a file, as in CI or a pipe,
// the seats command prints a plain progress line every 10 seconds at most
// (Globex's audit log takes 16 s at the request budget), with no control
// character; standard output is the same CSV as with --quiet.
func TestProgressOffATerminal(t *testing.T) {
	t.Parallel()
	run := func(extra ...string) (stdout, stderr []byte) {
		cmd := exec.Command(exporterBinary(t), append([]string{"seats", "--demo", "--workspace=" + demoGIDs[1], "--state=guest"}, extra...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("seats: %v\n%s", err, errOut.String())
		}
		return out.Bytes(), errOut.Bytes()
	}
	shown, progress := run()
	quiet, quietErr := run("--quiet")
	if !bytes.Equal(shown, quiet) {
		t.Errorf("standard output differs with progress shown:\n%s\nand with --quiet:\n%s", shown, quiet)
	}
	lines := 0
	for line := range strings.Lines(string(progress)) {
		if strings.Contains(line, "audit log:") {
			lines++
			if !strings.HasPrefix(line, "Globex Engineering ("+demoGIDs[1]+") audit log: ") || !strings.Contains(line, " events, ") ||
				!strings.Contains(line, " pages/s, time left ") {
				t.Errorf("progress line %q", line)
			}
		}
		if strings.ContainsAny(line, "\x1b\r") {
			t.Errorf("a control character on a standard error that is no terminal: %q", line)
		}
	}
	if lines < 1 || lines > 2 { // the read takes 16-20 s
		t.Errorf("%d progress lines, want 1 or 2:\n%s", lines, progress)
	}
	if strings.Contains(string(quietErr), "audit log:") || strings.Contains(string(quietErr), "level=INFO") {
		t.Errorf("--quiet showed progress or informational log lines:\n%s", quietErr)
	}
}

// TestProgressOnATerminal: with standard error a terminal (a pseudo-
// terminal here), each workspace's line is redrawn in place and ends
// saying it is done; standard output stays a pure CSV.
func TestProgressOnATerminal(t *testing.T) {
	t.Parallel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exporterBinary(t), "seats", "--demo", "--workspace="+demoGIDs[0], "--log.level=error")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child has its own copy
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(copied) }() // ends with EIO once the child exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("seats: %v", err)
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal's output did not end")
	}
	text := screen.String()
	for _, want := range []string{"\r\x1b[2KAcme Corp (" + demoGIDs[0] + "): ", " memberships, done in ", "\x1b[1A"} {
		if !strings.Contains(text, want) {
			t.Errorf("the terminal never showed %q:\n%q", want, text)
		}
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.HasPrefix(first, "workspace_gid,") || strings.Contains(out.String(), "\x1b") {
		t.Errorf("standard output is not a pure CSV: %q", first)
	}
}
