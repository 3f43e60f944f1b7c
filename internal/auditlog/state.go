package auditlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/asana-exporter/asana_exporter/asana"
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
		return nil, fmt.Errorf("not a state file: %w", err)
	}
	if fs.Version != stateVersion {
		return nil, fmt.Errorf("state file version %d, this exporter reads version %d", fs.Version, stateVersion)
	}
	ledgers := make(map[string]*Ledger, len(fs.Workspaces))
	for gid, ls := range fs.Workspaces {
		if ls == nil || ls.HistoryStart.IsZero() {
			return nil, fmt.Errorf("workspace %q: no history_start", gid)
		}
		l := newLedger(ls.HistoryStart)
		l.lastEvent = ls.LastEvent
		for _, st := range ls.Streams {
			if st == nil || l.streams[st.EventType] == nil {
				return nil, fmt.Errorf("workspace %q: unknown stream", gid)
			}
			l.streams[st.EventType] = st
		}
		maps.Copy(l.events, ls.Events)
		maps.Copy(l.roleChanges, ls.RoleChanges)
		for _, u := range ls.Users {
			if u[1] > 1<<62 || u[2] > 1<<62 || u[3] > 1<<62 {
				return nil, fmt.Errorf("workspace %q: user %d: a time out of range", gid, u[0])
			}
			l.users[u[0]] = user{lastLogin: int64(u[1]), paused: int64(u[2]), unpaused: int64(u[3])}
		}
		ledgers[gid] = l
	}
	return ledgers, nil
}

func statePath(dir string) string { return filepath.Join(dir, StateFile) }

// load reads the state file under dir. A missing file is no error: the
// first start has none.
func load(dir string) (map[string]*Ledger, error) {
	f, err := os.Open(statePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Ledger{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readState(bufio.NewReaderSize(f, 64<<10))
}

// save writes the state file under dir whole or not at all: a temporary
// file, synced, renamed over the old one.
func save(dir string, ledgers map[string]*Ledger) error {
	return privatefile.Replace(statePath(dir), func(w io.Writer) error {
		return writeState(w, ledgers)
	})
}
