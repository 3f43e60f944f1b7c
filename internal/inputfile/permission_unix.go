//go:build unix

package inputfile

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// canEnter reports whether the process, with its effective ids, may search
// dir; a directory it cannot reach is reported by the one above it.
func canEnter(dir string) bool {
	return unix.Faccessat(unix.AT_FDCWD, dir, unix.X_OK, unix.AT_EACCESS) == nil
}

// ownerIDs are the uid and gid that own st's file.
func ownerIDs(st fs.FileInfo) (uid, gid uint32, ok bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return sys.Uid, sys.Gid, true
}
