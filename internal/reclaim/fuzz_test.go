package reclaim

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzReadPlan: whatever a plan file holds, readPlan refuses it with an
// Error or a read error, or reads rows that write and read back the same.
func FuzzReadPlan(f *testing.F) {
	var good bytes.Buffer
	if err := writePlan(&good, sampleRows(), true); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add(bytes.ReplaceAll(good.Bytes(), []byte("\n"), []byte("\r\n")))
	f.Add(bytes.ReplaceAll(good.Bytes(), []byte(","), []byte(";")))
	f.Add([]byte(strings.Join(PlanColumns[:], ",") + "\n" + `"unclosed`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rows, err := readPlan(bytes.NewReader(raw), "plan.csv")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("an error of another kind: %v", err)
			}
			return
		}
		if len(rows) > maxPlanRows {
			t.Fatalf("%d rows read", len(rows))
		}
		var again bytes.Buffer
		if err := writePlan(&again, rows, false); err != nil {
			t.Fatalf("rows it read do not write: %v", err)
		}
		back, err := readPlan(&again, "plan.csv")
		if err != nil {
			t.Fatalf("rows it wrote do not read back: %v", err)
		}
		if !reflect.DeepEqual(back, rows) {
			t.Fatalf("read back\n%+v\nnot\n%+v", back, rows)
		}
	})
}

// FuzzReadExclusions: whatever the list holds, it is refused with an Error
// naming a line, or read into exclusions that, written one a line, read back
// the same.
func FuzzReadExclusions(f *testing.F) {
	f.Add([]byte(sampleExclusions))
	f.Add([]byte("ceo@acme.example cto@acme.example\n"))
	f.Add([]byte("1400000000000007 # bot\nÅsa@Exämple.org\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		x, err := parseExclusions("exclude.txt", raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("an error without a line: %v", err)
			}
			return
		}
		var list []string
		for gid := range x.gids {
			list = append(list, gid)
			if !x.Excludes(gid, "") {
				t.Fatalf("a gid read is not excluded")
			}
		}
		for email := range x.emails {
			list = append(list, email+" # comment")
			if !x.Excludes("", email) {
				t.Fatalf("an email read is not excluded")
			}
		}
		slices.Sort(list)
		again, err := parseExclusions("exclude.txt", []byte(byteOrderMark+strings.Join(list, "\r\n")))
		if err != nil || !reflect.DeepEqual(again, x) {
			t.Fatalf("written back, the list reads %v, %v", again, err)
		}
	})
}

// FuzzReadJournal: whatever the journal holds, readJournal refuses it with
// an Error, or reads entries that append and read back the same; only
// whole lines count, and a torn line only at the end.
func FuzzReadJournal(f *testing.F) {
	var good bytes.Buffer
	for _, e := range sampleEntries() {
		line, err := encodeEntry(e)
		if err != nil {
			f.Fatal(err)
		}
		good.Write(line)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()-1])
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"plan_row":{"state":1}}` + "\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := readJournal(bytes.NewReader(raw), "journal.jsonl")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("an error without a line: %v", err)
			}
			return
		}
		switch {
		case s.end > int64(len(raw)):
			t.Fatalf("whole lines of %d bytes in %d", s.end, len(raw))
		case s.tornLine == 0 && s.end != int64(len(raw)):
			t.Fatalf("%d bytes of %d read, and no torn line", s.end, len(raw))
		case s.unterminated && s.tornLine > 0:
			t.Fatal("both torn and unterminated")
		case s.unterminated != (s.end > 0 && raw[s.end-1] != '\n'):
			t.Fatalf("unterminated is %v", s.unterminated)
		}
		var again bytes.Buffer
		for _, e := range s.entries {
			line, err := encodeEntry(e)
			if err != nil {
				t.Fatalf("an entry it read does not append: %v", err)
			}
			again.Write(line)
		}
		back, err := readJournal(&again, "journal.jsonl")
		if err != nil || !reflect.DeepEqual(back.entries, s.entries) {
			t.Fatalf("appended, the entries read back as %+v, %v", back.entries, err)
		}
	})
}
