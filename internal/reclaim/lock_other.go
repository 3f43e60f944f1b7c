//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package reclaim

import (
	"errors"
	"os"
)

// lock fails where there is no flock: without a lock two runs on one
// journal could act twice, so a run is refused rather than left unguarded.
func lock(*os.File) error {
	return errors.New("this system has no flock, which reclaim needs to keep two runs off one journal")
}
