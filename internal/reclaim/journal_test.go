package reclaim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

func sampleEntries() []Entry {
	rows := sampleRows()
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	return []Entry{
		{Time: at, Run: "3f2a9c", ActorGID: "1400000000000099", Action: ActionRemove, Result: ResultDone,
			WorkspaceGID: rows[0].WorkspaceGID, MembershipGID: rows[0].MembershipGID, UserGID: rows[0].UserGID,
			UserEmail: rows[0].UserEmail, UserName: rows[0].UserName, Answer: "200 {}", PlanRow: &rows[0]},
		{Time: at.Add(time.Second), Run: "3f2a9c", ActorGID: "1400000000000099", Action: ActionRemove, Result: ResultSkipped,
			WorkspaceGID: rows[1].WorkspaceGID, MembershipGID: rows[1].MembershipGID, UserGID: rows[1].UserGID,
			UserEmail: rows[1].UserEmail, UserName: rows[1].UserName, Reason: "active since the plan", PlanRow: &rows[1]},
		{Time: at.Add(time.Hour), Run: "77b0e1", ActorGID: "1400000000000099", Action: ActionAdd, Result: ResultDone,
			WorkspaceGID: rows[0].WorkspaceGID, UserGID: rows[0].UserGID, UserEmail: rows[0].UserEmail,
			Answer: "201 invited"},
	}
}

