package inputfile

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
)

// PermissionError is a path the exporter's user may not read, or write
// in: it names the path, the user the process runs as, what stands in the
// way and the command that fixes it. It matches fs.ErrPermission.
type PermissionError struct {
	Path  string
	Write bool // the exporter writes the file, or files in the directory
	User  Account
	Group uint32 // the process's group, which the fix may give access to
	// Blocker is the directory the user may not enter on the way to Path,
	// or "" when Path itself is what it may not read or write.
	Blocker string
	// Owner is the owner and mode of Blocker, else of Path; nil if unknown.
	Owner *Owner
	Err   error
}

// Account is a user or a group: its id and, when known, its name.
type Account struct {
	ID   uint32
	Name string
}

func (a Account) String() string {
	if a.Name == "" || a.Name == strconv.FormatUint(uint64(a.ID), 10) {
		return strconv.FormatUint(uint64(a.ID), 10)
	}
	return fmt.Sprintf("%d (%s)", a.ID, a.Name)
}

// Owner is who owns a file and its mode.
type Owner struct {
	User  Account
	Group uint32
	Mode  fs.FileMode
}

func (e *PermissionError) Unwrap() error { return e.Err }

func (e *PermissionError) Error() string {
	who := "uid " + e.User.String() + ", the user the exporter runs as"
	if e.Blocker != "" {
		return fmt.Sprintf("%s is out of reach of %s: it may not enter the directory %s%s; let it in: "+
			"chmod o+x %s (x lets it reach the files inside, not list them), or chgrp %d %s && chmod g+x %s",
			e.Path, who, e.Blocker, e.Owner.describe(), e.Blocker, e.Group, e.Blocker, e.Blocker)
	}
	verb, bits := "readable", "r"
	if e.Write {
		verb, bits = "writable", "w"
		if e.Owner != nil && e.Owner.Mode.IsDir() {
			bits = "wx" // creating a file in a directory needs both
		}
	}
	fix := fmt.Sprintf("chown %d %s, or chgrp %d %s && chmod g+%s %s", e.User.ID, e.Path, e.Group, e.Path, bits, e.Path)
	if e.Owner != nil && e.Owner.User.ID == e.User.ID {
		fix = fmt.Sprintf("chmod u+%s %s", bits, e.Path) // its own file: the mode is at fault
	}
	return fmt.Sprintf("%s is not %s by %s%s; make it %s by that user: %s", e.Path, verb, who, e.Owner.describe(), verb, fix)
}

func (o *Owner) describe() string {
	if o == nil {
		return ""
	}
	return fmt.Sprintf(" (owned by uid %s, gid %d, mode %04o)", o.User, o.Group, o.Mode.Perm())
}

// system is where a PermissionError's facts come from. Tests fake it: no
// mode keeps root out, and the tests may run as root.
type system struct {
	uid, gid uint32
	userName func(uid uint32) string
	// enter reports whether the process may search dir.
	enter func(dir string) bool
	stat  func(path string) (fs.FileInfo, error)
}

func host() system {
	return system{uint32(os.Geteuid()), uint32(os.Getegid()), userName, canEnter, os.Stat}
}

// userName is uid's name, or "" if the system does not know it (a
// container's uid that /etc/passwd does not list).
func userName(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return ""
	}
	return u.Username
}

// Denied is the PermissionError for err, which said that the exporter may
// not read path (write false) or write it, or in it (write true).
func Denied(path string, write bool, err error) *PermissionError {
	return host().denied(path, write, err)
}

func (s system) denied(path string, write bool, err error) *PermissionError {
	e := &PermissionError{Path: path, Write: write, User: Account{s.uid, s.userName(s.uid)}, Group: s.gid, Err: err}
	e.Blocker = s.blocker(path)
	if st, err := s.stat(cmp.Or(e.Blocker, path)); err == nil {
		if uid, gid, ok := ownerIDs(st); ok {
			e.Owner = &Owner{User: Account{uid, s.userName(uid)}, Group: gid, Mode: st.Mode()}
		}
	}
	return e
}

// blocker is the first directory on the way to path that the process may
// not enter, or "".
func (s system) blocker(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	var dirs []string
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range slices.Backward(dirs) {
		if !s.enter(d) {
			return d
		}
	}
	return ""
}

// WritableDir checks that dir is a directory in which the exporter's user
// may create files, by creating one and removing it: a mode, an ACL, a
// read-only mount and systemd's ProtectSystem= all answer the same way.
func WritableDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist: create it, a directory the exporter's user may write in", dir)
	case errors.Is(err, fs.ErrPermission):
		return Denied(dir, true, err)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory: give a directory the exporter's user may write in", dir)
	}
	f, err := os.CreateTemp(dir, ".asana_exporter-probe-*")
	if errors.Is(err, fs.ErrPermission) {
		return Denied(dir, true, err)
	} else if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
