// Package excerpt shortens text that an error quotes from outside input (an
// API response, a config file), so that a runaway value cannot flood a log
// line or an HTTP answer.
package excerpt

import "unicode/utf8"

// Cut returns s if it is at most max bytes long, else its longest prefix of
// at most max bytes that does not split a UTF-8 sequence, followed by "…".
func Cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
