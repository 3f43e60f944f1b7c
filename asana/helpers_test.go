package asana_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// recorder is an asana.Observer that remembers what it was told.
type recorder struct {
	mu          sync.Mutex
	requests    map[string]map[int]int // endpoint -> code -> count
	rateLimited map[string]int
	retries     map[string]int
	duplicates  map[string]int
}

func newRecorder() *recorder {
	return &recorder{requests: map[string]map[int]int{}, rateLimited: map[string]int{}, retries: map[string]int{}, duplicates: map[string]int{}}
}

func (r *recorder) Request(endpoint string, code int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.requests[endpoint] == nil {
		r.requests[endpoint] = map[int]int{}
	}
	r.requests[endpoint][code]++
}

func (r *recorder) RateLimited(endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rateLimited[endpoint]++
}

func (r *recorder) Retry(endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries[endpoint]++
}

func (r *recorder) DuplicatesDropped(endpoint string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.duplicates[endpoint] += n
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	srv    *asanatest.Server
	client *asana.Client
	obs    *recorder
	logs   *syncBuffer
	first  *asanatest.Workspace // the first workspace, as generated
}

// newHarness starts a simulated Asana with one workspace per spec and a
// client with fast retries pointed at it. tune may adjust both configs.
func newHarness(t *testing.T, cfg asanatest.Config, tune func(*asana.Options), specs ...asanatest.WorkspaceSpec) *harness {
	t.Helper()
	org := asanatest.Generate(1, specs...)
	h := &harness{srv: asanatest.NewServer(org, cfg), obs: newRecorder(), logs: &syncBuffer{}, first: org.Workspaces[0]}
	t.Cleanup(h.srv.Close)
	h.client = h.srv.NewClient(func(o *asana.Options) {
		o.UserAgent = "asana_exporter/test"
		o.RetryBaseDelay, o.RetryMaxDelay = 10*time.Millisecond, 50*time.Millisecond
		o.Observer = h.obs
		o.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if tune != nil {
			tune(o)
		}
	})
	return h
}

func (h *harness) workspace(i int) string {
	return h.srv.WorkspaceGIDs()[i]
}

func withToken(t *testing.T, token string) func(*asana.Options) {
	return func(o *asana.Options) {
		tr, err := asana.BearerToken(token, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Transport = tr
	}
}
