package reclaim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// Result is how an action ended.
type Result string

const (
	// ResultStarted: a removal is about to be asked for. The entry with
	// its end follows, unless the run stopped first (killed, or the journal
	// could not take the line): then the next run reads the member back
	// and journals how it ended (Interrupted).
	ResultStarted Result = "started"
	// ResultDone: Asana confirmed it (a 2xx, or a re-read proved it).
	ResultDone Result = "done"
	// ResultSkipped: the re-check said not to act; Reason says why.
	ResultSkipped Result = "skipped"
	// ResultFailed: Asana refused, or the outcome stayed unknown.
	ResultFailed Result = "failed"
)

// Entry is one line of the journal: one action on one member.
type Entry struct {
	Time     time.Time `json:"time"`
	Run      string    `json:"run"`       // the run's random id
	ActorGID string    `json:"actor_gid"` // the token's user
	Action   Action    `json:"action"`    // ActionRemove or ActionAdd
	Result   Result    `json:"result"`
	// MembershipGID is "" where it is not known (an add, before Asana
	// answers).
	WorkspaceGID  string `json:"workspace_gid"`
	MembershipGID string `json:"membership_gid"`
	UserGID       string `json:"user_gid"`
	UserEmail     string `json:"user_email"`
	UserName      string `json:"user_name"`
	// Answer is Asana's answer, such as "200 {}"; Reason why a row was
	// skipped or failed. Both are cut to maxTextBytes when appended.
	Answer  string `json:"answer"`
	Reason  string `json:"reason"`
	PlanRow *Row   `json:"plan_row"` // the plan's row acted on; nil for none
}

// Limits on the journal.
const (
	// maxJournalBytes bounds the journal, which is read whole into memory
	// (by apply, undo and the exporter's metrics): a line is about 1 KiB,
	// and a removal takes two (started, then its end), so some 30,000
	// removals, 3,000 runs at the default --max of 10. A full
	// journal is kept for undo, and a new one given for new runs.
	maxJournalBytes = 64 << 20
	// maxJournalLineBytes bounds a line with its newline: an entry with
	// every text at its limit and every byte escaped as \u00XX takes under
	// 40 KiB (TestLongestEntryFitsALine).
	maxJournalLineBytes = 64 << 10
	// maxRunBytes bounds a run id: a random id is 16 to 32 characters.
	maxRunBytes = 64
)

// Key is a user in a workspace, as the journal's queries name them.
type Key struct{ WorkspaceGID, UserGID string }

// Removed is each (workspace, user) whose last done action in entries is a
// removal: removed and not added back since. Its value is that entry.
func Removed(entries []Entry) map[Key]Entry { return lastDone(entries, ActionRemove) }

// Reclaimed is what the removals still in force (Removed) free in one
// workspace: how many seats, and their monthly price as the plan priced
// them (a seat planned without seat_price counts 0).
type Reclaimed struct {
	Seats   int
	Monthly float64
}

// ReclaimedBy sums Removed(entries) by workspace gid.
func ReclaimedBy(entries []Entry) map[string]Reclaimed {
	out := map[string]Reclaimed{}
	for k, e := range Removed(entries) {
		r := out[k.WorkspaceGID]
		r.Seats++
		if e.PlanRow != nil && e.PlanRow.MonthlyPrice != nil {
			r.Monthly += *e.PlanRow.MonthlyPrice
		}
		out[k.WorkspaceGID] = r
	}
	return out
}

// AddedBack is each (workspace, user) whose last done action in entries is
// an add: undone, and not removed again since.
func AddedBack(entries []Entry) map[Key]Entry { return lastDone(entries, ActionAdd) }

// Interrupted are the removals begun (result started) after which the
// journal has no entry for that user in that workspace: the run stopped
// before it journalled how they ended.
func Interrupted(entries []Entry) []Entry {
	last := map[Key]int{}
	for i, e := range entries {
		last[Key{e.WorkspaceGID, e.UserGID}] = i
	}
	var begun []Entry
	for i, e := range entries {
		if e.Result == ResultStarted && last[Key{e.WorkspaceGID, e.UserGID}] == i {
			begun = append(begun, e)
		}
	}
	return begun
}

