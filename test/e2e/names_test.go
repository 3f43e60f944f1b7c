package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryNamedTargetAndFlagExists reads the code, the messages and the
// docs for `make X` and for the exporter's --flags, and fails for any that
// the Makefile or the binary's --help-long does not have: a message that
// tells a user to run what does not exist is a bug.
func TestEveryNamedTargetAndFlagExists(t *testing.T) {
	makefile, err := os.ReadFile(repoPath("Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = true
	}
	help, err := exec.Command(exporterBinary(t), "--help-long").CombinedOutput()
	if err != nil {
		t.Fatalf("--help-long: %v\n%s", err, help)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`--(?:\[no-\])?([a-z][a-z0-9.-]*)`).FindAllStringSubmatch(string(help), -1) {
		flags[m[1]] = true
	}
	// --asana.token is named as the flag that is refused (a token in a flag
	// shows in ps); TestStartupFailsWithAClearMessage proves it is.
	refused := map[string]bool{"asana.token": true}
	if !flags["asana.refresh-interval"] || !targets["test"] {
		t.Fatalf("read no flags or no targets: %v %v", flags, targets)
	}

	// A target named in backticks or at the start of a line (a command in a
	// code block); a flag in the exporter's own namespaces.
	makeRef := regexp.MustCompile("(?m)(?:`|^\\s*)make ([a-z][a-z0-9-]*)")
	flagRef := regexp.MustCompile(`--((?:asana|config|web|log|runtime)\.[a-z0-9.-]*[a-z0-9]|demo)\b`)
	checked := 0
	err = filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch name := d.Name(); {
		case d.IsDir() && (name == ".git" || name == "node_modules" || name == ".tools" || name == ".build" || name == "testdata"):
			return filepath.SkipDir
		case d.IsDir(), !(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".sh") ||
			strings.HasSuffix(name, ".yml") || name == "Makefile" || name == "Dockerfile" || name == "run"):
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, m := range makeRef.FindAllStringSubmatch(string(raw), -1) {
			if !targets[m[1]] {
				t.Errorf("%s names `make %s`; the Makefile has no such target", path, m[1])
			}
		}
		for _, m := range flagRef.FindAllStringSubmatch(string(raw), -1) {
			if !flags[m[1]] && !refused[m[1]] {
				t.Errorf("%s names --%s; the exporter has no such flag", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked %d files against %d targets and %d flags", checked, len(targets), len(flags))
}

// TestTheImageIsBuiltAsMakeBuild: no Docker engine runs here, so this
// proves what can be proven: the Dockerfile builds with make build, make
// docker hands it the version, revision and branch, and make build stamps
// all three into the binary (asana_exporter_build_info).
func TestTheImageIsBuiltAsMakeBuild(t *testing.T) {
	dockerfile, err := os.ReadFile(repoPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dry, err := exec.Command("make", "-C", repo, "-n", "build", "docker", "VERSION=9.9.9", "REVISION=abc1234", "BRANCH=release-9").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n: %v\n%s", err, dry)
	}
	for _, v := range []string{"VERSION", "REVISION", "BRANCH"} {
		if !regexp.MustCompile(`(?m)^ARG `+v+`\b`).Match(dockerfile) || !strings.Contains(string(dockerfile), v+`="${`+v) {
			t.Errorf("the Dockerfile does not pass %s to make build", v)
		}
	}
	for _, want := range []string{"version.Version=9.9.9", "version.Revision=abc1234", "version.Branch=release-9",
		"--build-arg VERSION=9.9.9", "--build-arg REVISION=abc1234", "--build-arg BRANCH=release-9"} {
		if !strings.Contains(string(dry), want) {
			t.Errorf("make build and make docker do not pass %s:\n%s", want, dry)
		}
	}
	if !strings.Contains(string(dockerfile), "RUN make build ") {
		t.Error("the Dockerfile does not build with make build")
	}
}
