package asana

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/segmentio/encoding/json"
)

// Limits on what a body may be before anything decodes it.
const (
	// maxBodyBytes bounds a 2xx body; a page of 100 memberships is ~20 KiB.
	maxBodyBytes = 16 << 20
	// maxErrorBodyBytes bounds an error body and an OAuth token response:
	// Asana's are under 1 KiB, and 64 KiB leaves room for a proxy's HTML
	// error page.
	maxErrorBodyBytes = 64 << 10
	// maxJSONDepth bounds how deeply arrays and objects may nest.
	// github.com/segmentio/encoding/json recurses once per level with no
	// limit of its own, so a body of a million '[' overflows the goroutine
	// stack: a fatal error that no recover catches. The deepest record read
	// here is 5 levels (page, data, event, details, a nested object); 64
	// leaves room for fields Asana may add and costs the decoder a few KiB
	// of stack.
	maxJSONDepth = 64
)

// checkBody refuses a body longer than limit bytes or nested deeper than
// maxJSONDepth. It is one pass over the bytes with a table lookup each,
// about 0.7 ns a byte, half as much as the decode it guards
// (BenchmarkCheckBody, BenchmarkDecodeClassifyPage).
//
// Up to the first byte that is not JSON, it counts depth as any decoder
// does; past that byte, the decoder stops with a syntax error anyway.
func checkBody(body []byte, limit int) error {
	if len(body) > limit {
		return fmt.Errorf("body larger than %d bytes", limit)
	}
	depth := 0
	for i := 0; i < len(body); i++ {
		switch jsonByte[body[i]] {
		case 0: // most bytes: tested first, it keeps the loop fast
		case quote:
			for i++; i < len(body); i++ {
				if stringStop[body[i]] {
					if body[i] == '"' {
						break
					}
					i++ // the escaped byte, a quote or a backslash included
				}
			}
		case open:
			if depth++; depth > maxJSONDepth {
				return fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
			}
		case closing:
			depth--
		}
	}
	return nil
}

// jsonByte sorts the bytes that checkBody acts on outside strings, and
// stringStop those it acts on inside one.
var (
	jsonByte   = [256]uint8{'"': quote, '[': open, '{': open, ']': closing, '}': closing}
	stringStop = [256]bool{'"': true, '\\': true}
)

const (
	quote = 1 + iota
	open
	closing
)

// decode checks body's limits and decodes it into out with
// github.com/segmentio/encoding/json, a drop-in for encoding/json (same
// API, same results and errors; fuzzed against it here). On a
// latency-bound listing the CPU finds its caches cold at every page, and
// encoding/json's reflection cost several times as much per record;
// encoding/json/v2 costs 12-18% more CPU per membership end to end
// (BENCHMARKS.md).
func decode(body []byte, out any) error {
	if out, ok := out.(interface{ reset() }); ok {
		// A failed attempt may have filled out in part, and a retry decodes
		// into the same out.
		out.reset()
	}
	if err := checkBody(body, maxBodyBytes); err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError says where and why a body did not decode without quoting it:
// the decoder's own errors carry up to 32 bytes of the body, and in a
// membership page those are names, emails and gids. It keeps the field
// path and the JSON type found, and drops everything else.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Errorf("%s: cannot decode a JSON %s into %v", field, jsonKind(typeErr.Value), typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("not valid JSON: %s", syntaxReason(syntaxErr.Error()))
	}
	// A value's own UnmarshalJSON failed (time.Time's quotes the value).
	return fmt.Errorf("a value did not decode (%T)", err)
}

// jsonKind names the JSON type of an UnmarshalTypeError's Value, which
// segmentio fills with a type name or the quoted start of the value.
func jsonKind(value string) string {
	switch value {
	case "string", "number", "array", "object", "bool", "null":
		return value
	}
	if strings.HasPrefix(value, "number ") { // "number 1e999 overflows"
		return "number"
	}
	if unquoted, err := strconv.Unquote(value); err == nil {
		return kindOf([]byte(unquoted))
	}
	return "value"
}

// kindOf names the JSON type of the value that raw starts with.
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "value"
	}
	switch c := raw[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't', c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '-', c >= '0' && c <= '9':
		return "number"
	}
	return "value"
}

// syntaxReason is a SyntaxError's message without the body it quotes:
// segmentio writes "json: <reason>: <up to 32 bytes of the body>", and no
// reason holds ": ". A reason may show one byte of the body ("invalid
// character 'x'"), which is no one's data.
func syntaxReason(msg string) string {
	msg = strings.TrimPrefix(msg, "json: ")
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[:i]
	}
	const maxReason = 80 // the longest reason is 62 bytes
	if len(msg) > maxReason {
		return "syntax error"
	}
	return msg
}
