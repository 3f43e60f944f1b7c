package reconcile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

func TestReadConsoleIsLiberal(t *testing.T) {
	for _, c := range []struct {
		name, file      string
		opts            ReadOptions
		email, typ      string
		delim           rune
		members         int
		firstKind       asana.State
		firstKnown      bool
		warningsContain string
	}{
		{name: "bom and commas", file: "\ufeffName,Email,License\nJane,jane@acme.example,Member\n", email: "Email", typ: "License", delim: ',', members: 1, firstKind: asana.Licensed, firstKnown: true},
		{name: "semicolons", file: "Name;E-mail;License type\r\n\"Doe; Jane\";JANE@acme.example ;View only\r\n", email: "E-mail", typ: "License type", delim: ';', members: 1, firstKind: asana.ViewOnly, firstKnown: true},
		{name: "tabs", file: "Email address\tMember type\njane@acme.example\tGuest\n", email: "Email address", typ: "Member type", delim: '\t', members: 1, firstKind: asana.Guest, firstKnown: true},
		{name: "no type column", file: "email\njane@acme.example\n", email: "email", members: 1},
		{name: "quotes as RFC 4180 has them", file: "Name,Email\n\"Doe, \"\"JJ\"\"\nJane\",jane@acme.example\n", email: "Email", members: 1},
		{name: "unknown type", file: "Email,Role\njane@acme.example,Astronaut\n", email: "Email", typ: "Role", members: 1},
		{name: "pending", file: "Email,Status\njane@acme.example,Pending invite\n", email: "Email", typ: "Status", members: 1, firstKind: asana.Licensed, firstKnown: true},
		{name: "columns named", file: "Who,Contact,Seat\nJane,jane@acme.example,Guest\n", opts: ReadOptions{EmailColumn: "contact", TypeColumn: "Seat"}, email: "Contact", typ: "Seat", members: 1, firstKind: asana.Guest, firstKnown: true},
		{name: "duplicate", file: "Email\njane@acme.example\nJane@Acme.example\n", email: "Email", members: 1, warningsContain: "line 3: the same email as line 2"},
		{name: "no email in a row", file: "Name,Email\nJane,\n,\nBob,bob@acme.example\n", email: "Email", members: 1, warningsContain: "line 2: no email"},
		{name: "a long type cell", file: "Email,Type\njane@acme.example," + strings.Repeat("x", 64<<10) + "\nbob@acme.example,Guest\n", email: "Email", typ: "Type", members: 2, warningsContain: "line 2: the type cell is 65536 bytes"},
		{name: "a long email", file: "Email\n" + strings.Repeat("x", 64<<10) + "@acme.example\nbob@acme.example\n", email: "Email", members: 1, warningsContain: "line 2: the email cell is not an email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadConsole(strings.NewReader(c.file), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.EmailColumn != c.email || got.TypeColumn != c.typ || got.Len() != c.members {
				t.Errorf("email %q type %q members %d, want %q %q %d", got.EmailColumn, got.TypeColumn, got.Len(), c.email, c.typ, c.members)
			}
			if c.delim != 0 && got.Delimiter != c.delim {
				t.Errorf("delimiter %q, want %q", got.Delimiter, c.delim)
			}
			first := got.Member(0)
			if first.Known != c.firstKnown || c.firstKnown && first.Kind != c.firstKind {
				t.Errorf("first member %+v, want kind %v known %v", first, c.firstKind, c.firstKnown)
			}
			if c.name == "semicolons" && (got.Find("jane@acme.example") != 0 || first.Email != "JANE@acme.example") {
				t.Errorf("email %q not found normalised, or not kept as written", first.Email)
			}
			warnings := strings.Join(got.Warnings, "\n")
			if c.warningsContain == "" && warnings != "" || !strings.Contains(warnings, c.warningsContain) {
				t.Errorf("warnings %q, want %q", warnings, c.warningsContain)
			}
			if strings.Contains(warnings, "@") || strings.Contains(warnings, "Jane") || strings.Contains(warnings, "xxx") {
				t.Errorf("a warning quotes a cell: %q", warnings)
			}
		})
	}
}

// rows are n members of a console export, one a line from line 2.
func rows(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Jane Doe %d,jane.doe.%d@acme.example,Member\n", i, i)
	}
	return b.String()
}

