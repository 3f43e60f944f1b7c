package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// nodeMembership is what paginate.js prints per record.
type nodeMembership struct {
	GID        string `json:"gid"`
	IsActive   bool   `json:"is_active"`
	IsGuest    bool   `json:"is_guest"`
	IsAdmin    bool   `json:"is_admin"`
	IsViewOnly bool   `json:"is_view_only"`
}

// runNodeClient paginates one workspace with Asana's official Node client
// (npm asana@3.2.0). It fails the test, never skips, when Node or the
// package is missing: `make test` installs them.
func runNodeClient(t *testing.T, srv *asanatest.Server, token, gid string, extraEnv ...string) (pages int, got []nodeMembership, stderr string, err error) {
	t.Helper()
	dir := filepath.Join("testdata", "nodeclient")
	node, lookErr := exec.LookPath("node")
	if lookErr != nil {
		t.Fatal("node is not installed; the Node-client conformance test needs it (see .ci/run)")
	}
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "asana", "package.json")); statErr != nil {
		t.Fatalf("npm package asana is not installed: run `make test-deps` (npm ci in %s)", dir)
	}
	cmd := exec.Command(node, "paginate.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ASANA_BASE_URL="+srv.BaseURL, "ASANA_TOKEN="+token, "ASANA_WORKSPACE_GID="+gid)
	cmd.Env = append(cmd.Env, extraEnv...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return 0, nil, errOut.String(), err
	}
	var result struct {
		Pages       int              `json:"pages"`
		Memberships []nodeMembership `json:"memberships"`
	}
	if err := json.Unmarshal(out.Bytes(), &result); err != nil {
		t.Fatalf("paginate.js printed %q: %v", out.String(), err)
	}
	return result.Pages, result.Memberships, errOut.String(), nil
}

func TestOfficialNodeClientSeesEveryMembership(t *testing.T) {
	spec := asanatest.WorkspaceSpec{Licensed: 900, Admins: 20, Pending: 30, ViewOnly: 60, Guests: 250, Inactive: 24, Readded: 6}
	srv, gid := newServer(t, asanatest.Config{}, spec, asanatest.WorkspaceSpec{})
	var want []nodeMembership
	var empty string
	srv.Mutate(func(o *asanatest.Org) {
		for _, m := range o.Workspace(gid).Memberships {
			want = append(want, nodeMembership{m.GID, m.IsActive, m.IsGuest, m.IsAdmin, m.IsViewOnly})
		}
		empty = o.Workspaces[1].GID
	})

	pages, got, stderr, err := runNodeClient(t, srv, tok, gid)
	if err != nil {
		t.Fatalf("paginate.js: %v: %s", err, stderr)
	}
	if pages != 13 {
		t.Errorf("Node client fetched %d pages of 1234 memberships, want 13", pages)
	}
	if len(got) != len(want) {
		t.Fatalf("Node client saw %d memberships, want %d", len(got), len(want))
	}
	var seats asana.SeatCounts
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d: Node client saw %+v, want %+v", i, got[i], want[i])
		}
		seats.Add(&asana.Membership{IsActive: got[i].IsActive, IsAdmin: got[i].IsAdmin, IsGuest: got[i].IsGuest, IsViewOnly: got[i].IsViewOnly})
	}
	if seats != spec.Seats() {
		t.Errorf("seats from the Node client's records %+v, want %+v", seats, spec.Seats())
	}
	for i, r := range srv.Requests() {
		if r.Query.Get("limit") != "100" || r.Query.Get("opt_fields") != "is_active,is_guest,is_admin,is_view_only" || r.Status != 200 || (i > 0) != r.Query.Has("offset") {
			t.Errorf("Node client request %d: %+v", i, r)
		}
	}

	pages, got, stderr, err = runNodeClient(t, srv, tok, empty)
	if err != nil || pages != 1 || len(got) != 0 {
		t.Errorf("empty workspace: pages %d, %d records, err %v %s", pages, len(got), err, stderr)
	}
}

func TestOfficialNodeClientSeesAsanaErrors(t *testing.T) {
	srv, gid := newServer(t, asanatest.Config{}, asanatest.WorkspaceSpec{Licensed: 5})
	cases := []struct {
		token string
		env   []string
		want  string
	}{
		{"wrong-token", nil, "HTTP 401: Not Authorized"},
		{tok, []string{"ASANA_LIMIT=101"}, "HTTP 400: limit: "},
	}
	for _, tc := range cases {
		_, _, stderr, err := runNodeClient(t, srv, tc.token, gid, tc.env...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("token %q env %v: err %v, stderr %q, want %q", tc.token, tc.env, err, stderr, tc.want)
		}
	}
}
