package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// sampleLedgers is a state with every kind of content.
func sampleLedgers() map[string]*Ledger {
	l := newLedger(time.Date(2026, 9, 3, 7, 0, 0, 0, time.UTC))
	login := "2026-11-30T10:00:00.000Z"
	events := []asana.AuditEvent{{GID: "9", EventType: asana.EventLoginSucceeded}, {GID: "10", EventType: asana.EventLoginSucceeded}}
	for i := range events {
		events[i].Resource.GID, events[i].Resource.ResourceType = "120000000000001"+string(rune('0'+i)), "user"
		_ = events[i].CreatedAt.UnmarshalJSON([]byte(`"` + login + `"`))
	}
	st := l.streams[asana.EventLoginSucceeded]
	l.apply(st, events)
	st.Offset, st.CaughtUpAt = "eyJ0eXAiOiJKV1QifQ.e30.c2ln", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l.users[7] = user{lastLogin: 1, paused: 5, unpaused: 2}
	l.events[asana.EventAdminRoleChanged], l.roleChanges["super_admin"] = 1, 1
	return map[string]*Ledger{"1200000000000001": l, "1200000000000002": newLedger(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))}
}

func encodeState(t testing.TB, ledgers map[string]*Ledger) []byte {
	var b bytes.Buffer
	if err := writeState(&b, ledgers); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStateRoundTrip: what writeState writes, readState reads back the same.
func TestStateRoundTrip(t *testing.T) {
	want := sampleLedgers()
	got, err := readState(bytes.NewReader(encodeState(t, want)))
	if err != nil {
		t.Fatal(err)
	}
	for _, ledgers := range []map[string]*Ledger{got, want} { // the boundary index is built at use, not read
		for _, l := range ledgers {
			for _, st := range l.streams {
				st.index()
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, want %+v", got["1200000000000001"], want["1200000000000001"])
	}
}

// TestBillingPaused: the last billing event decides, and a login after a
// pause restores billing, as Asana does.
func TestBillingPaused(t *testing.T) {
	for _, c := range []struct {
		u    user
		want bool
	}{
		{user{}, false},
		{user{paused: 5}, true},
		{user{paused: 5, unpaused: 6}, false},
		{user{paused: 7, unpaused: 6}, true},
		{user{paused: 5, lastLogin: 6}, false},
		{user{paused: 6, lastLogin: 5}, true},
	} {
		if got := c.u.billingPaused(); got != c.want {
			t.Errorf("%+v: paused %v, want %v", c.u, got, c.want)
		}
	}
}

// TestAGapInTheLogMovesTheHistoryStart: a state file whose login stream was
// last read longer ago than Asana keeps events cannot vouch for the time in
// between, so the history starts again at what Asana still keeps.
func TestAGapInTheLogMovesTheHistoryStart(t *testing.T) {
	dir := t.TempDir()
	ledgers := sampleLedgers()
	now := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC) // six months after the state was written
	if err := save(dir, ledgers); err != nil {
		t.Fatal(err)
	}
	r := NewReader(ReaderOptions{StoragePath: dir, Now: func() time.Time { return now }})
	if got, want := r.Ledger("1200000000000001").Status().HistoryStart, now.Add(-Retention); !got.Equal(want) {
		t.Errorf("history starts %v after a gap, want %v", got, want)
	}
	if seat, ok := r.Ledger("1200000000000001").Seat("1200000000000011", asana.Licensed, time.Time{}); !ok || seat.LastLogin.IsZero() {
		t.Errorf("the last login from before the gap is lost: %+v", seat)
	}
}

// FuzzReadState: whatever the state file holds, readState refuses it or
// reads a state that writes and reads back the same.
func FuzzReadState(f *testing.F) {
	good := encodeState(f, sampleLedgers())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"version":1,"workspaces":{}}`))
	f.Add([]byte(`{"version":1,"workspaces":{"1":null}}`))
	f.Add([]byte(`{"version":1,"workspaces":{"1":{"history_start":"2026-01-01T00:00:00Z","streams":[null]}}}`))
	f.Add([]byte(`{"version":1,"workspaces":{"1":{"history_start":"2026-01-01T00:00:00Z","users":[[1,-1,0,0]]}}}`))
	f.Add([]byte(strings.Replace(string(good), `"version":1`, `"version":0`, 1)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ledgers, err := readState(bytes.NewReader(raw))
		if err != nil {
			return
		}
		again, err := readState(bytes.NewReader(encodeState(t, ledgers)))
		if err != nil {
			t.Fatalf("a state it read does not read back: %v", err)
		}
		if !reflect.DeepEqual(again, ledgers) {
			t.Fatalf("read back differently")
		}
	})
}

// TestBackfillLogsEveryThirtySeconds: a backfill logs its events, how much
// of the history it has read and the time left at that pace, every 30 s.
func TestBackfillLogsEveryThirtySeconds(t *testing.T) {
	var logs bytes.Buffer
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	at := start
	b := &backfillLog{log: slog.New(slog.NewTextHandler(&logs, nil)), gid: "1", now: func() time.Time { return at }, start: start}
	for page := 1; page <= 40; page++ { // one page every 2 s, the history read evenly over 100 s
		at = at.Add(2 * time.Second)
		b.Covered(float64(page) / 50)
		b.Page(100)
	}
	if n := strings.Count(logs.String(), "Reading the audit log's history"); n != 2 {
		t.Errorf("%d lines in 80 s, want 2 (at 30 and 60 s):\n%s", n, logs.String())
	}
	if want := "workspace_gid=1 events=1500 history_read=30% time_left=1m10s"; !strings.Contains(logs.String(), want) {
		t.Errorf("the log lacks %q:\n%s", want, logs.String())
	}
}

// TestStateDecodeErrorsQuoteNoValue: a state file that does not decode is
// described by the path to the field and the kind of value found there,
// never by the value: no user gid, name or email reaches the log.
func TestStateDecodeErrorsQuoteNoValue(t *testing.T) {
	const ws = `{"version":1,"workspaces":{"1200000000000001":{"history_start":"2026-01-01T00:00:00Z",`
	for in, want := range map[string]string{
		ws + `"users":[[1200000000000042,"alice@example.com",0,0]]}}}`:                      "workspaces.1200000000000001.users.0.1 holds a string, not a number",
		ws + `"users":[[1200000000000042,99999999999999999999999,0,0]]}}}`:                  "workspaces.1200000000000001.users.0.1 holds a number out of range, not a number",
		ws + `"users":[[1200000000000042,1,0,4611686018427387905]]}}}`:                      "workspaces.1200000000000001.users.0: a time out of range",
		ws + `"events":{"alice@example.com":"Alice Example"}}}}`:                            "workspaces.1200000000000001.events.? holds a string, not a number",
		`{"version":1,"workspaces":{"alice@example.com":{"history_start":5}}}`:              "workspaces.?.history_start holds a number, not a time",
		`{"version":"Alice Example 1200000000000042"}`:                                      "version holds a string, not a number",
		`{"alice@example.com":"Alice Example"}`:                                             "a field the state has not",
		`[{"user_email":"alice@example.com","user_gid":"1200000000000042"}]`:                "the file holds an array, not an object",
		"user_gid,user_name,user_email\n1200000000000042,Alice Example,alice@example.com\n": "not JSON",
		ws + `"users":[[1200000000000042,`:                                                  "ends in the middle",
	} {
		_, err := readState(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("readState(%.60q...) = %v, want %q", in, err, want)
		}
		if err != nil && strings.ContainsAny(err.Error(), "@") || strings.Contains(fmt.Sprint(err), "Alice") || strings.Contains(fmt.Sprint(err), "1200000000000042") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}

// TestLoadRefusesWhatIsNotAStateFile: the state file is read only if it is
// a regular file of at most maxStateBytes; a FIFO in its place is refused at
// once (and Replace will not write to it), and a symlink to a roster is
// refused without a word of it in the log.
func TestLoadRefusesWhatIsNotAStateFile(t *testing.T) {
	good := encodeState(t, sampleLedgers())
	_, err := readState(inputfile.LimitReader(bytes.NewReader(good), "state", int64(len(good)-10)))
	var tooLarge *inputfile.TooLargeError
	if !errors.As(err, &tooLarge) {
		t.Errorf("a state over the limit: %v", err)
	}
	if _, err := readState(inputfile.LimitReader(bytes.NewReader(good), "state", int64(len(good)))); err != nil {
		t.Errorf("a state at the limit: %v", err)
	}

	fifoDir := t.TempDir()
	if err := syscall.Mkfifo(statePath(fifoDir), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(fifoDir); err == nil || !strings.Contains(err.Error(), "a named pipe (FIFO), not a regular file") {
		t.Errorf("load(a FIFO) = %v", err)
	}
	if err := save(fifoDir, sampleLedgers()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("save(over a FIFO) = %v", err)
	}

	dir := t.TempDir()
	roster := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(roster, []byte("user_gid,user_name,user_email\n1200000000000042,Alice Example,alice@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(roster, statePath(dir)); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r := NewReader(ReaderOptions{StoragePath: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if r.Ledger("1200000000000001") != nil || !strings.Contains(logs.String(), "Cannot use the audit log state file") ||
		strings.Contains(logs.String(), "alice") || strings.Contains(logs.String(), "Alice") {
		t.Errorf("a symlink to a roster as the state file logged:\n%s", logs.String())
	}
}