// TestReadConsoleRefusesWhatItCannotRead: each error says what to fix and,
// for a row, names its line; none quotes a row's cells (names, emails).
func TestReadConsoleRefusesWhatItCannotRead(t *testing.T) {
	const header = "Name,Email,License\n"
	longRow := "Jane," + strings.Repeat("x", maxRowBytes) + "@acme.example,Member\n"
	for _, c := range []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"only a byte-order mark", "\ufeff", "empty"},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", "xlsx"},
		{"binary", "\x00\x01\x02\xff\xfe", "not UTF-8"},
		{"latin-1", "Name,Email\nJos\xe9,jose@acme.example\n", "not UTF-8"},
		{"no email column", "Name,Department\nJane,Sales\n", `no email column among the headers "Name", "Department" (separated by ','); name it with --reconcile.email-column`},
		{"header only", "Email,License\n", "no member with an email"},
		{"no header row", "Jane Doe,jane@acme.example,Member\n", "line 1: the first row holds an email address, not column names"},
		// Read leniently, the stray quote would make rows 42 to 101 one
		// cell, and the reconcile report them all as only in the API.
		{"a stray quote opening a field", header + rows(40) + "\"Jane Doe 40,jane.doe.40@acme.example,Member\n" + rows(60),
			"line 42: a quoted field in this row runs on to line 102: a quote is stray or missing; re-export the file from the Admin Console"},
		{"a quote inside an unquoted field", header + rows(40) + "Jane \"JJ\" Doe,jane.doe.40@acme.example,Member\n" + rows(60),
			"line 42: a quote inside an unquoted field (byte 6 of the line); re-export the file from the Admin Console, or quote the field"},
		{"text after a closing quote", header + "\"Jane\" Doe,jane@acme.example,Member\n",
			"line 2: a quoted field's quotes do not pair up (byte 6 of the line)"},
		{"a row longer than maxRowBytes", header + rows(2) + longRow + rows(2),
			fmt.Sprintf("line 4: the row is longer than %d bytes", maxRowBytes)},
		{"a quote that never closes, in a long file", header + rows(2) + "\"Jane" + rows(maxRowBytes/40),
			fmt.Sprintf("line 4: a quoted field in this row has not ended %d bytes later: a quote is stray or missing", maxRowBytes)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadConsole(strings.NewReader(c.file), ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), "@") || strings.Contains(err.Error(), "Jane") {
				t.Errorf("the error quotes a row: %v", err)
			}
		})
	}
	_, err := ReadConsole(strings.NewReader("Email\nj@a.example\n"), ReadOptions{TypeColumn: "Licence"})
	if err == nil || !strings.Contains(err.Error(), `--reconcile.type-column="Licence": no such column; the headers are "Email"`) {
		t.Errorf("a named column that is missing: %v", err)
	}
}

// TestReadConsoleStopsAtMaxFileBytes: a file growing while it is read
// stops at the bound, as a larger one does before it is read.
func TestReadConsoleStopsAtMaxFileBytes(t *testing.T) {
	l := &rowLimiter{r: strings.NewReader(rows(10)), line: 1, rowStart: 1, read: maxFileBytes - 100}
	_, err := io.ReadAll(l)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("the file is larger than %d bytes", maxFileBytes)) {
		t.Errorf("read past maxFileBytes: %v", err)
	}
}

// TestReadFileNamesTheFileAndLine: the path begins every error, before
// the line when there is one; a FIFO or a device is refused without
// waiting for a writer, and a file larger than maxFileBytes unread.
func TestReadFileNamesTheFileAndLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	stray := write("acme-members.csv", "Email,Name\n"+"jane@acme.example,Jane \"JJ\" Doe\n")
	empty := write("empty.csv", "")
	huge := write("huge.csv", "Email\n")
	if err := os.Truncate(huge, maxFileBytes+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		stray:       stray + " line 2: a quote inside an unquoted field (byte 24 of the line); re-export the file from the Admin Console",
		empty:       empty + ": the file is empty",
		huge:        huge + fmt.Sprintf(": the file is larger than %d bytes", maxFileBytes),
		fifo:        fifo + " is a named pipe (FIFO), not a regular file",
		"/dev/zero": "/dev/zero is a character device, not a regular file",
	} {
		_, err := ReadFile(path, ReadOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ReadFile(%s) = %v, want an error beginning %q", path, err, want)
		}
	}
	if c, err := ReadFile(write("good.csv", "Email\njane@acme.example\n"), ReadOptions{}); err != nil || c.Len() != 1 {
		t.Errorf("a good file: %v", err)
	}
}

// TestConsoleFindsEveryMember: the index finds each member as its
// normalised email, after growing many times, keeps the email as written,
// and finds no one else.
func TestConsoleFindsEveryMember(t *testing.T) {
	var b strings.Builder
	b.WriteString("Email,Type\n")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&b, "Person.%d@Acme.example,%s\n", i, []string{"Member", "Guest", "View only"}[i%3])
	}
	fmt.Fprintf(&b, "person.%d@acme.example,Member\n", n/2) // the same email
	c, err := ReadConsole(strings.NewReader(b.String()), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != n || len(c.Warnings) != 1 || c.Warnings[0] != fmt.Sprintf("line %d: the same email as line %d; the later row is ignored", n+2, n/2+2) {
		t.Fatalf("%d members, warnings %q", c.Len(), c.Warnings)
	}
	for i := range n {
		m := c.Member(i)
		if want := fmt.Sprintf("Person.%d@Acme.example", i); m.Email != want || m.Line != i+2 {
			t.Fatalf("member %d: %+v, want %s at line %d", i, m, want, i+2)
		}
		if c.Find(fmt.Sprintf("person.%d@acme.EXAMPLE", i)) != i {
			t.Fatalf("%s not found", m.Email)
		}
		if m.Kind != []asana.State{asana.Licensed, asana.Guest, asana.ViewOnly}[i%3] || !m.Known {
			t.Fatalf("member %d: %+v", i, m)
		}
	}
	for _, absent := range []string{"person.5000@acme.example", "", "person.1@acme.example.org"} {
		if i := c.Find(absent); i != -1 {
			t.Errorf("Find(%q) = %d, want -1", absent, i)
		}
	}
	if len(c.types) != 4 {
		t.Errorf("%d types kept for 3 different cells and none", len(c.types))
	}
}

