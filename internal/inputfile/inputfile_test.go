package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadAllRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "a named pipe (FIFO), not a regular file",
		"/dev/zero": "a character device, not a regular file",
		dir:         "a directory, not a regular file",
	} {
		// A FIFO with no writer would block a plain open forever.
		_, err := ReadAll(path, 1<<20)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) || !errors.As(err, new(*NotRegularError)) {
			t.Errorf("ReadAll(%s) = %v, want an error naming the file and %q", path, err, want)
		}
	}
}

func TestReadAllLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadAll(path, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadAll at the limit = %q, %v", b, err)
	}
	_, err := ReadAll(path, 4)
	var tooLarge *TooLargeError
	if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "larger than 4 bytes") {
		t.Errorf("ReadAll over the limit = %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadAll(link, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadAll through a symlink = %q, %v", b, err)
	}
}

// TestErrorsSayWhatToFix: a missing or unreadable file is named with what
// to do about it, and still matches the error it comes from.
func TestErrorsSayWhatToFix(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "token")
	_, err := ReadAll(missing, 1)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != missing+": no such file or directory; check the path" {
		t.Errorf("a missing file: %v", err)
	}
	// The tests may run as root, whom no mode keeps out: the error itself.
	err = explain(missing, &fs.PathError{Op: "open", Path: missing, Err: syscall.EACCES})
	var denied *PermissionError
	if !errors.Is(err, fs.ErrPermission) || !errors.As(err, &denied) || denied.Path != missing || denied.Write ||
		!strings.HasPrefix(err.Error(), fmt.Sprintf("%s is not readable by uid %d", missing, os.Geteuid())) {
		t.Errorf("an unreadable file: %v", err)
	}
}

// TestLimitReaderFailsAtEveryReadPastTheLimit: a reader that drops an
// error returned with data (segmentio's JSON decoder does) still sees it,
// and a file exactly at the limit is read whole.
func TestLimitReaderFailsAtEveryReadPastTheLimit(t *testing.T) {
	r := LimitReader(strings.NewReader("123456"), "f", 4)
	p := make([]byte, 10)
	if n, err := r.Read(p); n != 4 || err != nil {
		t.Fatalf("first read: %d, %v; want the 4 bytes allowed", n, err)
	}
	for range 2 {
		var tooLarge *TooLargeError
		if n, err := r.Read(p); n != 0 || !errors.As(err, &tooLarge) {
			t.Errorf("a read past the limit: %d, %v", n, err)
		}
	}
	if b, err := io.ReadAll(LimitReader(strings.NewReader("1234"), "f", 4)); string(b) != "1234" || err != nil {
		t.Errorf("a file at the limit: %q, %v", b, err)
	}
}
