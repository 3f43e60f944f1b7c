// Package inputfile opens the files the exporter is given (the token and
// OAuth secrets, the config, the audit log's state, an Admin Console
// export): regular files only, read up to a limit. A FIFO would block
// start-up or a reload until someone writes to it, and /dev/zero would grow
// without end; both are refused at once with a message that names the file.
// A path the exporter's user may not read or write in gets one message
// (PermissionError), which names the path, the user and the fix.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Open opens path for reading if it is a regular file (a symlink is
// followed). It never blocks. A device is refused before it is opened
// (opening some has effects: a tape rewinds), and the open is non-blocking,
// so that a FIFO put in place meanwhile is seen and refused rather than
// waited on.
func Open(path string) (*os.File, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, explain(path, err)
	} else if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, explain(path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return f, nil
}

// explain says what to do about a file that cannot be opened; the
// error still matches fs.ErrNotExist or fs.ErrPermission.
func explain(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &openError{fmt.Sprintf("%s: no such file or directory; check the path", path), err}
	case errors.Is(err, fs.ErrPermission):
		return Denied(path, false, err)
	}
	return err
}

type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// NotRegularError is a path that is not a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file: give the path of a file", e.Path, Kind(e.Mode))
}

// Kind names what a file that is not a regular file is, for messages.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (mode " + m.String() + ")"
}

// TooLargeError is a file larger than its reader's limit.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes, more than such a file can hold: check the path", e.Path, e.Limit)
}

// ReadAll reads a regular file whole if it holds at most limit bytes.
func ReadAll(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(LimitReader(f, path, limit))
}

// LimitReader reads r, the file at path, to its end if that comes within
// limit bytes, and otherwise fails with a TooLargeError, at every read from
// then on: a reader that drops an error returned with data (as
// segmentio's JSON decoder does) still sees it at its next read.
func LimitReader(r io.Reader, path string, limit int64) io.Reader {
	return &limitReader{r: r, left: limit, path: path, limit: limit}
}

type limitReader struct {
	r           io.Reader
	left, limit int64
	path        string
	tooLarge    error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.tooLarge != nil {
		return 0, l.tooLarge
	}
	if l.left == 0 {
		// At the limit: the file is too large if anything follows.
		var one [1]byte
		if n, err := io.ReadFull(l.r, one[:]); n == 0 {
			return 0, err
		}
		l.tooLarge = &TooLargeError{Path: l.path, Limit: l.limit}
		return 0, l.tooLarge
	}
	p = p[:min(int64(len(p)), l.left)]
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
