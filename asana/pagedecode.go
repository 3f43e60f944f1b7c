package asana

import "encoding/json"

// decodeMembershipPage decodes one workspace_memberships page into p.
//
// Pages are decoded once per request, and on a latency-bound listing the CPU
// finds its caches cold each time, so encoding/json's reflection costs more
// than everything else the client does with a page. The page shape the client
// asks for (gid and the four seat flags, strings without escapes) is read
// here in one pass, without reflection. Anything else, such as escapes, user
// objects, a key that differs from a field's name only in case, or a syntax
// error, goes to encoding/json, so the result and any error are always
// encoding/json's (FuzzDecodeClassifyPage checks this).
func decodeMembershipPage(body []byte, p *listPage[Membership]) error {
	p.reset()
	if fastDecodePage(body, p) {
		return nil
	}
	p.reset()
	return json.Unmarshal(body, p)
}

// fastDecodePage reports whether it decoded body. When it returns false, p
// holds a partial page that the caller must reset.
func fastDecodePage(body []byte, p *listPage[Membership]) bool {
	s := pageScanner{b: body}
	var seenData, seenNext bool
	return s.object(func(key []byte) bool {
		switch {
		case string(key) == "data" && !seenData:
			seenData = true
			return s.membershipArray(p)
		case string(key) == "next_page" && !seenNext:
			seenNext = true
			return s.nextPage(p)
		case foldsToAny(key, "data", "next_page"):
			return false // a repeat, or a key encoding/json matches regardless of case
		}
		return s.skipValue(0)
	}) && s.end()
}

// pageScanner reads JSON from b. Its methods report false for anything they
// do not handle; the caller then leaves the page to encoding/json.
type pageScanner struct {
	b []byte
	i int
}

// maxSkipDepth bounds recursion in skipValue; deeper values go to
// encoding/json, which has its own limit.
const maxSkipDepth = 64

func (s *pageScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, if c is next.
func (s *pageScanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *pageScanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

func (s *pageScanner) literal(word string) bool {
	s.space()
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// plainString reads a string of printable ASCII without escapes: every gid,
// key and offset Asana sends. Its bytes alias b.
func (s *pageScanner) plainString() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// key reads an object key and its colon. Callers compare it with
// string(key) == "...", which does not allocate.
func (s *pageScanner) key() ([]byte, bool) {
	k, ok := s.plainString()
	return k, ok && s.consume(':')
}

// flag reads a JSON boolean into *v; null leaves *v alone, as in
// encoding/json.
func (s *pageScanner) flag(v *bool) bool {
	switch {
	case s.literal("true"):
		*v = true
	case s.literal("false"):
		*v = false
	case s.literal("null"):
	default:
		return false
	}
	return true
}

// text reads a plain string into *v; null leaves *v alone.
func (s *pageScanner) text(v *string) bool {
	if s.literal("null") {
		return true
	}
	b, ok := s.plainString()
	if ok {
		*v = string(b)
	}
	return ok
}

func (s *pageScanner) membershipArray(p *listPage[Membership]) bool {
	if s.literal("null") {
		p.Data = nil
		return true
	}
	return s.array(func() bool {
		p.Data = append(p.Data, Membership{}) // zeroed by reset, even when reused
		return s.membership(&p.Data[len(p.Data)-1])
	})
}

func (s *pageScanner) membership(m *Membership) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "gid":
			return s.text(&m.GID)
		case "is_active":
			return s.flag(&m.IsActive)
		case "is_admin":
			return s.flag(&m.IsAdmin)
		case "is_guest":
			return s.flag(&m.IsGuest)
		case "is_view_only":
			return s.flag(&m.IsViewOnly)
		case "user":
			return s.literal("null") // a user object goes to encoding/json
		}
		return !foldsToAny(key, "gid", "is_active", "is_admin", "is_guest", "is_view_only", "user") && s.skipValue(0)
	})
}

func (s *pageScanner) nextPage(p *listPage[Membership]) bool {
	if s.literal("null") {
		p.NextPage = nil
		return true
	}
	p.NextPage = &nextPage{}
	return s.object(func(key []byte) bool {
		switch {
		case string(key) == "offset":
			return s.text(&p.NextPage.Offset)
		case foldsToAny(key, "offset"):
			return false
		}
		return s.skipValue(0)
	})
}

// object reads an object whose keys are plain strings, handing each key to
// field, which must read the value.
func (s *pageScanner) object(field func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.key()
		if !ok || !field(key) {
			return false
		}
		if !s.consume(',') {
			return s.consume('}')
		}
	}
}

// array reads an array, calling elem to read each element.
func (s *pageScanner) array(elem func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if !s.consume(',') {
			return s.consume(']')
		}
	}
}

// foldsToAny reports whether the ASCII key equals one of names but for
// case: encoding/json would match it to that field.
func foldsToAny(key []byte, names ...string) bool {
	for _, n := range names {
		if len(key) == len(n) && asciiFold(key, n) {
			return true
		}
	}
	return false
}

func asciiFold(key []byte, name string) bool {
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] { // names are lower case
			return false
		}
	}
	return true
}

// skipValue steps over any valid JSON value, checking its syntax as
// encoding/json would.
func (s *pageScanner) skipValue(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	s.space()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		return s.skipString()
	case '{':
		// A key with escapes ends the fast path here; encoding/json reads it.
		return s.object(func([]byte) bool { return s.skipValue(depth + 1) })
	case '[':
		return s.array(func() bool { return s.skipValue(depth + 1) })
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.skipNumber()
	}
}

// skipString steps over a string at s.i, escapes included. Like
// encoding/json it accepts any byte from 0x20 up, valid UTF-8 or not.
func (s *pageScanner) skipString() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.i+4 >= len(s.b) {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipNumber steps over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *pageScanner) skipNumber() bool {
	digits := func() int {
		start := s.i
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
		}
		return s.i - start
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
