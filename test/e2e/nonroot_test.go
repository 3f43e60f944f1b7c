package e2e

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// The tests below run the built exporter as the image's user over the
// files that examples/asana_exporter.service's install comments and
// docs/DOCKER.md's install lines create, with those modes and owners, in a
// tree that stands for the host's root. The lines are read from the two
// files, so that a change to either is tested as written.

// imageUser is the user the image runs as: the Dockerfile's USER.
func imageUser(t *testing.T) *syscall.Credential {
	t.Helper()
	m := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindSubmatch(readRepoFile(t, "Dockerfile"))
	if m == nil {
		t.Fatal("the Dockerfile has no USER uid:gid line")
	}
	uid, _ := strconv.ParseUint(string(m[1]), 10, 32)
	gid, _ := strconv.ParseUint(string(m[2]), 10, 32)
	if uid == 0 {
		t.Fatal("the Dockerfile runs the exporter as root")
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// needRoot: making files another user's and running a process as that user
// takes root, which CI has.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "running the exporter as another user needs root: run the e2e tests as root, as CI does")
	}
}

// newHost is a directory that stands for a host's /, which any user may
// enter (t.TempDir's parents may be root's alone), with what a host has:
// /etc, /etc/systemd/system, /usr/local/bin, /var/lib, /run/credentials.
func newHost(t *testing.T) string {
	t.Helper()
	host, err := os.MkdirTemp("", "asana_exporter-host-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(host) })
	for _, d := range []string{"", "etc", "etc/systemd/system", "usr/local/bin", "var/lib", "run", "run/credentials", "bin"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(host, d), 0o755); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}
	return host
}

// installLines are the install(1) commands in text: a shell block's lines,
// or a comment's ("#   install …"), without their trailing comments.
func installLines(text string) []string {
	var lines []string
	for _, m := range regexp.MustCompile(`(?m)^[#\s]*(install .*)$`).FindAllStringSubmatch(text, -1) {
		line, _, _ := strings.Cut(m[1], " #")
		lines = append(lines, strings.TrimSpace(line))
	}
	return lines
}

// sources are the files the documented install lines copy: the exporter,
// the token on standard input (each organisation's, by the variable the
// line gives it from), the example configs and the unit.
func sources(t *testing.T) map[string]string {
	t.Helper()
	from := map[string]string{
		"asana_exporter":                   exporterBinary(t),
		"config.example.yml":               repoPath("config.example.yml"),
		"asana_exporter-organizations.yml": repoPath("examples", "asana_exporter-organizations.yml"),
		"asana_exporter.service":           repoPath("examples", "asana_exporter.service"),
	}
	for stdin, token := range map[string]string{"/dev/stdin": asanatest.DefaultToken, // <<< "$ASANA_PAT"
		`<<< "$ACME_TOKEN"`: acmeToken, `<<< "$GLOBEX_TOKEN"`: globexToken} {
		from[stdin] = filepath.Join(t.TempDir(), "token")
		writeFile(t, from[stdin], token+"\n")
	}
	return from
}

