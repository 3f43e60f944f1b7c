package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// built is the exporter binary: $ASANA_EXPORTER_BINARY (`make test-e2e`
// builds it with the race detector), or else built once for this run.
var built struct {
	once sync.Once
	path string
	err  error
}

func exporterBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.path = os.Getenv("ASANA_EXPORTER_BINARY"); built.path != "" {
			built.path, built.err = filepath.Abs(built.path)
			return
		}
		dir, err := os.MkdirTemp("", "asana_exporter-e2e")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "asana_exporter")
		cmd := exec.Command("go", "build", "-o", built.path, ".")
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// logFile is where a child writes its output: a file, so that reading it
// while the child writes needs no lock.
type logFile string

func (f logFile) String() string {
	raw, _ := os.ReadFile(string(f))
	return string(raw)
}

// process is a program the test runs: the exporter, Prometheus or
// Alertmanager.
type process struct {
	cmd    *exec.Cmd
	output logFile
	exited chan struct{} // closed when it has exited, with err set
	err    error
}

// launch runs bin until the test ends, then stops it with SIGTERM, or
// SIGKILL if it does not exit within 10 s. Its output is logged if the test
// failed, and a data race it reports (a binary built with -race) fails it.
func launch(t testing.TB, bin string, env []string, args ...string) *process {
	t.Helper()
	return launchAs(t, nil, bin, env, args...)
}

// launchAs is launch as the user and group cred names, with no
// supplementary groups; nil: as the test.
func launchAs(t testing.TB, cred *syscall.Credential, bin string, env []string, args ...string) *process {
	t.Helper()
	name := filepath.Base(bin)
	out, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	p := &process{cmd: exec.Command(bin, args...), output: logFile(out.Name()), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	if cred != nil {
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s ignored SIGTERM for 10 s; killed", name)
			p.cmd.Process.Kill()
			<-p.exited
		}
		if strings.Contains(p.output.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output)
		}
	})
	return p
}

// waitUntil polls ok until it holds, or fails the test at ctx's deadline.
func waitUntil(ctx context.Context, t testing.TB, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freeAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// exporterProcess is the built exporter, running on a free loopback port.
type exporterProcess struct {
	*process
	addr string
}

// startExporter runs the exporter and waits until it answers /-/healthy.
func startExporter(t testing.TB, env []string, args ...string) *exporterProcess {
	t.Helper()
	e := launchExporter(t, env, args...)
	e.waitFor(t, "/-/healthy")
	return e
}

// launchExporter runs the exporter without waiting for it.
func launchExporter(t testing.TB, env []string, args ...string) *exporterProcess {
	t.Helper()
	return launchExporterAs(t, nil, exporterBinary(t), env, args...)
}

// launchExporterAs runs bin, an exporter, as cred's user (nil: the
// test's) without waiting for it.
func launchExporterAs(t testing.TB, cred *syscall.Credential, bin string, env []string, args ...string) *exporterProcess {
	t.Helper()
	addr := freeAddress(t)
	return &exporterProcess{process: launchAs(t, cred, bin, env, append([]string{"--web.listen-address=" + addr}, args...)...), addr: addr}
}

func (e *exporterProcess) url(path string) string { return "http://" + e.addr + path }

// reload asks the exporter to reload (POST /-/reload) and returns its
// status and answer.
func (e *exporterProcess) reload(t testing.TB) (int, string) {
	t.Helper()
	resp, err := http.Post(e.url("/-/reload"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitFor polls path until it answers with status (200 unless given).
func (e *exporterProcess) waitFor(t testing.TB, path string, status ...int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	waitUntil(ctx, t, path+" to answer", func() bool {
		if e.process != nil {
			select {
			case <-e.exited:
				t.Fatalf("the exporter exited early: %v", e.err)
			default:
			}
		}
		resp, err := http.Get(e.url(path))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == append(status, http.StatusOK)[0]
	})
}

// scrape fetches /metrics as Prometheus would and parses it.
func (e *exporterProcess) scrape(t testing.TB, timeout string) (string, exposition.Families) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url("/metrics"), nil)
	if timeout != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	families, err := exposition.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return string(raw), families
}
