package e2e

import (
	"testing"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

const tok = asanatest.DefaultToken

// newServer serves a generated organisation of specs, and returns the first
// workspace's gid.
func newServer(t *testing.T, cfg asanatest.Config, specs ...asanatest.WorkspaceSpec) (*asanatest.Server, string) {
	t.Helper()
	srv := asanatest.NewServer(asanatest.Generate(7, specs...), cfg)
	t.Cleanup(srv.Close)
	return srv, srv.WorkspaceGIDs()[0]
}

// get is a GET of the simulated API that must answer JSON.
func get(t *testing.T, srv *asanatest.Server, token, path string) asanatest.Response {
	t.Helper()
	r, err := srv.Get(token, path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