func lastDone(entries []Entry, action Action) map[Key]Entry {
	last := map[Key]Entry{}
	for _, e := range entries {
		if e.Result == ResultDone {
			last[Key{e.WorkspaceGID, e.UserGID}] = e
		}
	}
	for k, e := range last {
		if e.Action != action {
			delete(last, k)
		}
	}
	return last
}

// Journal is a journal open for a run: locked against every other run, its
// entries read, appended to line by line.
type Journal struct {
	path    string
	f       *os.File
	size    int64 // where the next line goes
	entries []Entry
	torn    int // the line of a torn last line dropped, 0 for none
	// sync makes a line durable (f.Sync; a test's hook).
	sync func() error
	// failed is why the journal takes no more lines: a write or sync that
	// failed leaves what the file holds unknown.
	failed error
}

// OpenJournal opens the journal at path for a run, creating it (mode 0600)
// if absent. It holds an exclusive lock until Close: a second run on the
// same journal is refused. A last line cut short by a crash (torn) is
// dropped from the file, and TornLine says which it was.
func OpenJournal(path string) (*Journal, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, &inputfile.NotRegularError{Path: path, Mode: st.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the journal: %w; check --journal's path (its directory must exist)", err)
	}
	j, err := openJournal(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// ViewJournal reads the journal at path for a dry run, which writes
// nothing: not locked, not created when absent (then it has no entries),
// a torn last line left in the file; Append refuses.
func ViewJournal(path string) (*Journal, error) {
	entries, err := ReadJournal(path)
	if errors.Is(err, fs.ErrNotExist) {
		entries, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Journal{path: path, entries: entries, failed: errors.New("a dry run writes no journal")}, nil
}

func openJournal(path string, f *os.File) (*Journal, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, &inputfile.NotRegularError{Path: path, Mode: st.Mode()}
	}
	// A journal made beforehand (touch, under umask 022) would show the
	// names and emails it is about to hold to everyone.
	if st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("the journal %s is readable by others (mode %v), and making it 0600 failed: %w; "+
				"chmod 600 it, or give --journal a new file", path, st.Mode().Perm(), err)
		}
	}
	if err := lock(f); errors.Is(err, errLocked) {
		return nil, fmt.Errorf("another reclaim run holds the journal %s (apply or undo): wait for it to end; "+
			"two runs on one journal could act twice", path)
	} else if err != nil {
		return nil, fmt.Errorf("cannot lock the journal %s: %w", path, err)
	}
	s, err := readJournalFile(f, path)
	var tooLarge *inputfile.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w; keep this journal for undo, and give --journal a new file for new runs", err)
	}
	if err != nil {
		return nil, err
	}
	j := &Journal{path: path, f: f, size: s.end, entries: s.entries, torn: s.tornLine, sync: f.Sync}
	switch {
	case s.tornLine > 0:
		err = f.Truncate(s.end) // the fragment would run into the next line
	case s.unterminated:
		_, err = f.Write([]byte("\n"))
		j.size++
	case s.end == 0:
		err = syncDir(path) // the new file's name outlives a crash
	}
	if err == nil && (s.tornLine > 0 || s.unterminated) {
		err = f.Sync()
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write the journal %s: %w", path, err)
	}
	return j, nil
}

// syncDir makes a new file's directory entry durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync a directory
		return err
	}
	return nil
}

// Entries are the entries the journal held when it was opened and those
// appended since, in order.
func (j *Journal) Entries() []Entry { return j.entries }

// TornLine is the line number of a last line that was cut short (a crash
// while it was written) and dropped when the journal was opened; 0 when
// there was none.
func (j *Journal) TornLine() int { return j.torn }

