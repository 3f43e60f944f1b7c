package reconcile

import (
	"strings"
	"testing"

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
		// A stray quote is read as text (LazyQuotes), as a spreadsheet would.
		{name: "stray quote", file: "Email\n\"jane@acme.example\"x\"\n", email: "Email", members: 1},
		{name: "unknown type", file: "Email,Role\njane@acme.example,Astronaut\n", email: "Email", typ: "Role", members: 1},
		{name: "pending", file: "Email,Status\njane@acme.example,Pending invite\n", email: "Email", typ: "Status", members: 1, firstKind: asana.Licensed, firstKnown: true},
		{name: "columns named", file: "Who,Contact,Seat\nJane,jane@acme.example,Guest\n", opts: ReadOptions{EmailColumn: "contact", TypeColumn: "Seat"}, email: "Contact", typ: "Seat", members: 1, firstKind: asana.Guest, firstKnown: true},
		{name: "duplicate", file: "Email\njane@acme.example\nJane@Acme.example\n", email: "Email", members: 1, warningsContain: "line 3: the same email as line 2"},
		{name: "no email in a row", file: "Name,Email\nJane,\n,\nBob,bob@acme.example\n", email: "Email", members: 1, warningsContain: "line 2: no email"},
		{name: "a megabyte cell", file: "Email,Type\njane@acme.example," + strings.Repeat("x", 1<<20) + "\nbob@acme.example,Guest\n", email: "Email", typ: "Type", members: 2, warningsContain: "line 2: the type cell is 1048576 bytes"},
		{name: "a megabyte email", file: "Email\n" + strings.Repeat("x", 1<<20) + "@acme.example\nbob@acme.example\n", email: "Email", members: 1, warningsContain: "line 2: the email cell is not an email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadConsole(strings.NewReader(c.file), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.EmailColumn != c.email || got.TypeColumn != c.typ || len(got.Members) != c.members {
				t.Errorf("email %q type %q members %d, want %q %q %d", got.EmailColumn, got.TypeColumn, len(got.Members), c.email, c.typ, c.members)
			}
			if c.delim != 0 && got.Delimiter != c.delim {
				t.Errorf("delimiter %q, want %q", got.Delimiter, c.delim)
			}
			first := got.Members[got.Order[0]]
			if first.Known != c.firstKnown || c.firstKnown && first.Kind != c.firstKind {
				t.Errorf("first member %+v, want kind %v known %v", first, c.firstKind, c.firstKnown)
			}
			if c.name == "semicolons" && got.Order[0] != "jane@acme.example" {
				t.Errorf("email not normalised: %q", got.Order[0])
			}
			warnings := strings.Join(got.Warnings, "\n")
			if c.warningsContain == "" && warnings != "" || !strings.Contains(warnings, c.warningsContain) {
				t.Errorf("warnings %q, want %q", warnings, c.warningsContain)
			}
			if strings.Contains(warnings, "@") {
				t.Errorf("a warning quotes an email: %q", warnings)
			}
		})
	}
}

func TestReadConsoleRefusesWhatItCannotRead(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", "xlsx"},
		{"binary", "\x00\x01\x02\xff\xfe", "not UTF-8"},
		{"latin-1", "Name,Email\nJos\xe9,jose@acme.example\n", "not UTF-8"},
		{"no email column", "Name,Department\nJane,Sales\n", `no email column among the headers "Name", "Department" (separated by ','); name it with --reconcile.email-column`},
		{"header only", "Email,License\n", "no member with an email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadConsole(strings.NewReader(c.file), ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	_, err := ReadConsole(strings.NewReader("Email\nj@a.example\n"), ReadOptions{TypeColumn: "Licence"})
	if err == nil || !strings.Contains(err.Error(), `--reconcile.type-column="Licence": no such column; the headers are "Email"`) {
		t.Errorf("a named column that is missing: %v", err)
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
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		c, err := ReadConsole(strings.NewReader(string(file)), ReadOptions{})
		if err != nil {
			return
		}
		if len(c.Members) == 0 || len(c.Order) != len(c.Members) || c.EmailColumn == "" {
			t.Fatalf("read %d members, %d in order, email column %q", len(c.Members), len(c.Order), c.EmailColumn)
		}
		for _, email := range c.Order {
			m := c.Members[email]
			if m == nil || NormaliseEmail(m.Email) != email || !strings.Contains(email, "@") || len(m.Type) > maxTypeBytes {
				t.Fatalf("member %q: %+v", email, m)
			}
		}
		if len(c.Warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(c.Warnings))
		}
	})
}
