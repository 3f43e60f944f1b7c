package cell

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/mattn/go-runewidth"
)

func TestSpreadsheetNeutralizesFormulasAndRoundTrips(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"=1+2", "'=1+2"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"'quoted", "''quoted"}, {"Jane", "Jane"}, {"", ""}, {"a=b", "a=b"}, {"日本", "日本"},
	} {
		got := Spreadsheet(c.in)
		if got != c.want {
			t.Errorf("Spreadsheet(%q) = %q, want %q", c.in, got, c.want)
		}
		if back, _ := strings.CutPrefix(got, "'"); got != c.in && back != c.in {
			t.Errorf("dropping one apostrophe from %q gives %q, not %q", got, back, c.in)
		}
	}
}

func TestTerminalShowsNoControlCharacters(t *testing.T) {
	for _, in := range []string{"\x1b[2J\x1b[31mred", "two\nlines", "tab\there", "\u202eevil\u202c", "bell\a", "del\x7f"} {
		got := Terminal(in)
		if strings.ContainsFunc(got, func(r rune) bool { return !unicode.IsGraphic(r) }) {
			t.Errorf("Terminal(%q) = %q still holds a control character", in, got)
		}
		if got == in {
			t.Errorf("Terminal(%q) changed nothing", in)
		}
	}
	if got := Terminal("Åsa Øberg 日本語"); got != "Åsa Øberg 日本語" {
		t.Errorf("printable text changed: %q", got)
	}
}

func TestPadAlignsWideCharacters(t *testing.T) {
	if got := Pad("日本", 6); got != "日本  " {
		t.Errorf("Pad(日本, 6) = %q: two wide characters take four columns", got)
	}
	long := strings.Repeat("x", 100)
	if got := Pad(long, 0); Width(long) != MaxWidth || len([]rune(got)) != MaxWidth {
		t.Errorf("a 100-column cell is %d columns wide in a table (%q)", len([]rune(got)), got)
	}
}

// TestForCSVKeepsTheExactBytesOffATerminal: a file, a pipe or a buffer
// gets what Spreadsheet gives, control characters and all (a terminal is
// tested with the seats command, in internal/exporter).
func TestForCSVKeepsTheExactBytesOffATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, pipe, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pipe.Close()
	for name, out := range map[string]io.Writer{"file": file, "pipe": pipe, "buffer": &bytes.Buffer{}} {
		for _, in := range []string{"\x1b[2J\x1b[31mred", "=1+2", "two\nlines", "\u202eevil"} {
			if got := ForCSV(out)(in); got != Spreadsheet(in) {
				t.Errorf("%s: ForCSV(%q) = %q, want %q", name, in, got, Spreadsheet(in))
			}
		}
	}
}

// Width's ASCII shortcut measures as the general path does.
func TestWidthOfASCII(t *testing.T) {
	var all strings.Builder
	for b := range 128 {
		all.WriteByte(byte(b))
	}
	for _, s := range []string{"", "user000042@acme.example", "a\tb", "\x1b[2J", all.String(), strings.Repeat("x", 100), "Zoë"} {
		if got, want := Width(s), min(runewidth.StringWidth(Terminal(s)), MaxWidth); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestPage: a page gets control characters escaped, and keeps what makes
// a name (joiners in emoji, a direction mark) as it is.
func TestPage(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë 👩‍💻":            "Zoë 👩‍💻",
		"\x1b[2Jred\x07":     `\u001b[2Jred\u0007`,
		"two\nlines\r":       `two\u000alines\u000d`,
		"\u202eevil\u202c":   "\u202eevil\u202c",
		"\u0085next line C1": `\u0085next line C1`,
	} {
		if got := Page(in); got != want {
			t.Errorf("Page(%q) = %q, want %q", in, got, want)
		}
	}
}