// Full reports whether the journal may have no room for one more line:
// check it before acting, since an action done must be journalled.
func (j *Journal) Full() bool { return j.size+maxJournalLineBytes > maxJournalBytes }

// Append writes e as one line and returns once the line is on disk
// (fsynced). Free text (the name, the answer, the reason) is cut to fit;
// any other field that would not read back is refused. After a write or
// sync fails, the journal takes no more lines.
func (j *Journal) Append(e Entry) error {
	if j.failed != nil {
		return j.failed
	}
	line, err := encodeEntry(e)
	if err != nil {
		return fmt.Errorf("cannot journal an entry: %w", err)
	}
	if j.size+int64(len(line)) > maxJournalBytes {
		return fmt.Errorf("the journal %s is full (%d bytes); keep it for undo, and give --journal a new file for new runs",
			j.path, maxJournalBytes)
	}
	n, err := j.f.Write(line)
	if err != nil && n > 0 {
		j.f.Truncate(j.size) // take the partial line back; if that fails, the next open drops it
	}
	if err == nil {
		err = j.sync()
	}
	if err != nil {
		j.failed = fmt.Errorf("the journal %s could not be written, so nothing more is done: %w", j.path, err)
		return j.failed
	}
	j.size += int64(n)
	j.entries = append(j.entries, e)
	return nil
}

// Close releases the journal and its lock.
func (j *Journal) Close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// encodeEntry is e's line: normalised (UTC, free text fitted), validated,
// JSON, a newline.
func encodeEntry(e Entry) ([]byte, error) {
	e.Time = e.Time.UTC()
	e.UserName, e.Answer, e.Reason = fitText(e.UserName), fitText(e.Answer), fitText(e.Reason)
	if err := e.validate(); err != nil {
		return nil, err
	}
	line, err := json.Marshal(&e)
	if err != nil {
		return nil, err
	}
	line = append(line, '\n')
	if len(line) > maxJournalLineBytes {
		return nil, fmt.Errorf("an entry of %d bytes, more than a line's %d", len(line), maxJournalLineBytes)
	}
	return line, nil
}

// validate says which field of e breaks a rule, never its value.
func (e *Entry) validate() error {
	switch {
	case e.Time.IsZero():
		return errors.New("time is missing")
	case e.Run == "" || len(e.Run) > maxRunBytes || strings.Trim(e.Run, runIDChars) != "":
		return fmt.Errorf("run is not a run id (1 to %d letters, digits, '.', '_' or '-')", maxRunBytes)
	case e.Action != ActionRemove && e.Action != ActionAdd:
		return fmt.Errorf("action is neither %s nor %s", ActionRemove, ActionAdd)
	case e.Result != ResultStarted && e.Result != ResultDone && e.Result != ResultSkipped && e.Result != ResultFailed:
		return fmt.Errorf("result is none of %s, %s, %s, %s", ResultStarted, ResultDone, ResultSkipped, ResultFailed)
	case e.UserEmail != "" && !validEmail(e.UserEmail):
		return errors.New("user_email is not an email address")
	}
	for _, t := range []string{e.UserName, e.Answer, e.Reason} {
		if len(t) > maxTextBytes {
			return fmt.Errorf("user_name, answer or reason is longer than %d bytes", maxTextBytes)
		}
	}
	for _, f := range [...]struct{ name, gid string }{
		{"actor_gid", e.ActorGID}, {"workspace_gid", e.WorkspaceGID}, {"user_gid", e.UserGID}, {"membership_gid", e.MembershipGID},
	} {
		if f.gid == "" && f.name == "membership_gid" {
			continue // not known for an add
		}
		if err := checkGID(f.name, f.gid); err != nil {
			return err
		}
	}
	if e.PlanRow != nil {
		c := e.PlanRow.cells()
		if _, err := parseRow(&c); err != nil {
			return planRowError{err}
		}
	}
	return nil
}

const runIDChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

