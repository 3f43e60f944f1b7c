package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSafeConfigReloadAppliesAllOrNothing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "asana.yml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("requests_per_minute: 100\n")
	sc, err := NewSafeConfig(file, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Get().RequestsPerMinute != 100 || testutil.ToFloat64(sc.successful) != 1 {
		t.Fatalf("startup load: %+v, successful %v", sc.Get(), testutil.ToFloat64(sc.successful))
	}
	var applied []int
	hookErr := error(nil)
	sc.OnReload(func(next *Config) (func(), error) {
		return func() { applied = append(applied, next.RequestsPerMinute) }, hookErr
	})

	write("requests_per_minute: 200\n")
	if err := sc.Reload(); err != nil || sc.Get().RequestsPerMinute != 200 || len(applied) != 1 || applied[0] != 200 {
		t.Errorf("a good reload: err %v, config %+v, applied %v", err, sc.Get(), applied)
	}

	// A bad file, then a hook that refuses: nothing changes.
	write("requests_per_minute: 5000\n")
	if err := sc.Reload(); err == nil || !strings.Contains(err.Error(), "outside 1..1500") {
		t.Errorf("a bad file: %v", err)
	}
	write("requests_per_minute: 300\n")
	hookErr = errors.New("the token file is empty")
	if err := sc.Reload(); !errors.Is(err, hookErr) {
		t.Errorf("a refusing hook: %v", err)
	}
	if sc.Get().RequestsPerMinute != 200 || len(applied) != 1 || testutil.ToFloat64(sc.successful) != 0 {
		t.Errorf("after failed reloads: config %+v, applied %v, successful %v", sc.Get(), applied, testutil.ToFloat64(sc.successful))
	}

	// Without a file, a reload keeps the fallback and runs the hooks.
	fallback := Default()
	fallback.RequestsPerMinute = 42
	none, err := NewSafeConfig("", fallback, nil)
	if err != nil || none.Get() != fallback || none.Reload() != nil || none.Get() != fallback {
		t.Errorf("without a file: %v, %+v", err, none.Get())
	}
}

func TestNewSafeConfigNamesTheBadFile(t *testing.T) {
	if _, err := NewSafeConfig(filepath.Join(t.TempDir(), "missing.yml"), nil, nil); err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Errorf("NewSafeConfig(missing) = %v", err)
	}
}

// TestReloadOfAFIFOFailsAtOnce: a config file replaced by a FIFO fails the
// reload at once instead of holding the reload lock until someone writes to
// it, so the next reload, of a good file, goes through.
func TestReloadOfAFIFOFailsAtOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "asana.yml")
	if err := os.WriteFile(file, []byte("requests_per_minute: 100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := NewSafeConfig(file, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if os.Remove(file) != nil || syscall.Mkfifo(file, 0o600) != nil {
		t.Fatal("cannot put a FIFO in the file's place")
	}
	if err := sc.Reload(); err == nil || !strings.Contains(err.Error(), file+" is a named pipe (FIFO)") {
		t.Errorf("a reload of a FIFO: %v", err)
	}
	if os.Remove(file) != nil || os.WriteFile(file, []byte("requests_per_minute: 200\n"), 0o600) != nil {
		t.Fatal("cannot put the file back")
	}
	if err := sc.Reload(); err != nil || sc.Get().RequestsPerMinute != 200 {
		t.Errorf("the reload after: %v, %+v", err, sc.Get())
	}
}