// install does what line, an install(1) command run as root, does to the
// host: -d makes directories, else the sources are copied to the last
// operand; each takes -m's mode (0755 if none) and -o's and -g's owner
// (root if none).
func install(t *testing.T, host, line string, from map[string]string) {
	t.Helper()
	command, stdin, _ := strings.Cut(line, "<<<")
	args := strings.Fields(command)[1:]
	mode, uid, gid, dirs := os.FileMode(0o755), 0, 0, false
	var operands []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-d":
			dirs = true
		case "-m", "-o", "-g":
			if i++; i == len(args) {
				t.Fatalf("%q: %s without a value", line, a)
			}
			value, base := args[i], 10
			if a == "-m" {
				base = 8
			} else if value == "root" {
				value = "0"
			}
			n, err := strconv.ParseUint(value, base, 32)
			if err != nil {
				t.Fatalf("%q: %s %s: %v", line, a, args[i], err)
			}
			switch a {
			case "-m":
				mode = os.FileMode(n)
			case "-o":
				uid = int(n)
			case "-g":
				gid = int(n)
			}
		default:
			if strings.HasPrefix(a, "-") {
				t.Fatalf("%q: install's %s is not one this test knows", line, a)
			}
			operands = append(operands, a)
		}
	}
	place := func(path string, write func(string)) {
		write(path)
		if err := os.Chmod(path, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if err := os.Chown(path, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if dirs {
		for _, d := range operands {
			place(filepath.Join(host, d), func(p string) {
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
			})
		}
		return
	}
	if len(operands) < 2 {
		t.Fatalf("%q: no source and destination", line)
	}
	dest := operands[len(operands)-1]
	for _, src := range operands[:len(operands)-1] {
		file, ok := from[src]
		if f, given := from["<<< "+strings.TrimSpace(stdin)]; given && src == "/dev/stdin" {
			file = f
		}
		if !ok || (src == "/dev/stdin") != (stdin != "") {
			t.Fatalf("%q: this test does not know what %s is", line, src)
		}
		to := filepath.Join(host, dest)
		if strings.HasSuffix(dest, "/") {
			to = filepath.Join(to, filepath.Base(src))
		}
		place(to, func(p string) { copyFile(t, file, p) })
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// installAll runs every install line of text on a new host.
func installAll(t *testing.T, text string) string {
	t.Helper()
	host := newHost(t)
	from := sources(t)
	lines := installLines(text)
	if len(lines) == 0 {
		t.Fatal("no install lines")
	}
	for _, line := range lines {
		install(t, host, line, from)
	}
	return host
}

// runsAndCounts starts bin as cred's user against a simulated Asana and
// checks that it becomes ready and reports asana_up 1.
func runsAndCounts(t *testing.T, cred *syscall.Credential, bin string, args []string) {
	t.Helper()
	s := newSimulated(t, asanatest.Config{})
	e := launchExporterAs(t, cred, bin, nil, append(args, "--asana.url="+s.srv.BaseURL)...)
	e.waitFor(t, "/-/ready")
	_, families := e.scrape(t, "10")
	if v, _ := families.Sample("asana_up"); v != 1 {
		t.Errorf("asana_up = %v, want 1", v)
	}
}

// failsAtStart runs bin as cred's user and returns what it printed when it
// stopped; it must stop with an error.
func failsAtStart(t *testing.T, cred *syscall.Credential, bin string, args []string) string {
	t.Helper()
	// A guard, not a measure: it fails at start, in milliseconds.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--web.listen-address="+freeAddress(t))...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("the exporter did not stop with an error (%v):\n%s", err, out)
	}
	return string(out)
}

// systemdService is the unit run as systemd would: its ExecStart's binary
// and arguments on the host, the credentials LoadCredential= copies (as
// systemd does: readable by the service's user alone) and the
// StateDirectory= it makes (the service user's, 0755).
func systemdService(t *testing.T, host, unit string, cred *syscall.Credential) (string, []string) {
	t.Helper()
	bin, args := execStart(t, unit)
	creds := filepath.Join(host, "run", "credentials", "asana_exporter.service")
	if err := os.Mkdir(creds, 0o500); err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^LoadCredential=([^:\s]+):(\S+)$`).FindAllStringSubmatch(unit, -1) {
		copyFile(t, filepath.Join(host, m[2]), filepath.Join(creds, m[1]))
		chownAll(t, cred, 0o400, filepath.Join(creds, m[1]))
	}
	chownAll(t, cred, 0o500, creds)
	for _, m := range regexp.MustCompile(`(?m)^StateDirectory=(\S+)$`).FindAllStringSubmatch(unit, -1) {
		dir := filepath.Join(host, "var", "lib", m[1])
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		chownAll(t, cred, 0o755, dir)
	}
	for i, a := range args {
		a = strings.ReplaceAll(a, "%d", strings.TrimPrefix(creds, host))
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(value, "/") {
			a = name + "=" + filepath.Join(host, value)
		}
		args[i] = a
	}
	return filepath.Join(host, bin), args
}

func chownAll(t *testing.T, cred *syscall.Credential, mode os.FileMode, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNonRootSystemdLayout: over the files the unit's install comments
// create, the exporter runs as an unprivileged user, as DynamicUser= runs
// it, reads its config and its token credential, writes its state, and
// counts. The layout before issue 28 (/etc/asana_exporter 0750, root's)
// stops it with a message that names the directory in its way and the uid.
func TestNonRootSystemdLayout(t *testing.T) {
	needRoot(t)
	unit, _ := systemdUnits(t)
	cred := imageUser(t) // a uid of no one, as DynamicUser's is
	t.Run("as installed", func(t *testing.T) {
		host := installAll(t, unit)
		bin, args := systemdService(t, host, unit, cred)
		runsAndCounts(t, cred, bin, args)
	})
	t.Run("a config directory only root may enter", func(t *testing.T) {
		host := installAll(t, unit)
		bin, args := systemdService(t, host, unit, cred)
		etc := filepath.Join(host, "etc", "asana_exporter")
		if err := os.Chmod(etc, 0o750); err != nil {
			t.Fatal(err)
		}
		out := failsAtStart(t, cred, bin, args)
		want := "reading the config file: " + filepath.Join(etc, "asana.yml") + " is out of reach of uid " + strconv.Itoa(int(cred.Uid))
		if !strings.Contains(out, want) || !strings.Contains(out, "may not enter the directory "+etc+" (owned by uid 0") ||
			!strings.Contains(out, "chmod o+x "+etc) {
			t.Errorf("the exporter printed\n%s\nwant the config file, the uid and the directory in its way (%q…)", out, want)
		}
	})
}

// execStart is the unit's ExecStart: its binary and its arguments.
func execStart(t *testing.T, unit string) (string, []string) {
	t.Helper()
	m := regexp.MustCompile(`(?s)ExecStart=(\S+)((?:\s*\\\n\s*--\S+)+)`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("no ExecStart with flags in the unit")
	}
	var args []string
	for _, a := range strings.Fields(strings.ReplaceAll(m[2], "\\", "")) {
		if !strings.HasPrefix(a, "--web.listen-address=") { // the test gives each its own
			args = append(args, a)
		}
	}
	return m[1], args
}

// container is how docs/DOCKER.md runs the image: its mounts (container
// path: host path), its user if not the image's, and its arguments.
type container struct {
	image  string
	mounts map[string]string
	user   string
	args   []string
}

// dockerRun reads the docker run command of a shell block.
func dockerRun(t *testing.T, doc string) container {
	t.Helper()
	m := regexp.MustCompile(`(?m)^docker run ((?:.*\\\n)*.*)$`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("docs/DOCKER.md has no docker run command")
	}
	c := container{mounts: map[string]string{}}
	words := strings.Fields(strings.ReplaceAll(m[1], "\\\n", " "))
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-d" || w == "--rm":
		case w == "--name" || w == "-p" || w == "--user" || w == "-v":
			i++
			switch w {
			case "-v":
				c.mount(t, words[i])
			case "--user":
				c.user = words[i]
			}
		case strings.HasPrefix(w, "-"):
			t.Fatalf("docker run's %s is not one this test knows", w)
		default:
			c.image, c.args = w, words[i+1:]
			return c
		}
	}
	t.Fatal("docker run names no image")
	return c
}

// mount adds a -v or Compose volume, HOST:CONTAINER[:ro].
func (c *container) mount(t *testing.T, volume string) {
	t.Helper()
	parts := strings.Split(volume, ":")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "/") {
		t.Fatalf("the volume %q is not HOST:CONTAINER", volume)
	}
	c.mounts[parts[1]] = parts[0]
}

// compose reads the Compose file of a yaml block: its one service, and its
// secrets, which Compose bind-mounts at /run/secrets/NAME.
func compose(t *testing.T, doc string) container {
	t.Helper()
	m := regexp.MustCompile("(?s)```yaml\n(services:.*?)```").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("docs/DOCKER.md has no Compose file")
	}
	var file struct {
		Services map[string]struct {
			Image   string
			User    string
			Command []string
			Volumes []string
			Secrets []string
		}
		Secrets map[string]struct{ File string }
	}
	if err := yaml.Unmarshal([]byte(m[1]), &file); err != nil {
		t.Fatalf("docs/DOCKER.md's Compose file: %v", err)
	}
	if len(file.Services) != 1 {
		t.Fatalf("the Compose file has %d services, want 1", len(file.Services))
	}
	c := container{mounts: map[string]string{}}
	for _, s := range file.Services {
		c.image, c.user, c.args = s.Image, s.User, s.Command
		for _, v := range s.Volumes {
			c.mount(t, v)
		}
		for _, name := range s.Secrets {
			secret, ok := file.Secrets[name]
			if !ok || secret.File == "" {
				t.Fatalf("the service's secret %s is not a file the Compose file names", name)
			}
			c.mounts["/run/secrets/"+name] = secret.File
		}
	}
	return c
}

// onHost maps the container's arguments to the host's files through its
// mounts: a bind mount shows the host's file itself, owner and mode. The
// image's binary is copied to /bin; its user is the image's, unless the
// container names one.
func (c container) onHost(t *testing.T, host string) (string, *syscall.Credential, []string) {
	t.Helper()
	if want := "asana_exporter:" + strings.TrimSpace(string(readRepoFile(t, "VERSION"))); c.image != want {
		t.Errorf("the docs run the image %s; make docker builds %s", c.image, want)
	}
	cred := imageUser(t)
	if c.user != "" {
		t.Fatalf("the docs run the container as %s: this test knows only the image's user", c.user)
	}
	bin := filepath.Join(host, "bin", "asana_exporter")
	copyFile(t, exporterBinary(t), bin)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	targets := slices.Sorted(maps.Keys(c.mounts))
	args := slices.Clone(c.args)
	for i, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(value, "/") {
			continue
		}
		mapped := false
		for _, target := range slices.Backward(targets) { // the longest first
			if rest, in := strings.CutPrefix(value, target); in && (rest == "" || rest[0] == '/') {
				args[i], mapped = name+"="+filepath.Join(host, c.mounts[target], rest), true
				break
			}
		}
		if !mapped {
			t.Errorf("%s names %s, which no volume mounts", name, value)
		}
	}
	return bin, cred, args
}

// TestNonRootDockerLayout: over the files docs/DOCKER.md's install lines
// create, the exporter runs as the image's user (the Dockerfile's USER)
// with the docs' docker run arguments and mounts, and again as their
// Compose file runs it, the token a secret in /run/secrets. No Docker
// engine runs here: a bind mount shows the host's file as it is, so the
// host's files are read in its place. The README's line before issue 28, a
// root-owned 0600 token, stops it with a message that names the file and
// the uid, and says to chown it, not to create a token.
func TestNonRootDockerLayout(t *testing.T) {
	needRoot(t)
	doc := string(readRepoFile(t, "docs", "DOCKER.md"))
	for name, c := range map[string]container{"docker run": dockerRun(t, doc), "compose": compose(t, doc)} {
		t.Run(name, func(t *testing.T) {
			host := installAll(t, doc)
			bin, cred, args := c.onHost(t, host)
			runsAndCounts(t, cred, bin, args)
		})
	}
	t.Run("a root-owned 0600 token", func(t *testing.T) {
		host := installAll(t, doc)
		install(t, host, `install -m 600 /dev/stdin /etc/asana_exporter/token <<< "$ASANA_PAT"`, sources(t))
		bin, cred, args := dockerRun(t, doc).onHost(t, host)
		out := failsAtStart(t, cred, bin, args)
		token := filepath.Join(host, "etc", "asana_exporter", "token")
		uid := strconv.Itoa(int(cred.Uid))
		want := "reading the Asana token from --asana.token-file: " + token + " is not readable by uid " + uid
		if !strings.Contains(out, want) || !strings.Contains(out, "(owned by uid 0") || !strings.Contains(out, "mode 0600") ||
			!strings.Contains(out, "chown "+uid+" "+token) || strings.Contains(out, "personal access token") {
			t.Errorf("the exporter printed\n%s\nwant the file, the uid, its owner and mode and the chown (%q…), and no advice on tokens", out, want)
		}
		// The message the docs quote, on this host, whose /etc/passwd may
		// not name the image's user as the image's does.
		quoted := regexp.MustCompile("`… (/etc/asana_exporter/token is not readable by .*?) …`").FindStringSubmatch(doc)
		names := regexp.MustCompile(`(uid \d+) \([^)]*\)`)
		if quoted == nil {
			t.Fatal("docs/DOCKER.md quotes no message for an unreadable token")
		}
		if q := names.ReplaceAllString(strings.ReplaceAll(quoted[1], "/etc/", host+"/etc/"), "$1"); !strings.Contains(names.ReplaceAllString(out, "$1"), q) {
			t.Errorf("docs/DOCKER.md quotes\n%s\nwhich the exporter no longer prints:\n%s", quoted[1], out)
		}
	})
}
