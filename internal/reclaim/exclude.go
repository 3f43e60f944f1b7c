package reclaim

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// maxExcludeBytes bounds the exclude list: a list of VIPs and service
// accounts is a few hundred lines; 1 MiB is some 20,000 lines of 50 bytes,
// and keeps the list's memory to a few MB. A larger file is the wrong one.
const maxExcludeBytes = 1 << 20

// Exclusions are the people never to plan or act on (--exclude): by user
// gid, or by email in any case. The zero value excludes nobody.
type Exclusions struct {
	gids   map[string]struct{}
	emails map[string]struct{} // lower case
}

// Excludes reports whether the user with this gid or this email is
// excluded.
func (x Exclusions) Excludes(userGID, email string) bool {
	if _, ok := x.gids[userGID]; ok && userGID != "" {
		return true
	}
	_, ok := x.emails[normalizeEmail(email)]
	return ok && email != ""
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ReadExclusions reads the exclude list at path: one email or user gid a
// line; # starts a comment, on a line of its own or after the value; blank
// lines, a byte-order mark and CRLF line ends are allowed. Anything else is
// an error naming the line.
func ReadExclusions(path string) (Exclusions, error) {
	data, err := inputfile.ReadAll(path, maxExcludeBytes)
	if err != nil {
		return Exclusions{}, err
	}
	return parseExclusions(path, data)
}

func parseExclusions(path string, data []byte) (Exclusions, error) {
	x := Exclusions{gids: map[string]struct{}{}, emails: map[string]struct{}{}}
	text := strings.TrimPrefix(string(data), byteOrderMark)
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		fail := func(msg string) (Exclusions, error) {
			return Exclusions{}, &Error{Path: path, Line: n, Msg: msg + "; the exclude list holds one email or user gid a line, # starts a comment"}
		}
		if !utf8.ValidString(line) {
			return fail("not UTF-8 text: save the file as UTF-8")
		}
		value, _, _ := strings.Cut(line, "#")
		words := strings.Fields(value)
		switch {
		case len(words) == 0:
			continue
		case len(words) > 1:
			return fail(fmt.Sprintf("%d words before any #: put each email or gid on its own line, and a comment after #", len(words)))
		}
		v := words[0]
		switch {
		case isDigits(v) && len(v) <= maxGIDDigits:
			x.gids[v] = struct{}{}
		case isDigits(v):
			return fail(fmt.Sprintf("a number of more than %d digits is not a user gid", maxGIDDigits))
		case !strings.Contains(v, "@"):
			return fail("neither an email (it has no @) nor a user gid (digits only)")
		case strings.ContainsAny(v, `<>()[],;:"\`):
			// Pasted from a mail client (<name@example.com>, a list with
			// commas), it would match no one and protect no one.
			return fail("an email with brackets, quotes or separators in it: write the address alone, such as name@example.com")
		case !validEmail(v):
			return fail("not an email address (something, an @, a domain)")
		default:
			x.emails[normalizeEmail(v)] = struct{}{}
		}
	}
	return x, nil
}
