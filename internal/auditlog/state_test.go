package auditlog

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
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
	r := NewReader(ReaderOptions{StoragePath: dir, Organisations: func() []string { return nil }, Now: func() time.Time { return now }})
	if got, want := r.Ledger("1200000000000001").Status().HistoryStart, now.Add(-Retention); !got.Equal(want) {
		t.Errorf("history starts %v after a gap, want %v", got, want)
	}
	if seat, ok := r.Ledger("1200000000000001").Seat("1200000000000011"); !ok || seat.LastLogin.IsZero() {
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

// TestStateErrorsCarryNoUserGID: why a state file is refused is logged, so
// it names the field at fault and never the user gids around it.
func TestStateErrorsCarryNoUserGID(t *testing.T) {
	head := `{"version":1,"workspaces":{"1200000000000001":{"history_start":"2026-09-03T07:00:00Z","streams":[],"events":{},"role_changes":{},"users":`
	for name, users := range map[string]string{
		"wrong type":   `[[1200000000000010,"x",0,0],[1200000000000011,1,0,0]]}}}`,
		"syntax":       `[[1200000000000010,1,0,0]x[1200000000000011,1,0,0]]}}}`,
		"out of range": `[[1200000000000010,9223372036854775807,0,0],[1200000000000011,1,0,0]]}}}`,
	} {
		_, err := readState(strings.NewReader(head + users))
		if err == nil {
			t.Fatalf("%s: a bad state file was read", name)
		}
		if strings.Contains(err.Error(), "1200000000000010") || strings.Contains(err.Error(), "1200000000000011") {
			t.Errorf("%s: %v carries a user gid", name, err)
		}
	}
}