func openTemp(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

// TestJournalAppendsAndReadsBack: a new journal is created 0600, each
// entry appended is read back (by ReadJournal while the run holds it, and by
// the next run) as it was, one JSON line in the spec's key order.
func TestJournalAppendsAndReadsBack(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	j, path := openTemp(t)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("a new journal's mode is %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if len(j.Entries()) != 0 || j.TornLine() != 0 || j.Full() {
		t.Errorf("a new journal: %d entries, torn line %d, full %v", len(j.Entries()), j.TornLine(), j.Full())
	}
	want := sampleEntries()
	for i, e := range want {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
		got, err := ReadJournal(path) // at once, without the lock
		if err != nil || !reflect.DeepEqual(got, want[:i+1]) {
			t.Fatalf("after %d appends ReadJournal gives %+v, %v", i+1, got, err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !reflect.DeepEqual(again.Entries(), want) {
		t.Errorf("the next run reads %+v", again.Entries())
	}
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), raw)
	}
	for _, prefix := range []string{`{"time":"2026-12-06T09:00:00Z","run":"3f2a9c","actor_gid":"1400000000000099","action":"remove","result":"done",` +
		`"workspace_gid":"1200000000000001","membership_gid":"1300000000000001","user_gid":"1400000000000001","user_email":"ada@acme.example",` +
		`"user_name":"=HYPERLINK(\"http://evil\")","answer":"200 {}","reason":"","plan_row":{"planned_at":"2026-12-05T14:00:00Z","workspace_gid":`,
	} {
		if !strings.HasPrefix(lines[0], prefix) {
			t.Errorf("line 1 is\n%s\nwant it to start\n%s", lines[0], prefix)
		}
	}
	if !strings.HasSuffix(lines[0], `"action":"remove","monthly_price":"10.99"}}`) || !strings.HasSuffix(lines[2], `"plan_row":null}`) {
		t.Errorf("the plan rows end wrong:\n%s", raw)
	}
}

// TestOpenJournalMakesItPrivate: a journal made beforehand with a mode
// others can read is made 0600 before a line is written to it.
func TestOpenJournalMakesItPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

// TestJournalLock: while one run holds the journal a second is refused,
// naming the file; after Close it opens. The lock is the file's own, so
// ReadJournal (the metrics) reads all the while.
func TestJournalLock(t *testing.T) {
	j, path := openTemp(t)
	second, err := OpenJournal(path)
	if err == nil {
		second.Close()
		t.Fatal("a second run opened a held journal")
	}
	if want := "another reclaim run holds the journal " + path + " (apply or undo)"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	if _, err := ReadJournal(path); err != nil {
		t.Errorf("ReadJournal of a held journal: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	third, err := OpenJournal(path)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	third.Close()
}

// TestAppendSyncsBeforeItReturns: each Append writes its line, then syncs
// once, then returns; a failed sync stops the journal.
func TestAppendSyncsBeforeItReturns(t *testing.T) {
	j, path := openTemp(t)
	var synced []int // lines on disk at each sync
	j.sync = func() error {
		got, err := ReadJournal(path)
		if err != nil {
			return err
		}
		synced = append(synced, len(got))
		return j.f.Sync()
	}
	for i, e := range sampleEntries() {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
		if len(synced) != i+1 || synced[i] != i+1 {
			t.Fatalf("after Append %d the syncs saw %v lines", i+1, synced)
		}
	}
	j.sync = func() error { return syscall.EIO }
	err := j.Append(sampleEntries()[0])
	if err == nil || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "could not be written, so nothing more is done") {
		t.Fatalf("a failed sync: %v", err)
	}
	j.sync = j.f.Sync
	if again := j.Append(sampleEntries()[1]); again != err {
		t.Errorf("after a failed sync Append gave %v, want the first failure again", again)
	}
}

// TestTornLastLine: a crash in the middle of a line leaves a torn last
// line; readers ignore it, the next run drops it from the file and says
// which it was, and its own lines follow whole lines.
func TestTornLastLine(t *testing.T) {
	want := sampleEntries()
	var whole bytes.Buffer
	for _, e := range want[:2] {
		line, err := encodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		whole.Write(line)
	}
	third, _ := encodeEntry(want[2])
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	for cut := 1; cut < len(third)-1; cut += 37 {
		os.WriteFile(path, append(bytes.Clone(whole.Bytes()), third[:cut]...), 0o600)
		if got, err := ReadJournal(path); err != nil || !reflect.DeepEqual(got, want[:2]) {
			t.Fatalf("cut at %d: ReadJournal gives %d entries, %v", cut, len(got), err)
		}
		j, err := OpenJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		if j.TornLine() != 3 || len(j.Entries()) != 2 {
			t.Errorf("cut at %d: torn line %d, %d entries", cut, j.TornLine(), len(j.Entries()))
		}
		err = j.Append(want[2])
		j.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ReadJournal(path); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("cut at %d: after a new line, %d entries, %v", cut, len(got), err)
		}
	}
	// Cut just before its newline, the line is whole: kept, and ended.
	os.WriteFile(path, append(bytes.Clone(whole.Bytes()), third[:len(third)-1]...), 0o600)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.TornLine() != 0 || !reflect.DeepEqual(j.Entries(), want) {
		t.Errorf("an entry without its newline: torn line %d, %d entries", j.TornLine(), len(j.Entries()))
	}
	j.Append(want[0])
	j.Close()
	if got, err := ReadJournal(path); err != nil || len(got) != 4 {
		t.Errorf("after appending to it: %d entries, %v", len(got), err)
	}
}

// TestJournalRefusesADamagedLine: a bad line that is not the torn last
// one is an error naming the file and line and what to do, quoting nothing.
func TestJournalRefusesADamagedLine(t *testing.T) {
	good, _ := encodeEntry(sampleEntries()[0])
	edit := func(from, to string) string { return strings.Replace(string(good), from, to, 1) }
	for _, c := range []struct{ line, want string }{
		{"not json\n", "not JSON"},
		{"[1,2]\n", "not a journal entry"},
		{edit(`"action":"remove"`, `"action":"delete"`), "action is neither remove nor add"},
		{edit(`"action":"remove"`, `"action":7`), "action holds a number, which the journal never writes there"},
		{edit(`"result":"done"`, `"result":"maybe"`), "result is none of started, done, skipped, failed"},
		{edit(`"time":"2026-12-06T09:00:00Z"`, `"time":null`), "time is missing"},
		{edit(`"time":"2026-12-06T09:00:00Z"`, `"time":"Saturday"`), "not a journal entry"},
		{edit(`"run":"3f2a9c"`, `"run":"a run"`), "run is not a run id"},
		{edit(`"actor_gid":"1400000000000099"`, `"actor_gid":""`), "actor_gid is empty"},
		{edit(`"user_gid":"1400000000000001"`, `"user_gid":"14e15"`), "user_gid is not an Asana gid"},
		{edit(`"membership_gid":"1300000000000001"`, `"membership_gid":"x"`), "membership_gid is not an Asana gid"},
		{edit(`"user_email":"ada@acme.example"`, `"user_email":"ada"`), "user_email is not an email address"},
		{edit(`"answer":"200 {}"`, `"answer":"`+strings.Repeat("x", maxTextBytes+1)+`"`), "user_name, answer or reason is longer than 1024 bytes"},
		{edit(`"state":"licensed"`, `"state":"guest"`), "plan_row: state is neither licensed nor view_only"},
		{edit(`"plan_row":{`, `"plan_row":{"idle_days":5,`), "plan_row: is not an object of text cells"},
		{"  \n", ""}, // a blank line is no entry, and no error
	} {
		var raw bytes.Buffer
		raw.Write(good)
		raw.WriteString(c.line)
		raw.Write(good)
		got, err := readJournal(&raw, "journal.jsonl")
		if c.want == "" {
			if err != nil || len(got.entries) != 2 {
				t.Errorf("%q: %d entries, %v", c.line, len(got.entries), err)
			}
			continue
		}
		want := "journal.jsonl line 2: " + c.want
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "move this line out of it once you know what it recorded") {
			t.Errorf("got %v, want %q", err, want)
			continue
		}
		for _, private := range []string{"ada", "1400000000000001", "HYPERLINK"} {
			if strings.Contains(err.Error(), private) {
				t.Errorf("the error quotes %q: %v", private, err)
			}
		}
	}
}

