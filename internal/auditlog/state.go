package auditlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
	"github.com/asana-exporter/asana_exporter/internal/privatefile"
)

// StateFile is the file under --storage.path that keeps the Ledgers.
const StateFile = "audit-log-state.json"

// stateVersion changes whenever the file's meaning does; a file of another
// version is rebuilt from the audit log, never guessed at.
const stateVersion = 1

type fileState struct {
	Version    int                     `json:"version"`
	Workspaces map[string]*ledgerState `json:"workspaces"`
}

type ledgerState struct {
	HistoryStart time.Time         `json:"history_start"`
	LastEvent    time.Time         `json:"last_event,omitzero"`
	Streams      []*stream         `json:"streams"`
	Events       map[string]uint64 `json:"events"`
	RoleChanges  map[string]uint64 `json:"role_changes"`
	// Users are [gid, last login, paused, unpaused], times in Unix
	// milliseconds, 0 for none.
	Users [][4]uint64 `json:"users"`
}

// writeState writes every Ledger to w. Users are written straight from the
// map, a few at a time, so a million of them need no copy in memory.
func writeState(w io.Writer, ledgers map[string]*Ledger) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `{"version":%d,"workspaces":{`, stateVersion)
	gids := make([]string, 0, len(ledgers))
	for gid := range ledgers {
		gids = append(gids, gid)
	}
	slices.Sort(gids)
	for i, gid := range gids {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := ledgers[gid].write(bw, gid); err != nil {
			return err
		}
	}
	bw.WriteString("}}\n")
	return bw.Flush()
}

func (l *Ledger) write(bw *bufio.Writer, gid string) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	head := ledgerState{HistoryStart: l.historyStart, LastEvent: l.lastEvent, Events: l.events, RoleChanges: l.roleChanges}
	for _, t := range asana.SeatEventTypes {
		head.Streams = append(head.Streams, l.streams[t])
	}
	raw, err := json.Marshal(head)
	if err != nil {
		return err
	}
	key, _ := json.Marshal(gid)
	bw.Write(key)
	bw.WriteByte(':')
	bw.Write(raw[:len(raw)-len(`null}`)]) // reopen "users":null to fill it in
	bw.WriteByte('[')
	var num []byte
	first := true
	for gid, u := range l.users {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		num = append(num[:0], '[')
		num = strconv.AppendUint(num, gid, 10)
		for _, v := range [3]int64{u.lastLogin, u.paused, u.unpaused} {
			num = append(num, ',')
			num = strconv.AppendInt(num, v, 10)
		}
		bw.Write(append(num, ']'))
	}
	_, err = bw.WriteString("]}")
	return err
}

// readState decodes a state file, refusing anything it would have to guess
// at: another version, an unknown stream, a time or count out of range.
func readState(r io.Reader) (map[string]*Ledger, error) {
	var fs fileState
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fs); err != nil {
		return nil, decodeError(err)
	}
	if fs.Version != stateVersion {
		return nil, fmt.Errorf("state file version %d, this exporter reads version %d", fs.Version, stateVersion)
	}
	ledgers := make(map[string]*Ledger, len(fs.Workspaces))
	for gid, ls := range fs.Workspaces {
		if ls == nil || ls.HistoryStart.IsZero() {
			return nil, fmt.Errorf("%s: no history_start", fieldPath("workspaces."+gid))
		}
		l := newLedger(ls.HistoryStart)
		l.lastEvent = ls.LastEvent
		for _, st := range ls.Streams {
			if st == nil || l.streams[st.EventType] == nil {
				return nil, fmt.Errorf("%s.streams: an unknown stream", fieldPath("workspaces."+gid))
			}
			l.streams[st.EventType] = st
		}
		maps.Copy(l.events, ls.Events)
		maps.Copy(l.roleChanges, ls.RoleChanges)
		for i, u := range ls.Users {
			if u[1] > 1<<62 || u[2] > 1<<62 || u[3] > 1<<62 {
				return nil, fmt.Errorf("%s.users.%d: a time out of range", fieldPath("workspaces."+gid), i)
			}
			l.users[u[0]] = user{lastLogin: int64(u[1]), paused: int64(u[2]), unpaused: int64(u[3])}
		}
		ledgers[gid] = l
	}
	return ledgers, nil
}