// MarshalJSON writes a plan row as an object of its plan cells, in the
// plan's column order.
func (r Row) MarshalJSON() ([]byte, error) {
	c := r.cells()
	b := []byte{'{'}
	for i, name := range PlanColumns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		v, err := json.Marshal(c[i])
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a plan row from its cells and validates it as a
// plan's row. A cell absent (a journal from before that column) is empty;
// keys it does not know are left alone.
func (r *Row) UnmarshalJSON(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return planRowError{errors.New("is not an object of text cells")}
	}
	var c planCells
	for i, name := range PlanColumns {
		c[i] = m[name]
	}
	row, err := parseRow(&c)
	if err != nil {
		return planRowError{err}
	}
	*r = row
	return nil
}

// planRowError is what is wrong with a journal entry's plan_row.
type planRowError struct{ err error }

func (e planRowError) Error() string { return "plan_row: " + e.err.Error() }

// ReadJournal reads the journal at path without locking it (a run may be
// appending): its entries in order. A torn last line is left out, as a
// line being written is.
func ReadJournal(path string) ([]Entry, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := readJournalFile(f, path)
	return s.entries, err
}

func readJournalFile(f *os.File, path string) (journalScan, error) {
	if err := checkSize(f, path, maxJournalBytes); err != nil {
		return journalScan{}, err
	}
	return readJournal(inputfile.LimitReader(f, path, maxJournalBytes), path)
}

// journalScan is what reading a journal found.
type journalScan struct {
	entries []Entry
	end     int64 // the bytes of the whole lines: where the next line goes
	// tornLine is the line number of a torn last line: one without its
	// newline that is not even JSON but begins as an entry does (a crash
	// while it was written).
	tornLine int
	// unterminated: the last line is a whole entry without its newline.
	unterminated bool
}

func readJournal(r io.Reader, path string) (journalScan, error) {
	var s journalScan
	br := bufio.NewReaderSize(r, maxJournalLineBytes)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return journalScan{}, &Error{Path: path, Line: n, Msg: fmt.Sprintf("longer than %d bytes, more than a journal's line: "+
				"this is not a journal, or it is damaged; give --journal the journal's path, or restore it from a backup", maxJournalLineBytes)}
		case errors.Is(err, io.EOF) && len(line) == 0:
			return s, nil
		case errors.Is(err, io.EOF) && !json.Valid(line) && tornEntry(line):
			s.tornLine = n
			return s, nil
		case err != nil && !errors.Is(err, io.EOF):
			return journalScan{}, err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			var e Entry
			if msg := decodeEntry(line, &e); msg != "" {
				return journalScan{}, &Error{Path: path, Line: n, Msg: msg + ": the journal is damaged; " +
					"restore it from a backup, or move this line out of it once you know what it recorded"}
			}
			s.entries = append(s.entries, e)
		}
		s.end += int64(len(line))
		if errors.Is(err, io.EOF) {
			s.unterminated = true
			return s, nil
		}
	}
}

// entryStart is how every line the journal writes begins.
const entryStart = `{"time":"`

// tornEntry reports whether a last line without its newline is the start
// of an entry cut short. Anything else is no journal's, and is refused
// rather than dropped: given the wrong file (a token file is one line
// without a newline), dropping its "torn line" would empty it.
func tornEntry(line []byte) bool {
	return bytes.HasPrefix(line, []byte(entryStart)) || bytes.HasPrefix([]byte(entryStart), line)
}

// decodeEntry reads one line into e, or says what is wrong with it without
// quoting it.
func decodeEntry(line []byte, e *Entry) string {
	err := json.Unmarshal(line, e)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var row planRowError
	switch {
	case errors.As(err, &syntax):
		return "not JSON"
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s holds a %s, which the journal never writes there", typ.Field, typ.Value)
	case errors.As(err, &row):
		return row.Error()
	case err != nil:
		return "not a journal entry"
	}
	if err := e.validate(); err != nil {
		return err.Error()
	}
	e.Time = e.Time.UTC()
	return ""
}

// errLocked: another open file description holds the lock.
var errLocked = errors.New("locked")