// TestJournalLimits: a line or a file over its limit is refused; a journal
// near its limit says it is full, and Append refuses to pass the limit.
func TestJournalLimits(t *testing.T) {
	line := append(bytes.Repeat([]byte{' '}, maxJournalLineBytes), '\n')
	_, err := readJournal(bytes.NewReader(line), "journal.jsonl")
	if want := "journal.jsonl line 1: longer than 65536 bytes"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}

	path := filepath.Join(t.TempDir(), "journal.jsonl")
	os.WriteFile(path, []byte("\n"), 0o600)
	os.Truncate(path, maxJournalBytes+1) // sparse
	var tooLarge *inputfile.TooLargeError
	if _, err := ReadJournal(path); !errors.As(err, &tooLarge) || tooLarge.Limit != maxJournalBytes {
		t.Errorf("ReadJournal of a journal over the limit: %v", err)
	}
	_, err = OpenJournal(path)
	if !errors.As(err, &tooLarge) || !strings.HasSuffix(err.Error(), "keep this journal for undo, and give --journal a new file for new runs") {
		t.Errorf("OpenJournal of a journal over the limit: %v", err)
	}

	j, path := openTemp(t)
	j.size = maxJournalBytes - maxJournalLineBytes
	if j.Full() {
		t.Error("a journal with room for the longest line says it is full")
	}
	j.size = maxJournalBytes - 100
	if !j.Full() {
		t.Error("a journal 100 bytes from its limit says it is not full")
	}
	if err := j.Append(sampleEntries()[0]); err == nil || !strings.Contains(err.Error(), "is full") {
		t.Errorf("Append past the limit: %v", err)
	}
	if raw, _ := os.ReadFile(path); len(raw) != 0 {
		t.Errorf("a refused Append wrote %d bytes", len(raw))
	}
}

// TestLongestEntryFitsALine: an entry with every text at its limit, every
// byte one JSON escapes to six, fits maxJournalLineBytes with room to spare.
func TestLongestEntryFitsALine(t *testing.T) {
	control := strings.Repeat("\x01", maxTextBytes)
	email := strings.Repeat("<", maxEmailBytes-len("@a")) + "@a"
	row := sampleRows()[0]
	row.WorkspaceName, row.UserName, row.UserEmail = control, control, email
	e := sampleEntries()[0]
	e.UserName, e.Answer, e.Reason, e.UserEmail, e.PlanRow = control, control, control, email, &row
	e.Run = strings.Repeat("r", maxRunBytes)
	line, err := encodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(line) > 40<<10 {
		t.Errorf("the longest entry takes %d bytes, more than the 40 KiB maxJournalLineBytes's comment says", len(line))
	}
	got, err := readJournal(bytes.NewReader(line), "journal.jsonl")
	if err != nil || !reflect.DeepEqual(got.entries, []Entry{e}) {
		t.Errorf("the longest entry does not read back: %v", err)
	}
}

// TestAppendFitsFreeTextAndRefusesTheRest: Asana's answer or a name too
// long is cut; a field that would not read back is refused, and nothing is
// written.
func TestAppendFitsFreeTextAndRefusesTheRest(t *testing.T) {
	j, path := openTemp(t)
	e := sampleEntries()[0]
	e.Answer = "500 " + strings.Repeat("é", maxTextBytes)
	e.Time = e.Time.In(time.FixedZone("CET", 3600))
	if err := j.Append(e); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJournal(path)
	if err != nil || len(got) != 1 || len(got[0].Answer) > maxTextBytes || !strings.HasPrefix(got[0].Answer, "500 é") || !got[0].Time.Equal(e.Time) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for _, edit := range []func(*Entry){
		func(e *Entry) { e.Time = time.Time{} },
		func(e *Entry) { e.Action = ActionReview },
		func(e *Entry) { e.UserGID = "" },
		func(e *Entry) { e.PlanRow = &Row{} },
	} {
		bad := sampleEntries()[0]
		edit(&bad)
		if err := j.Append(bad); err == nil || !strings.HasPrefix(err.Error(), "cannot journal an entry: ") {
			t.Errorf("an invalid entry: %v", err)
		}
	}
	if got, _ := ReadJournal(path); len(got) != 1 {
		t.Errorf("refused entries were written: %d entries", len(got))
	}
}