// decodeError says where a state file fails to decode and what kind of
// value it found there, never the bytes: the file may not be a state file
// at all (a symlink to a roster, say) and hold names and emails.
func decodeError(err error) error {
	var tooLarge *inputfile.TooLargeError
	var pathErr *fs.PathError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &pathErr):
		return err
	case errors.As(err, &typeErr):
		return fmt.Errorf("not a state file: %s holds %s, not %s", fieldPath(typeErr.Field), jsonKind(typeErr.Value), goKind(typeErr.Type))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not a state file: it ends in the middle (cut short?)")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errors.New("not a state file: it has a field the state has not")
	}
	return errors.New("not a state file: not JSON, or not of the state's form")
}

// fieldPath is a decoder's path to a field (workspaces.GID.users.7.1).
// Steps that are neither an index, a gid nor a field of the state are a
// map key of whatever file this is (a dotted one is several steps), and
// are written "?".
func fieldPath(p string) string {
	if p == "" {
		return "the file"
	}
	var steps []string
	for s := range strings.SplitSeq(p, ".") {
		if !stateFields[s] && strings.Trim(s, "0123456789") != "" {
			s = "?"
		}
		if s != "?" || len(steps) == 0 || steps[len(steps)-1] != "?" {
			steps = append(steps, s)
		}
	}
	return strings.Join(steps, ".")
}

// stateFields are the names of the state file's fields.
var stateFields = func() map[string]bool {
	names := map[string]bool{}
	for _, t := range []reflect.Type{reflect.TypeFor[fileState](), reflect.TypeFor[ledgerState](), reflect.TypeFor[stream]()} {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names[name] = true
		}
	}
	return names
}()

// jsonKind names the kind of JSON value that v, as segmentio's decoder
// quotes it (the first bytes of the value, or "number N overflows"),
// begins with.
func jsonKind(v string) string {
	if u, err := strconv.Unquote(v); err == nil {
		v = u
	}
	switch c := strings.TrimLeft(v, " \t\r\n"); {
	case strings.HasPrefix(c, `"`):
		return "a string"
	case strings.HasPrefix(c, "{"):
		return "an object"
	case strings.HasPrefix(c, "["):
		return "an array"
	case strings.HasPrefix(c, "true"), strings.HasPrefix(c, "false"):
		return "a boolean"
	case strings.HasPrefix(c, "null"):
		return "null"
	case strings.HasPrefix(c, "number ") && strings.HasSuffix(c, " overflows"):
		return "a number out of range"
	}
	return "a number"
}

// goKind names the JSON a field of type t takes.
func goKind(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "a time (RFC 3339)"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
		return "an array"
	case t.Kind() == reflect.Map, t.Kind() == reflect.Struct, t.Kind() == reflect.Pointer:
		return "an object"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	}
	return "a number"
}

func statePath(dir string) string { return filepath.Join(dir, StateFile) }

// maxStateBytes bounds the state file: a million users' state is 35 MiB
// (BENCHMARKS.md), so this holds about seven million. A larger file is not
// one this exporter wrote, and decoding it would take memory in proportion.
const maxStateBytes = 256 << 20

// load reads the state file under dir. A missing file is no error: the
// first start has none. Anything but a regular file is refused without
// waiting on it.
func load(dir string) (map[string]*Ledger, error) {
	path := statePath(dir)
	f, err := inputfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*Ledger{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readState(bufio.NewReaderSize(inputfile.LimitReader(f, path, maxStateBytes), 64<<10))
}

// save writes the state file under dir whole or not at all: a temporary
// file, synced, renamed over the old one.
func save(dir string, ledgers map[string]*Ledger) error {
	return privatefile.Replace(statePath(dir), func(w io.Writer) error {
		return writeState(w, ledgers)
	})
}
