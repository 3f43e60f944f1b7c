//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package reclaim

import (
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive flock on f, or fails at once with errLocked. The
// system drops it when the file is closed or the process dies, so a crashed
// run leaves no stale lock behind.
func lock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
