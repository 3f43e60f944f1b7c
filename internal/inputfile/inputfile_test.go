package inputfile

import (
	"errors"
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
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) || !IsNotRegular(err) {
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
