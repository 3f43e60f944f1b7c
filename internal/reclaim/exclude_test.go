package reclaim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

const sampleExclusions = byteOrderMark + "# VIPs and service accounts\r\n" +
	"ceo@acme.example\r\n" +
	"  1400000000000007   # the build bot\r\n" +
	"\r\n" +
	"Ops.Team@ACME.example#shared inbox\n" +
	"\t\n" +
	"1400000000000007\n" // twice is fine

// TestExclusionsMatch: gids exactly, emails in any case; comments, blank
// lines, a byte-order mark and CRLF are allowed.
func TestExclusionsMatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exclude.txt")
	if err := os.WriteFile(path, []byte(sampleExclusions), 0o600); err != nil {
		t.Fatal(err)
	}
	x, err := ReadExclusions(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		gid, email string
		want       bool
	}{
		{"1400000000000007", "", true},
		{"1400000000000007", "anyone@acme.example", true},
		{"", "CEO@acme.example", true},
		{"1400000000000001", " ops.team@acme.example ", true},
		{"1400000000000001", "ada@acme.example", false},
		{"140000000000000", "", false},
		{"", "", false},
		{"", "ceo", false},
		{"", "# VIPs and service accounts", false},
	} {
		if got := x.Excludes(c.gid, c.email); got != c.want {
			t.Errorf("Excludes(%q, %q) = %v, want %v", c.gid, c.email, got, c.want)
		}
	}
	if (Exclusions{}).Excludes("1400000000000007", "ceo@acme.example") {
		t.Error("the zero Exclusions excludes someone")
	}
	if x, err := parseExclusions("exclude.txt", nil); err != nil || x.Excludes("", "") {
		t.Errorf("an empty list: %v", err)
	}
}

// TestExclusionsRefuseWhatIsNeither: a line that is neither one email nor
// one gid is an error naming the file and line, quoting nothing of it.
func TestExclusionsRefuseWhatIsNeither(t *testing.T) {
	for in, want := range map[string]string{
		"ceo@acme.example cto@acme.example\n":         "exclude.txt line 1: 2 words before any #",
		"# ok\nAda Lovelace <ada@acme.example>":       "exclude.txt line 2: 3 words before any #",
		"\n\nceo.acme.example\n":                      "exclude.txt line 3: neither an email (it has no @) nor a user gid (digits only)",
		"14000000000000a7":                            "exclude.txt line 1: neither an email",
		"1400000000000007\n1234567890123456789012345": "exclude.txt line 2: a number of more than 24 digits is not a user gid",
		"<ceo@acme.example>":                          "exclude.txt line 1: an email with brackets, quotes or separators",
		"ceo@acme.example,cto@acme.example":           "exclude.txt line 1: an email with brackets",
		"ceo@acme.example;":                           "exclude.txt line 1: an email with brackets",
		"mailto:ceo@acme.example":                     "exclude.txt line 1: an email with brackets",
		"\"ceo@acme.example\"":                        "exclude.txt line 1: an email with brackets",
		"ceo@":                                        "exclude.txt line 1: not an email address",
		"@acme.example":                               "exclude.txt line 1: not an email address",
		"ceo@acme\x00.example":                        "exclude.txt line 1: not an email address",
		"ceo\xff@acme.example":                        "exclude.txt line 1: not UTF-8 text: save the file as UTF-8",
	} {
		_, err := parseExclusions("exclude.txt", []byte(in))
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
			continue
		}
		if !strings.HasSuffix(err.Error(), "; the exclude list holds one email or user gid a line, # starts a comment") {
			t.Errorf("%q: %v does not say what the list holds", in, err)
		}
		for _, private := range []string{"ceo", "ada", "acme", "1400"} {
			if strings.Contains(err.Error(), private) {
				t.Errorf("%q: the error quotes %q: %v", in, private, err)
			}
		}
	}
}

// TestExclusionsLimit: a file over maxExcludeBytes is refused unread.
func TestExclusionsLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exclude.txt")
	line := "1400000000000007\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, maxExcludeBytes/len(line)+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var tooLarge *inputfile.TooLargeError
	if _, err := ReadExclusions(path); !errors.As(err, &tooLarge) || tooLarge.Limit != maxExcludeBytes {
		t.Errorf("a list over %d bytes: %v", maxExcludeBytes, err)
	}
	if err := os.Truncate(path, maxExcludeBytes); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadExclusions(path); err != nil {
		t.Errorf("a list of exactly %d bytes: %v", maxExcludeBytes, err)
	}
}