// TestReadConsoleBoundsWhatItKeeps: more than maxTypes different types or
// maxMembers members is not a members export.
func TestReadConsoleBoundsWhatItKeeps(t *testing.T) {
	var b strings.Builder
	b.WriteString("Name,Email,Status\n")
	for i := range maxTypes {
		fmt.Fprintf(&b, "Jane,jane.%d@acme.example,Jane's own status %d\n", i, i)
	}
	_, err := ReadConsole(strings.NewReader(b.String()), ReadOptions{})
	want := fmt.Sprintf(`line %d: the type column "Status" has more than %d different values`, maxTypes+1, maxTypes)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "Jane") {
		t.Errorf("error %v, want one saying %q", err, want)
	}

	c := newConsole(',')
	c.members = make([]member, maxMembers) // as if read: the index is not consulted for them
	err = c.add(maxMembers+2, []string{"jane@acme.example"}, columnIndexes{email: 0, typ: -1, activity: -1})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d: more than %d members", maxMembers+2, maxMembers)) {
		t.Errorf("member %d: %v", maxMembers+1, err)
	}
}

// FuzzReadConsole: any file gives members or an error, never a panic, and
// what it gives keeps the reader's promises.
func FuzzReadConsole(f *testing.F) {
	for _, seed := range []string{
		"\ufeffName,Email address,License type\nJane,jane@acme.example,Member\nBob,BOB@acme.example,Guest\n",
		"E-mail;Type\r\njane@acme.example;View only\r\n",
		"Email\tRole\n\"a\"\"b@x.example\"\tAdmin\n",
		"Email\njane@acme.example\njane@acme.example\n",
		"PK\x03\x04",
		"Email,Name\n\"jane@acme.example,Jane\nbob@acme.example,Bob\n",             // a stray quote opening a field
		"Email,Name\njane@acme.example,Jane \"JJ\" Doe\nbob@acme.example,Bob\n",    // a quote inside an unquoted field
		"Email,Name\njane@acme.example," + strings.Repeat("x", maxRowBytes) + "\n", // a row longer than maxRowBytes
		// last-activity columns: each format, both orders, never, garbage
		"Email,Last activity\na@x.example,2025-03-04\nb@x.example,2025-03-04T15:04:05.5+02:00\nc@x.example,\"Mar 4, 2025\"\nd@x.example,Never\n",
		"Email;Last login\na@x.example;03/04/2025\nb@x.example;13/04/2025 14:05\nc@x.example;4/3/25\nd@x.example;\n",
		"Email\tLast seen\na@x.example\t04/13/2025\nb@x.example\t13/04/2025\nc@x.example\t03/04/2025\n",
		"Email,Last Activity\na@x.example,04.03.2025\nb@x.example,yesterday\nc@x.example\nd@x.example,2106-01-01\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		c, err := ReadConsole(strings.NewReader(string(file)), ReadOptions{})
		if err != nil {
			if strings.Contains(err.Error(), "@") {
				t.Fatalf("the error quotes an email: %v", err)
			}
			return
		}
		if c.Len() == 0 || c.EmailColumn == "" {
			t.Fatalf("read %d members, email column %q", c.Len(), c.EmailColumn)
		}
		for i := range c.Len() {
			m := c.Member(i)
			if c.Find(m.Email) != i || !strings.Contains(m.Email, "@") || len(m.Type) > maxTypeBytes || i > 0 && m.Line <= c.Member(i-1).Line {
				t.Fatalf("member %d: %+v", i, m)
			}
			at, known := c.LastActivity(i)
			if known && c.ActivityColumn == "" || !at.Equal(m.LastActivity) || known != m.ActivityKnown || c.members[i].either {
				t.Fatalf("member %d: activity %v (known %v), column %q: %+v", i, at, known, c.ActivityColumn, m)
			}
			if !at.IsZero() && (at.Year() < minActivityYear || at.Year() > maxActivityYear || at.Nanosecond() != int(time.Second-1) || !known) {
				t.Fatalf("member %d: last active %v", i, at)
			}
		}
		if len(c.Warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(c.Warnings))
		}
	})
}
