// Package privatefile writes the files the exporter makes for its user
// (the roster, an Admin Console export, a refresh token) and for itself
// (the audit log's state): whole or not at all, and readable by the owner
// alone, since they hold personal data or a secret.
package privatefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// maxLinks bounds a chain of symlinks, as Linux's own limit (MAXSYMLINKS)
// does: a loop of links is an error, not a hang.
const maxLinks = 40

// Write calls write with a temporary file in the directory of the file
// that path names, syncs it and renames it over that file, with mode 0600
// whatever the umask. If write fails, the file is left as it was and the
// temporary file is removed.
//
// A symlink is followed and its target replaced; the link stays. What is
// not a file to replace (a FIFO, a character device such as /dev/null, an
// open descriptor such as /dev/stdout) is written to directly, as a shell's
// > would: its reader wants the stream, and a rename would put a regular
// file holding personal data where it stood. A directory, and a symlink to
// nothing, are refused.
func Write(path string, write func(io.Writer) error) error {
	return save(path, write, true)
}

// Replace is Write for the files the running exporter keeps (the audit
// log's state, a refreshed refresh token): anything but a regular file is
// refused, since writing to a FIFO would wait for a reader for ever.
func Replace(path string, write func(io.Writer) error) error {
	return save(path, write, false)
}

// Line writes one line: a secret and a newline.
func Line(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s+"\n")
		return err
	}
}

func save(path string, write func(io.Writer) error, stream bool) error {
	target, st, err := resolve(path)
	switch {
	case err != nil:
		return err
	case st == nil || st.Mode().IsRegular() && !descriptor(target):
		return replace(target, write)
	case st.IsDir():
		return fmt.Errorf("%s is a directory: give the path of a file", path)
	case !stream:
		return fmt.Errorf("%s is %s, not a regular file: remove it; the exporter keeps a file of its own there", path, inputfile.Kind(st.Mode()))
	}
	return direct(target, write)
}

// resolve follows path's symlinks to the file it names: its path, and what
// it is or nil if it is to be created. A link into /proc/PID/fd (as
// /dev/stdout is) names an open descriptor, which only an open reaches: it
// is returned as it is, with what the descriptor is open on.
func resolve(path string) (string, fs.FileInfo, error) {
	p := path
	for i := range maxLinks {
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", nil, fmt.Errorf("cannot write %s: %w", path, err)
		}
		p = filepath.Join(dir, filepath.Base(p))
		if descriptor(p) {
			st, err := os.Stat(p)
			return p, st, err
		}
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && i > 0:
			return "", nil, fmt.Errorf("%s is a symlink to %s, which does not exist: create it, or remove the link", path, p)
		case errors.Is(err, fs.ErrNotExist):
			return p, nil, nil
		case err != nil:
			return "", nil, err
		case st.Mode()&fs.ModeSymlink == 0:
			return p, st, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", nil, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		p = link
	}
	return "", nil, fmt.Errorf("%s: more than %d symlinks in a row (a loop?)", path, maxLinks)
}

// descriptor reports whether p, its directory resolved, is an entry of
// /proc/PID/fd (or /proc/PID/task/TID/fd).
func descriptor(p string) bool {
	dir := filepath.Dir(p)
	return strings.HasPrefix(dir, "/proc/") && filepath.Base(dir) == "fd"
}

// replace writes a temporary file beside target and renames it over target.
func replace(target string, write func(io.Writer) error) error {
	pending, err := renameio.NewPendingFile(target, renameio.WithTempDir(filepath.Dir(target)), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return denied(filepath.Dir(target), err)
	}
	defer pending.Cleanup()
	if err := write(pending); err != nil {
		return err
	}
	return pending.CloseAtomicallyReplace()
}

// direct writes to what path names, as it is. O_APPEND: through
// /dev/stdout, a file the shell opened with >> keeps what it held.
func direct(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return denied(path, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// denied says, of a permission error, who may not write path (or in it)
// and how to let them.
func denied(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return inputfile.Denied(path, true, err)
	}
	return err
}
