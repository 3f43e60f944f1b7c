package roster_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/pagetest"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

const (
	gid1 = "1200000000000001"
	gid2 = "1200000000000002"
	gid3 = "1200000000000003"
)

func membersPath(workspace string) string {
	return "/workspaces/" + workspace + "/workspace_memberships"
}

// progress records what a roster's Progress tally was given.
type progress struct {
	resets, members int
}

func (p *progress) Reset()                    { p.resets++; p.members = 0 }
func (p *progress) Add(ms []asana.Membership) { p.members += len(ms) }

// list lists the roster of workspaces "1" and "2" from srv, and returns the
// listings and the tally of workspace "1".
func list(t *testing.T, srv *pagetest.Server) (roster.Listings, *progress) {
	t.Helper()
	tally := &progress{}
	ls := roster.List(context.Background(), srv.Client(t, nil, nil),
		[]asana.Workspace{{GID: "1", Name: "Acme"}, {GID: "2", Name: "Side"}},
		roster.ListOptions{Concurrency: 1, Progress: func(w asana.Workspace) asana.Tally {
			if w.GID == "1" {
				return tally
			}
			return nil
		}})
	t.Cleanup(ls.Close)
	return ls, tally
}

// rows are the membership gids of a listing's rows.
func rows(t *testing.T, l *roster.Listing) []string {
	t.Helper()
	var gids []string
	if err := l.Each(func(e roster.Entry) error {
		gids = append(gids, e.MembershipGID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return gids
}

// sideWorkspace serves workspace "2", which behaves.
func sideWorkspace(srv *pagetest.Server) {
	srv.On(membersPath("2"), "", pagetest.Page("", pagetest.Member("1300000000000001")))
}

func TestListStartsOverWhenTheOffsetExpires(t *testing.T) {
	srv := pagetest.New(t)
	sideWorkspace(srv)
	srv.On(membersPath("1"), "", pagetest.Page("a", pagetest.Member(gid1), pagetest.Member(gid2)))
	srv.On(membersPath("1"), "a", pagetest.Expired(), pagetest.Page("", pagetest.Member(gid3)))
	ls, tally := list(t, srv)
	if err := ls[0].Err; err != nil {
		t.Fatal(err)
	}
	if got := rows(t, ls[0]); !slices.Equal(got, []string{gid1, gid2, gid3}) || ls[0].Rows() != 3 {
		t.Errorf("rows %v (Rows %d), want each membership once: the first listing's rows are dropped", got, ls[0].Rows())
	}
	if tally.resets != 2 || tally.members != 3 {
		t.Errorf("progress reset %d times and holds %d members, want 2 and 3", tally.resets, tally.members)
	}
}

func TestListWritesADuplicateOnce(t *testing.T) {
	srv := pagetest.New(t)
	sideWorkspace(srv)
	srv.On(membersPath("1"), "", pagetest.Page("a", pagetest.Member(gid1), pagetest.Member(gid2)))
	srv.On(membersPath("1"), "a", pagetest.Page("b", pagetest.Member(gid2)))
	srv.On(membersPath("1"), "b", pagetest.Page("", pagetest.Member(gid3), pagetest.Member(gid1)))
	ls, tally := list(t, srv)
	if got := rows(t, ls[0]); !slices.Equal(got, []string{gid1, gid2, gid3}) {
		t.Errorf("rows %v, want each membership once", got)
	}
	if tally.members != 3 {
		t.Errorf("progress saw %d members, want 3", tally.members)
	}
}

// A listing that fails leaves no row of its workspace, in Each and in the
// written roster; the other workspace keeps its rows.
func TestListFailureLeavesNoRows(t *testing.T) {
	for name, second := range map[string]pagetest.Reply{
		"compact records": pagetest.Page("", `{"gid":"`+gid3+`","resource_type":"workspace_membership"}`),
		"offset cycle":    pagetest.Page("a", pagetest.Member(gid3)),
		"server error":    {Status: 500, Body: `{"errors":[{"message":"Server Error","phrase":"6 sad squid snuggle softly"}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := pagetest.New(t)
			sideWorkspace(srv)
			srv.On(membersPath("1"), "", pagetest.Page("a", pagetest.Member(gid1), pagetest.Member(gid2)))
			srv.On(membersPath("1"), "a", second)
			ls, _ := list(t, srv)
			failed := ls.Failed()
			if len(failed) != 1 || failed[0] != ls[0] {
				t.Fatalf("failed listings %v, want workspace 1's alone", failed)
			}
			var apiErr *asana.Error
			if !errors.As(ls[0].Err, &apiErr) {
				t.Errorf("err = %v, want an *asana.Error", ls[0].Err)
			}
			if ls[0].Rows() != 0 || !errors.Is(ls[0].Each(func(roster.Entry) error { return nil }), ls[0].Err) {
				t.Errorf("a failed listing has %d rows", ls[0].Rows())
			}
			var out bytes.Buffer
			if err := ls.Write(&out, roster.WriteOptions{Format: roster.CSV}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 || strings.Contains(out.String(), gid1) || !strings.Contains(lines[1], "1300000000000001") {
				t.Errorf("roster:\n%s\nwant the header and workspace 2's row alone", out.String())
			}
		})
	}
}
