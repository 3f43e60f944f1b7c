package privatefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteIsWholeOrNothingAndPrivate: a write that fails leaves the old
// file as it was and no temporary file; one that succeeds replaces it with
// mode 0600, even under a permissive umask.
func TestWriteIsWholeOrNothingAndPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("listing failed")
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "half a ros")
		return failed
	})
	if !errors.Is(err, failed) {
		t.Errorf("error %v, want the writer's", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("a failed write changed the file to %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries left in the directory, want the file alone", len(entries))
	}

	old := syscall.Umask(0)
	defer syscall.Umask(old)
	if err := WriteLine(path, "rt-new"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(got) != "rt-new\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("file %q with mode %v, want the line and 0600", got, st.Mode())
	}
}
