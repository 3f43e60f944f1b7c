// Package pagetest serves listings from a script, page by page, so that a
// test can make Asana misbehave in exactly one way: a page that repeats a
// record, an empty page that is not the last, compact records, offsets that
// go round in a circle. The simulator (asana/asanatest) is a whole Asana;
// this is the smallest server that does one wrong thing.
package pagetest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Reply is one answer: a status and a body.
type Reply struct {
	Status int
	Body   string
}

// Page is a 200 with records (JSON objects) and a next_page with offset
// next, or a null next_page when next is "".
func Page(next string, records ...string) Reply {
	np := "null"
	if next != "" {
		np = fmt.Sprintf(`{"offset":%q,"path":"/x?limit=100&offset=%s"}`, next, next)
	}
	return Reply{Status: http.StatusOK, Body: `{"data":[` + strings.Join(records, ",") + `],"next_page":` + np + `}`}
}

// Expired is Asana's answer to an offset that expired.
func Expired() Reply {
	return Reply{Status: http.StatusBadRequest, Body: `{"errors":[{"message":"offset: Your pagination token has expired."}]}`}
}

// Member is a full membership record, as opt_fields asks for it: active,
// licensed, with a user.
func Member(gid string) string {
	return fmt.Sprintf(`{"gid":%q,"resource_type":"workspace_membership","is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false,`+
		`"created_at":"2024-01-02T03:04:05.000Z","user":{"gid":"9%s","name":"User %s","email":"user%s@acme.example"}}`, gid, gid, gid, gid)
}

// Server answers from its script and records what it was asked.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	script   map[string][]Reply // path and offset -> replies, in turn
	requests []string           // path?offset of each request
}

// New starts a server that answers 404 to anything not scripted.
func New(t testing.TB) *Server {
	s := &Server{script: map[string][]Reply{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func key(path, offset string) string { return path + "?offset=" + offset }

// On scripts the answers to GET path with offset ("" for the first page):
// one per request, in turn, the last for every request after.
func (s *Server) On(path, offset string, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[key(path, offset)] = replies
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	k := key(r.URL.Path, r.URL.Query().Get("offset"))
	s.mu.Lock()
	s.requests = append(s.requests, k)
	replies := s.script[k]
	reply := Reply{Status: http.StatusNotFound, Body: `{"errors":[{"message":"No matching route for request"}]}`}
	if len(replies) > 0 {
		reply = replies[0]
		if len(replies) > 1 {
			s.script[k] = replies[1:]
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	w.Write([]byte(reply.Body))
}

// Requests are the path?offset=… of every request, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Client is an asana.Client for the server, with fast retries, that
// reports to obs and logs to logs; either may be nil.
func (s *Server) Client(t testing.TB, obs asana.Observer, logs *Log) *asana.Client {
	t.Helper()
	bearer, err := asana.BearerToken("1/1:pagetest", nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := asana.Options{BaseURL: s.URL, Transport: bearer, RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, Observer: obs}
	if logs != nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	c, err := asana.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Log collects a client's log lines.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines are the lines logged so far.
func (l *Log) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.FieldsFunc(l.b.String(), func(r rune) bool { return r == '\n' })
}

// Dropped counts the duplicates a client reports: an asana.Observer.
type Dropped struct {
	mu sync.Mutex
	n  map[string]int // endpoint -> records
}

func (d *Dropped) Request(string, int, time.Duration) {}
func (d *Dropped) RateLimited(string)                 {}
func (d *Dropped) Retry(string)                       {}
func (d *Dropped) DuplicatesDropped(endpoint string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[endpoint] += n
}

// Of is how many duplicates were reported for endpoint.
func (d *Dropped) Of(endpoint string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[endpoint]
}
