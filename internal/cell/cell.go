// Package cell makes user-controlled text safe where it is shown: in a
// spreadsheet that opens a CSV file, and in a terminal.
package cell

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"
)

// Spreadsheet makes a cell safe to open in a spreadsheet: one that starts
// with a character a spreadsheet reads as a formula (=, +, -, @, a tab or a
// carriage return) gets a leading apostrophe, as OWASP's CSV injection
// guidance says. So does one that starts with an apostrophe already, so
// that dropping one leading apostrophe always gives the original back.
func Spreadsheet(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ForCSV is how to write the cells of a CSV to out: Spreadsheet, and when
// out is a terminal, Terminal too, since there an escape sequence in a name
// would act on the screen. A file or a pipe gets the exact bytes.
func ForCSV(out io.Writer) func(string) string {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return func(s string) string { return Terminal(Spreadsheet(s)) }
	}
	return Spreadsheet
}

// Terminal escapes what a terminal would act on rather than show: control
// characters (an escape sequence in a name could rewrite the screen), line
// breaks and invisible formatting such as bidirectional overrides.
func Terminal(s string) string { return escape(s, notGraphic) }

// Page escapes the control characters a web page cannot show (an escape
// sequence, a bell, a line break in a name), as Terminal does. It leaves
// invisible formatting alone: a page isolates a name's direction with
// <bdi>, and joiners make emoji.
func Page(s string) string { return escape(s, unicode.IsControl) }

// escape writes each rune of s for which is holds as \uXXXX.
func escape(s string, is func(rune) bool) string {
	if !strings.ContainsFunc(s, is) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if is(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func notGraphic(r rune) bool { return !unicode.IsGraphic(r) }

// MaxWidth caps a column in a table: a pasted essay in a name must not push
// the other columns off the screen.
const MaxWidth = 40

// Width is how many terminal columns Terminal(s) takes in a table, at most
// MaxWidth. Printable ASCII, which most cells are, takes one column a byte:
// the roster measures every cell it spools, and the general path costs a
// sixth of its CPU.
func Width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return min(runewidth.StringWidth(Terminal(s)), MaxWidth)
		}
	}
	return min(len(s), MaxWidth)
}

// Pad is Terminal(s), cut to MaxWidth, then padded to width columns.
func Pad(s string, width int) string {
	return runewidth.FillRight(runewidth.Truncate(Terminal(s), MaxWidth, "…"), width)
}
