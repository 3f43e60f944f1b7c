// Package rogue plays what Asana's spec rules out and asanatest therefore
// never does: a redirect to another host, a body nested ten million deep,
// pages that are empty, repeat a record or loop back, records that ignore
// opt_fields. A Front stands in front of the simulator as an
// http.Handler, as httptest.Server stands in front of a handler: every
// request goes on to the simulator unless a misbehaviour is set for it, so
// the rest of the organisation stays real.
package rogue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// APIPrefix is the API root's path, which every path here follows.
const APIPrefix = "/api/1.0"

// Match picks the requests a misbehaviour is for.
type Match func(*http.Request) bool

// Path matches the requests for path (without APIPrefix), every page.
func Path(path string) Match {
	return func(r *http.Request) bool { return r.URL.Path == APIPrefix+path }
}

// Query matches the requests whose query has key=value.
func Query(key, value string) Match {
	return func(r *http.Request) bool { return r.URL.Query().Get(key) == value }
}

// Offset matches the requests that carry an offset: a listing's later
// pages, or a caught-up audit stream.
func Offset(r *http.Request) bool { return r.URL.Query().Has("offset") }

// All matches the requests that every one of ms matches.
func All(ms ...Match) Match {
	return func(r *http.Request) bool {
		for _, m := range ms {
			if !m(r) {
				return false
			}
		}
		return true
	}
}

// Act answers a request in the simulator's place, or forwards it and
// changes the answer.
type Act func(f *Front, w http.ResponseWriter, r *http.Request)

// Rule is a misbehaviour set with On.
type Rule struct {
	f     *Front
	match Match
	times int
	act   Act
	hits  int
}

// Hits is how many requests the rule has answered.
func (r *Rule) Hits() int {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.hits
}

// Front is the hostile server's handler. Make it with New.
type Front struct {
	next http.Handler

	mu    sync.Mutex
	rules []*Rule
	// aliases are the offsets the front made up, each standing for a real
	// offset of the simulator's.
	aliases map[string]string
	// last is, by path, the last record of the last page the front passed
	// on: what Repeat serves again.
	last map[string]json.RawMessage
}

// New returns a Front that passes requests on to next.
func New(next http.Handler) *Front {
	return &Front{next: next, aliases: map[string]string{}, last: map[string]json.RawMessage{}}
}

// On makes the first times requests that match (every one when times is
// 0) misbehave as act says. The rule added first wins.
func (f *Front) On(match Match, times int, act Act) *Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &Rule{f: f, match: match, times: times, act: act}
	f.rules = append(f.rules, r)
	return r
}

// Clear removes every rule: the front passes everything on.
func (f *Front) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	q := r.URL.Query()
	if real, ok := f.aliases[q.Get("offset")]; ok {
		q.Set("offset", real)
		r.URL.RawQuery = q.Encode()
	}
	var act Act
	for _, rule := range f.rules {
		if (rule.times == 0 || rule.hits < rule.times) && rule.match(r) {
			rule.hits++
			act = rule.act
			break
		}
	}
	f.mu.Unlock()
	if act == nil {
		f.forward(w, r, nil)
		return
	}
	act(f, w, r)
}

// page is a listing page as the simulator answers it.
type page struct {
	Data []json.RawMessage `json:"data"`
	Next *nextPage         `json:"next_page"`
}

// nextPage is a page's next_page.
type nextPage struct {
	Offset string `json:"offset"`
	Path   string `json:"path,omitempty"`
	URI    string `json:"uri,omitempty"`
}

// setOffset points the page's next_page at offset.
func (p *page) setOffset(offset string) {
	n := p.Next
	n.Path, n.URI = strings.ReplaceAll(n.Path, n.Offset, offset), strings.ReplaceAll(n.URI, n.Offset, offset)
	n.Offset = offset
}

// forward passes r on to the simulator. A 200 listing page is edited by
// edit, when set, and its last record kept for Repeat; anything else is
// passed back as it came.
func (f *Front) forward(w http.ResponseWriter, r *http.Request, edit func(*page)) {
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var p page
	if rec.Code == http.StatusOK && json.Unmarshal(body, &p) == nil && p.Data != nil {
		if edit != nil {
			edit(&p)
			body, _ = json.Marshal(p)
		}
		if n := len(p.Data); n > 0 {
			f.mu.Lock()
			f.last[r.URL.Path] = p.Data[n-1]
			f.mu.Unlock()
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// alias makes up an offset that stands for real.
func (f *Front) alias(name, real string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aliases[name] = real
	return name
}

// Reply answers with status, header and body, whatever was asked.
func Reply(status int, header http.Header, body string) Act {
	return func(_ *Front, w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

// ErrorBody is Asana's error body for message.
func ErrorBody(message string) string {
	b, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"message": message}}})
	return string(b)
}

// Redirect answers 302 to the same path and query at base (scheme and
// host, as httptest.Server.URL is).
func Redirect(base string) Act {
	return func(_ *Front, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusFound)
	}
}

// nestingChunk is what Nested writes at a time.
var nestingChunk = bytes.Repeat([]byte("["), 64<<10)

// Nested answers 200 with {"data": followed by depth [, streamed, never
// closed: a decoder that recurses once per level runs out of stack.
func Nested(depth int) Act {
	return func(_ *Front, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(`{"data":`)+depth))
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"data":`))
		for left := depth; left > 0; left -= len(nestingChunk) {
			if _, err := w.Write(nestingChunk[:min(left, len(nestingChunk))]); err != nil {
				return // the client stopped reading
			}
		}
	}
}

// Empty answers a page with no record whose next_page goes on from the
// offset asked for: the listing is not over.
func Empty() Act {
	var n int
	return func(f *Front, w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n++
		name := fmt.Sprintf("hostile-empty-%d", n)
		f.mu.Unlock()
		next := &nextPage{Offset: f.alias(name, r.URL.Query().Get("offset"))}
		body, _ := json.Marshal(page{Data: []json.RawMessage{}, Next: next})
		Reply(http.StatusOK, nil, string(body))(f, w, r)
	}
}

// Repeat serves the page asked for with the last record of the previous
// page of the same listing before its own.
func Repeat() Act {
	return func(f *Front, w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		last := f.last[r.URL.Path]
		f.mu.Unlock()
		f.forward(w, r, func(p *page) {
			if last != nil {
				p.Data = append([]json.RawMessage{last}, p.Data...)
			}
		})
	}
}

// Twice serves the page asked for with each record listed twice.
func Twice() Act {
	return func(f *Front, w http.ResponseWriter, r *http.Request) {
		f.forward(w, r, func(p *page) { p.Data = append(p.Data, p.Data...) })
	}
}

// Compact ignores opt_fields: the records come back compact, without
// is_active and the other flags, as Asana answers a request without it.
func Compact() Act {
	return func(f *Front, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Del("opt_fields")
		r.URL.RawQuery = q.Encode()
		f.forward(w, r, nil)
	}
}

// Loop makes a listing's offsets go A → B → A → B …: A is the first
// offset it is asked for, B an offset it makes up for A's next page, and
// B's next_page points back at A. Match it to the listing's later pages.
func Loop() Act {
	var a string
	return func(f *Front, w http.ResponseWriter, r *http.Request) {
		asked := r.URL.Query().Get("offset")
		f.mu.Lock()
		if a == "" {
			a = asked
		}
		fromA := asked == a
		f.mu.Unlock()
		f.forward(w, r, func(p *page) {
			switch {
			case p.Next == nil:
			case fromA:
				p.setOffset(f.alias("hostile-loop-B", p.Next.Offset))
			default:
				p.setOffset(a)
			}
		})
	}
}
