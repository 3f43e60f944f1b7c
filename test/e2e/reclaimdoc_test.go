package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// consoleStep is one command of a doc's console block and what the doc
// says it prints: runs of lines, in order, with anything between them
// (where the doc writes "…").
type consoleStep struct {
	command string
	runs    [][]string
	open    bool // the doc ends the output with "…": more may follow
}

// consoleSteps reads the first ```console block of a Markdown file.
func consoleSteps(t *testing.T, doc string) []consoleStep {
	t.Helper()
	_, block, ok := strings.Cut(doc, "```console\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("no ```console block")
	}
	var steps []consoleStep
	for line := range strings.Lines(block) {
		line = strings.TrimSuffix(line, "\n")
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			steps = append(steps, consoleStep{command: cmd, runs: [][]string{nil}})
			continue
		}
		if len(steps) == 0 {
			t.Fatalf("output %q before the first command", line)
		}
		s := &steps[len(steps)-1]
		if line == "…" {
			s.runs, s.open = append(s.runs, nil), true
			continue
		}
		s.open = false
		s.runs[len(s.runs)-1] = append(s.runs[len(s.runs)-1], line)
	}
	return steps
}

// varying is what differs from run to run: a run's id and a time.
var varying = regexp.MustCompile(`run [0-9a-f]{12}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// matches says whether output holds the step's runs in order, the first at
// its start, the last at its end unless the doc leaves the end open.
func (s consoleStep) matches(output string) bool {
	var lines []string
	for line := range strings.Lines(varying.ReplaceAllString(output, "X")) {
		lines = append(lines, strings.TrimSuffix(line, "\n"))
	}
	at := 0
	for i, run := range s.runs {
		want := make([]string, len(run))
		for j, l := range run {
			want[j] = varying.ReplaceAllString(l, "X")
		}
		found := -1
		for k := at; k+len(want) <= len(lines); k++ {
			if i == 0 && k > 0 {
				break
			}
			if slices.Equal(lines[k:k+len(want)], want) {
				found = k
				break
			}
		}
		if found < 0 {
			return false
		}
		at = found + len(want)
	}
	return s.open || at == len(lines)
}

// TestReclaimDocMatchesTheDemo replays docs/RECLAIM.md's demo session with
// the built binary, as a reader would type it, and checks that each
// command prints what the page says.
func TestReclaimDocMatchesTheDemo(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(repoPath("docs", "RECLAIM.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := consoleSteps(t, string(raw))
	if len(steps) < 4 {
		t.Fatalf("%d commands in the demo session, want the plan and three applies", len(steps))
	}
	bin := t.TempDir()
	if err := os.Symlink(exporterBinary(t), filepath.Join(bin, "asana_exporter")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, s := range steps {
		cmd := exec.Command("sh", "-c", s.command)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out // one pipe: the lines in the order written
		if err := cmd.Run(); err != nil {
			t.Fatalf("$ %s: %v\n%s", s.command, err, out.String())
		}
		if !s.matches(out.String()) {
			t.Errorf("$ %s printed\n%s\nwhich docs/RECLAIM.md does not show (… stands for lines left out):\n%s",
				s.command, out.String(), strings.Join(joinRuns(s), "\n"))
		}
	}
}

func joinRuns(s consoleStep) []string {
	var lines []string
	for i, run := range s.runs {
		if i > 0 {
			lines = append(lines, "…")
		}
		lines = append(lines, run...)
	}
	if s.open && len(s.runs[len(s.runs)-1]) > 0 {
		lines = append(lines, "…")
	}
	return lines
}

// TestConsoleStepMatches: the replay's comparison refuses a changed line,
// a missing one and one the doc does not leave room for.
func TestConsoleStepMatches(t *testing.T) {
	t.Parallel()
	steps := consoleSteps(t, "```console\n$ cmd\na\nrun 0123456789ab at 2026-12-05T16:26:11Z\n…\nz\n$ quiet\n$ open\nfirst\n…\n```\n")
	for _, c := range []struct {
		step   int
		output string
		want   bool
	}{
		{0, "a\nrun fedcba987654 at 2027-01-01T00:00:00Z\nb\nc\nz\n", true},
		{0, "a\nrun fedcba987654 at 2027-01-01T00:00:00Z\nz\n", true},
		{0, "a\nb\nz\n", false},
		{0, "x\na\nrun fedcba987654 at 2027-01-01T00:00:00Z\nz\n", false},
		{0, "a\nrun fedcba987654 at 2027-01-01T00:00:00Z\nz\nextra\n", false},
		{1, "", true},
		{1, "anything\n", false},
		{2, "first\nmore\n", true},
		{2, "second\n", false},
	} {
		if got := steps[c.step].matches(c.output); got != c.want {
			t.Errorf("step %q on %q: matches %v, want %v", steps[c.step].command, c.output, got, c.want)
		}
	}
}