// TestOpenJournalRefusesWhatIsNotAFile: a directory or a FIFO at the
// path is refused at once, and a missing directory says so.
func TestOpenJournalRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var notRegular *inputfile.NotRegularError
	for _, path := range []string{dir, fifo} {
		if j, err := OpenJournal(path); !errors.As(err, &notRegular) {
			t.Errorf("%s: %v", path, err)
			if j != nil {
				j.Close()
			}
		}
	}
	_, err := OpenJournal(filepath.Join(dir, "absent", "journal.jsonl"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "check --journal's path (its directory must exist)") {
		t.Errorf("a missing directory: %v", err)
	}
	if _, err := ReadJournal(filepath.Join(dir, "absent.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadJournal of no file: %v", err)
	}
}

// TestJournalGivenTheWrongFile: a file whose last line lacks its newline
// and does not begin as an entry (a token file, say) is no journal's: it
// is refused, naming the line, and left as it was, never cut as torn.
func TestJournalGivenTheWrongFile(t *testing.T) {
	good, _ := encodeEntry(sampleEntries()[0])
	for _, content := range []string{"0/1234567890abcdef", "x", string(good) + "password"} {
		path := filepath.Join(t.TempDir(), "token")
		os.WriteFile(path, []byte(content), 0o600)
		j, err := OpenJournal(path)
		if err == nil {
			j.Close()
		}
		line := strings.Count(content, "\n") + 1
		if want := fmt.Sprintf("%s line %d: not JSON", path, line); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %q", content, err, want)
		}
		if _, err := ReadJournal(path); err == nil {
			t.Errorf("%q: ReadJournal reads it as a journal", content)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("%q: the file now holds %q", content, got)
		}
	}
}

// TestViewJournalWritesNothing: a dry run's journal is read, never
// created, repaired or locked, and takes no entry.
func TestViewJournalWritesNothing(t *testing.T) {
	dir := t.TempDir()
	absent := filepath.Join(dir, "absent.jsonl")
	j, err := ViewJournal(absent)
	if err != nil || len(j.Entries()) != 0 {
		t.Fatalf("no journal yet: %v, %d entries", err, len(j.Entries()))
	}
	if err := j.Append(sampleEntries()[0]); err == nil {
		t.Error("a dry run's journal took an entry")
	}
	j.Close()
	if _, err := os.Stat(absent); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dry run made the journal: %v", err)
	}
	first, _ := encodeEntry(sampleEntries()[0])
	torn := append(bytes.Clone(first), first[:20]...)
	path := filepath.Join(dir, "journal.jsonl")
	os.WriteFile(path, torn, 0o600)
	if j, err = ViewJournal(path); err != nil || len(j.Entries()) != 1 {
		t.Fatalf("a torn journal: %v, %d entries", err, len(j.Entries()))
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, torn) {
		t.Error("the dry run cut the torn line")
	}
	// It holds no lock: a run may take the journal meanwhile.
	run, err := OpenJournal(path)
	if err != nil {
		t.Fatalf("a run beside a dry run: %v", err)
	}
	run.Close()
}

// TestRemovedAndAddedBack: a user counts as removed when their last done
// action is a removal, as added back when it is an add; skipped and failed
// actions change nothing.
func TestRemovedAndAddedBack(t *testing.T) {
	entry := func(ws, user string, a Action, r Result) Entry {
		return Entry{WorkspaceGID: ws, UserGID: user, Action: a, Result: r, Run: ws + user}
	}
	entries := []Entry{
		entry("1", "10", ActionRemove, ResultDone),
		entry("1", "11", ActionRemove, ResultFailed),
		entry("1", "12", ActionRemove, ResultDone),
		entry("1", "12", ActionAdd, ResultDone),
		entry("1", "13", ActionRemove, ResultDone),
		entry("1", "13", ActionAdd, ResultDone),
		entry("1", "13", ActionRemove, ResultDone),
		entry("1", "10", ActionAdd, ResultFailed),
		entry("2", "10", ActionRemove, ResultSkipped),
		entry("2", "12", ActionRemove, ResultDone),
	}
	removed := Removed(entries)
	if want := (map[Key]Entry{{"1", "10"}: entries[0], {"1", "13"}: entries[6], {"2", "12"}: entries[9]}); !reflect.DeepEqual(removed, want) {
		t.Errorf("Removed = %v, want %v", removed, want)
	}
	if want := (map[Key]Entry{{"1", "12"}: entries[3]}); !reflect.DeepEqual(AddedBack(entries), want) {
		t.Errorf("AddedBack = %v, want %v", AddedBack(entries), want)
	}
	if len(Removed(nil)) != 0 {
		t.Error("Removed(nil) is not empty")
	}
}

// The journal's plan_row is the plan's row: the same JSON reads back as the
// same Row.
func TestPlanRowJSON(t *testing.T) {
	for _, r := range sampleRows() {
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Row
		if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, r) {
			t.Errorf("%s reads back as %+v, %v", raw, back, err)
		}
	}
}
