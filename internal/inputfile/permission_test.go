package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeInfo is a file's stat as a fake system reports it.
type fakeInfo struct {
	mode     fs.FileMode
	uid, gid uint32
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return &syscall.Stat_t{Uid: f.uid, Gid: f.gid} }

// fakeSystem is the exporter running as uid 65532 (nonroot) in a system
// where /etc/asana_exporter is root's and only the directories blocked
// keep it out. The tests may run as root, whom no mode keeps out.
func fakeSystem(files map[string]fakeInfo, blocked ...string) system {
	return system{
		uid: 65532, gid: 65532,
		userName: func(uid uint32) string { return map[uint32]string{0: "root", 65532: "nonroot"}[uid] },
		enter: func(dir string) bool {
			for _, b := range blocked {
				if dir == b {
					return false
				}
			}
			return true
		},
		stat: func(path string) (fs.FileInfo, error) {
			if f, ok := files[path]; ok {
				return f, nil
			}
			return nil, &fs.PathError{Op: "stat", Path: path, Err: syscall.EACCES}
		},
	}
}

// TestPermissionErrorSaysWhoAndHow: the message names the path, the user
// the process runs as (its name when the system knows it), the owner and
// mode in the way, and a command that lets that user in.
func TestPermissionErrorSaysWhoAndHow(t *testing.T) {
	const token, dir = "/etc/asana_exporter/token", "/etc/asana_exporter"
	eacces := &fs.PathError{Op: "open", Path: token, Err: syscall.EACCES}
	for _, c := range []struct {
		name    string
		sys     system
		path    string
		write   bool
		blocker string
		want    string
	}{{
		name: "a root-owned 0600 token",
		sys:  fakeSystem(map[string]fakeInfo{token: {mode: 0o600}}),
		path: token,
		want: "/etc/asana_exporter/token is not readable by uid 65532 (nonroot), the user the exporter runs as " +
			"(owned by uid 0 (root), gid 0, mode 0600); make it readable by that user: chown 65532 /etc/asana_exporter/token, " +
			"or chgrp 65532 /etc/asana_exporter/token && chmod g+r /etc/asana_exporter/token",
	}, {
		name:    "a directory it may not enter (systemd's layout before issue 28)",
		sys:     fakeSystem(map[string]fakeInfo{dir: {mode: fs.ModeDir | 0o750}}, dir),
		path:    "/etc/asana_exporter/asana.yml",
		blocker: dir,
		want: "/etc/asana_exporter/asana.yml is out of reach of uid 65532 (nonroot), the user the exporter runs as: " +
			"it may not enter the directory /etc/asana_exporter (owned by uid 0 (root), gid 0, mode 0750); let it in: " +
			"chmod o+x /etc/asana_exporter (x lets it reach the files inside, not list them), " +
			"or chgrp 65532 /etc/asana_exporter && chmod g+x /etc/asana_exporter",
	}, {
		name: "its own file, mode 0000",
		sys:  fakeSystem(map[string]fakeInfo{token: {uid: 65532, gid: 65532}}),
		path: token,
		want: "/etc/asana_exporter/token is not readable by uid 65532 (nonroot), the user the exporter runs as " +
			"(owned by uid 65532 (nonroot), gid 65532, mode 0000); make it readable by that user: chmod u+r /etc/asana_exporter/token",
	}, {
		name:  "a state directory it may not write in",
		sys:   fakeSystem(map[string]fakeInfo{"/var/lib/asana_exporter": {mode: fs.ModeDir | 0o755}}),
		path:  "/var/lib/asana_exporter",
		write: true,
		want: "/var/lib/asana_exporter is not writable by uid 65532 (nonroot), the user the exporter runs as " +
			"(owned by uid 0 (root), gid 0, mode 0755); make it writable by that user: chown 65532 /var/lib/asana_exporter, " +
			"or chgrp 65532 /var/lib/asana_exporter && chmod g+wx /var/lib/asana_exporter",
	}, {
		name: "a user without a name, a file it may not stat",
		sys: func() system {
			s := fakeSystem(nil)
			s.uid, s.gid = 61234, 61234
			return s
		}(),
		path: token,
		want: "/etc/asana_exporter/token is not readable by uid 61234, the user the exporter runs as; make it readable by that user: " +
			"chown 61234 /etc/asana_exporter/token, or chgrp 61234 /etc/asana_exporter/token && chmod g+r /etc/asana_exporter/token",
	}} {
		err := error(c.sys.denied(c.path, c.write, eacces))
		var denied *PermissionError
		if !errors.As(err, &denied) || !errors.Is(err, fs.ErrPermission) || denied.Blocker != c.blocker {
			t.Errorf("%s: %#v does not match fs.ErrPermission with blocker %q", c.name, err, c.blocker)
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, err, c.want)
		}
	}
}

// TestBlockerIsTheFirstDirectoryOnTheWay: of the directories the user may
// not enter, the message names the one nearest the root (the others it
// cannot even reach), and a relative path is resolved to find it.
func TestBlockerIsTheFirstDirectoryOnTheWay(t *testing.T) {
	s := fakeSystem(nil, "/srv/a", "/srv/a/b")
	if got := s.blocker("/srv/a/b/token"); got != "/srv/a" {
		t.Errorf("blocker = %q, want /srv/a", got)
	}
	if got := s.blocker("/srv/token"); got != "" {
		t.Errorf("blocker of a file in an open directory = %q", got)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	s = fakeSystem(nil, wd)
	if got := s.blocker("token"); got != wd {
		t.Errorf("blocker of a relative path = %q, want the working directory %s", got, wd)
	}
}

// TestWritableDir: a directory the process may write in passes and keeps
// no trace of the check; what is missing or not a directory is named.
func TestWritableDir(t *testing.T) {
	dir := t.TempDir()
	if err := WritableDir(dir); err != nil {
		t.Errorf("a writable directory: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the check left %v behind", left)
	}
	missing := filepath.Join(dir, "state")
	if err := WritableDir(missing); err == nil || !strings.HasPrefix(err.Error(), missing+" does not exist: create it") {
		t.Errorf("a missing directory: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WritableDir(file); err == nil || !strings.HasPrefix(err.Error(), file+" is not a directory") {
		t.Errorf("a file: %v", err)
	}
}
