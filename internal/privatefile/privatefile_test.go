package privatefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// names lists a directory's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// noTempDir points $TMPDIR at an empty directory, where renameio would
// put its temporary file if it were let choose, and checks at the end
// that it is still empty.
func noTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() {
		if left := names(t, tmp); len(left) > 0 {
			t.Errorf("files left in $TMPDIR: %v", left)
		}
	})
}

// TestWriteIsWholeOrNothingAndPrivate: a write that fails leaves the old
// file as it was and no temporary file; one that succeeds replaces it with
// mode 0600, even under a permissive umask.
func TestWriteIsWholeOrNothingAndPrivate(t *testing.T) {
	noTempDir(t)
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
	if entries := names(t, dir); !slices.Equal(entries, []string{"roster.csv"}) {
		t.Errorf("entries left in the directory: %v, want the file alone", entries)
	}

	old := syscall.Umask(0)
	defer syscall.Umask(old)
	if err := Write(path, Line("rt-new")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(got) != "rt-new\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("file %q with mode %v, want the line and 0600", got, st.Mode())
	}
}

// TestWriteFollowsASymlinkChain: the file at the end of a chain of links
// (a relative one among them) is replaced, from a temporary file in its own
// directory; the links stay links, and nothing is left beside them.
func TestWriteFollowsASymlinkChain(t *testing.T) {
	noTempDir(t)
	linkDir, midDir, fileDir := t.TempDir(), t.TempDir(), t.TempDir()
	file := filepath.Join(fileDir, "roster.csv")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	mid := filepath.Join(midDir, "latest.csv")
	rel, _ := filepath.Rel(midDir, file)
	link := filepath.Join(linkDir, "out.csv")
	if os.Symlink(rel, mid) != nil || os.Symlink(mid, link) != nil {
		t.Fatal("cannot make the links")
	}
	for _, fail := range []bool{true, false} {
		err := Write(link, func(w io.Writer) error {
			if temp := names(t, fileDir); len(temp) != 2 || !strings.HasPrefix(temp[0], ".roster.csv") {
				t.Errorf("while writing, %s holds %v, want the file and a temporary one beside it", fileDir, temp)
			}
			io.WriteString(w, "new")
			if fail {
				return errors.New("failed")
			}
			return nil
		})
		if fail != (err != nil) {
			t.Fatalf("fail %t: %v", fail, err)
		}
	}
	got, _ := os.ReadFile(file)
	st, _ := os.Stat(file)
	if string(got) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("the link's target holds %q, mode %v; want the new content, 0600", got, st.Mode())
	}
	for _, l := range []string{link, mid} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink: %v", l, err)
		}
	}
	if a, b, c := names(t, linkDir), names(t, midDir), names(t, fileDir); len(a)+len(b)+len(c) != 3 {
		t.Errorf("left behind: %v %v %v", a, b, c)
	}
}

// TestWriteStreamsToAFIFO: a FIFO is written to, not replaced, and its
// reader gets the lines; Replace refuses it at once instead of waiting for
// a reader.
func TestWriteStreamsToAFIFO(t *testing.T) {
	noTempDir(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan string)
	go func() {
		f, err := os.Open(fifo) // waits for the writer
		if err != nil {
			read <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		read <- string(b)
	}()
	if err := Write(fifo, Line("user000002@partner.example.net")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v, %v", st.Mode(), err)
	}
	if got := <-read; got != "user000002@partner.example.net\n" {
		t.Errorf("the reader got %q", got)
	}
	if err := Replace(fifo, Line("x")); err == nil || !strings.Contains(err.Error(), fifo+" is a named pipe (FIFO), not a regular file") {
		t.Errorf("Replace(a FIFO) = %v", err)
	}
	if entries := names(t, dir); len(entries) != 1 {
		t.Errorf("left beside the FIFO: %v", entries)
	}
}

// TestWriteToDevNullAndDescriptors: /dev/null is written to, not replaced.
// /dev/fd/N reaches the open descriptor: a pipe gets the stream, and a file
// opened for appending (as with >>) keeps what it held.
func TestWriteToDevNullAndDescriptors(t *testing.T) {
	noTempDir(t)
	err := Write("/dev/null", func(w io.Writer) error {
		// A temporary file is never renamed over /dev/null: refuse it.
		if f, ok := w.(*os.File); !ok || f.Name() != "/dev/null" {
			return fmt.Errorf("writing to %T, not to /dev/null itself", w)
		}
		_, err := io.WriteString(w, "user000002@partner.example.net\n")
		return err
	})
	if err != nil {
		t.Error(err)
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", st.Mode(), err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := Write(fmt.Sprintf("/dev/fd/%d", w.Fd()), Line("through a pipe")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got, _ := io.ReadAll(r); string(got) != "through a pipe\n" {
		t.Errorf("the pipe got %q", got)
	}

	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	appended, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer appended.Close()
	if err := Write(fmt.Sprintf("/proc/self/fd/%d", appended.Fd()), Line("added")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if got, _ := os.ReadFile(path); string(got) != "kept\nadded\n" || !os.SameFile(before, after) {
		t.Errorf("the file behind the descriptor holds %q (same file: %t), want the line appended", got, os.SameFile(before, after))
	}
}

// TestWriteRefuses: a directory, a symlink to nothing, a loop of links and
// a missing directory are refused with a message that says so, and leave
// nothing behind.
func TestWriteRefuses(t *testing.T) {
	noTempDir(t)
	dir := t.TempDir()
	dangling, loop := filepath.Join(dir, "dangling"), filepath.Join(dir, "loop")
	if os.Symlink("missing.csv", dangling) != nil || os.Symlink("loop", loop) != nil {
		t.Fatal("cannot make the links")
	}
	for path, want := range map[string]string{
		dir:                                 dir + " is a directory",
		dangling:                            dangling + " is a symlink to " + filepath.Join(dir, "missing.csv") + ", which does not exist",
		loop:                                "more than 40 symlinks",
		filepath.Join(dir, "no", "out.csv"): "no such file or directory",
	} {
		if err := Write(path, Line("x")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Write(%s) = %v, want %q", path, err, want)
		}
	}
	if entries := names(t, dir); len(entries) != 2 {
		t.Errorf("left in the directory: %v", entries)
	}
}

// TestAPermissionErrorSaysWhoMayNotWrite: a directory or file the user may
// not write gets inputfile's message, writing; other errors pass as they
// are. The error is injected: the tests may run as root, whom no mode
// keeps out.
func TestAPermissionErrorSaysWhoMayNotWrite(t *testing.T) {
	dir := t.TempDir()
	err := denied(dir, &fs.PathError{Op: "open", Path: filepath.Join(dir, ".state123"), Err: syscall.EACCES})
	var perm *inputfile.PermissionError
	if !errors.As(err, &perm) || !perm.Write || perm.Path != dir || !strings.HasPrefix(err.Error(), dir+" is not writable by uid ") {
		t.Errorf("a directory it may not write in: %v", err)
	}
	other := &fs.PathError{Op: "open", Path: dir, Err: syscall.EROFS}
	if err := denied(dir, other); err != other {
		t.Errorf("a read-only file system: %v, want the error as it is", err)
	}
}
