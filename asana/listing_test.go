package asana_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/testutil/pagetest"
)

// The hostile servers below each do one thing wrong, on workspace "1".
const membersPath = "/workspaces/1/workspace_memberships"

// gids are membership gids of Asana's length; the user gids pagetest
// makes from them are 9 followed by the same digits.
const (
	gid1 = "1200000000000001"
	gid2 = "1200000000000002"
	gid3 = "1200000000000003"
)

// gidTally records the gids a count gave its Tally.
type gidTally struct {
	gids   []string
	resets int
}

func (t *gidTally) Reset() { t.gids, t.resets = nil, t.resets+1 }
func (t *gidTally) Add(page []asana.Membership) {
	for _, m := range page {
		t.gids = append(t.gids, m.GID)
	}
}

// memberListers list workspace "1" through each way the client lists
// memberships, and return the gids the caller was given, or none and the
// error.
var memberListers = []struct {
	name string
	list func(context.Context, *asana.Client) ([]string, error)
}{
	{"CountSeats", func(ctx context.Context, c *asana.Client) ([]string, error) {
		tally := &gidTally{}
		got, err := c.CountSeats(ctx, "1", asana.CountOptions{Tally: tally})
		switch {
		case err != nil && got != (asana.SeatListing{}):
			return nil, fmt.Errorf("a failed count returned %+v", got)
		case err != nil:
			return nil, err
		case got.Seats.Total() != len(tally.gids):
			return nil, fmt.Errorf("counted %d memberships, the tally saw %d", got.Seats.Total(), len(tally.gids))
		}
		return tally.gids, nil
	}},
	{"EachMembershipPage", func(ctx context.Context, c *asana.Client) ([]string, error) {
		var gids []string
		_, err := c.EachMembershipPage(ctx, "1", asana.Roster, func() error {
			gids = nil
			return nil
		}, func(p asana.MembershipPage) error {
			for _, m := range p.Items {
				gids = append(gids, m.GID)
			}
			return nil
		})
		if err != nil {
			return nil, err // what the pages gave is the caller's to drop
		}
		return gids, nil
	}},
}

func workspace(gid string) string {
	return fmt.Sprintf(`{"gid":%q,"name":"Workspace %s","is_organization":true,"email_domains":["acme.example"]}`, gid, gid)
}

func workspaceGIDs(ws []asana.Workspace) []string {
	var gids []string
	for _, w := range ws {
		gids = append(gids, w.GID)
	}
	return gids
}

// A page with no records but a next_page is not the end: a listing that
// filters after paging sends such pages.
func TestListingEmptyPageWithNextPageIsNotTheEnd(t *testing.T) {
	for _, l := range memberListers {
		t.Run(l.name, func(t *testing.T) {
			srv := pagetest.New(t)
			srv.On(membersPath, "", pagetest.Page("a", pagetest.Member(gid1)))
			srv.On(membersPath, "a", pagetest.Page("b"))
			srv.On(membersPath, "b", pagetest.Page("", pagetest.Member(gid2)))
			gids, err := l.list(context.Background(), srv.Client(t, nil, nil))
			if err != nil || !slices.Equal(gids, []string{gid1, gid2}) {
				t.Errorf("listed %v, %v; want the records before and after the empty page", gids, err)
			}
		})
	}
	t.Run("Workspaces", func(t *testing.T) {
		srv := pagetest.New(t)
		srv.On("/workspaces", "", pagetest.Page("a", workspace("1")))
		srv.On("/workspaces", "a", pagetest.Page("b"))
		srv.On("/workspaces", "b", pagetest.Page("", workspace("2")))
		ws, err := srv.Client(t, nil, nil).Workspaces(context.Background())
		if got := workspaceGIDs(ws); err != nil || !slices.Equal(got, []string{"1", "2"}) {
			t.Errorf("listed %v, %v; want 1 and 2", got, err)
		}
	})
}

// A gid given twice, on two pages or on one, is counted once; the drop is
// reported to the Observer and logged once, without any gid.
func TestListingDropsDuplicateGIDs(t *testing.T) {
	for _, l := range memberListers {
		t.Run(l.name, func(t *testing.T) {
			srv := pagetest.New(t)
			srv.On(membersPath, "", pagetest.Page("a", pagetest.Member(gid1), pagetest.Member(gid2)))
			srv.On(membersPath, "a", pagetest.Page("", pagetest.Member(gid2), pagetest.Member(gid3), pagetest.Member(gid3)))
			var dropped pagetest.Dropped
			var logs pagetest.Log
			gids, err := l.list(context.Background(), srv.Client(t, &dropped, &logs))
			if err != nil || !slices.Equal(gids, []string{gid1, gid2, gid3}) {
				t.Errorf("listed %v, %v; want each gid once", gids, err)
			}
			if n := dropped.Of(asana.EndpointWorkspaceMemberships); n != 2 {
				t.Errorf("%d duplicates reported, want 2", n)
			}
			lines := logs.Lines()
			if len(lines) != 1 || !strings.Contains(lines[0], "dropped=2") || !strings.Contains(lines[0], "workspace=1") {
				t.Fatalf("logged %q, want one line with the count and the workspace", lines)
			}
			for _, gid := range []string{gid1, gid2, gid3, "9" + gid1} {
				if strings.Contains(lines[0], gid) {
					t.Errorf("the log line names gid %s: %s", gid, lines[0])
				}
			}
		})
	}
	t.Run("Workspaces", func(t *testing.T) {
		srv := pagetest.New(t)
		srv.On("/workspaces", "", pagetest.Page("a", workspace("1"), workspace("2")))
		srv.On("/workspaces", "a", pagetest.Page("", workspace("2")))
		var dropped pagetest.Dropped
		ws, err := srv.Client(t, &dropped, nil).Workspaces(context.Background())
		if got := workspaceGIDs(ws); err != nil || !slices.Equal(got, []string{"1", "2"}) {
			t.Errorf("listed %v, %v; want 1 and 2", got, err)
		}
		if n := dropped.Of(asana.EndpointWorkspaces); n != 1 {
			t.Errorf("%d duplicates reported, want 1", n)
		}
	})
}

// When the listing starts over, the gids of the abandoned one are not
// duplicates: the listing gives them again.
func TestListingRestartForgetsTheGIDsItSaw(t *testing.T) {
	for _, l := range memberListers {
		t.Run(l.name, func(t *testing.T) {
			srv := pagetest.New(t)
			srv.On(membersPath, "", pagetest.Page("a", pagetest.Member(gid1), pagetest.Member(gid2)))
			srv.On(membersPath, "a", pagetest.Expired(), pagetest.Page("", pagetest.Member(gid3)))
			var dropped pagetest.Dropped
			gids, err := l.list(context.Background(), srv.Client(t, &dropped, nil))
			if err != nil || !slices.Equal(gids, []string{gid1, gid2, gid3}) {
				t.Errorf("listed %v, %v; want every gid once, from the second listing", gids, err)
			}
			if n := dropped.Of(asana.EndpointWorkspaceMemberships); n != 0 {
				t.Errorf("%d duplicates reported after a restart, want 0", n)
			}
			if n := len(srv.Requests()); n != 4 {
				t.Errorf("%d requests, want 4: two pages, the second expired, then both again", n)
			}
		})
	}
}

// A record without the flags a count needs (what a listing sends when it
// ignores opt_fields) fails the listing, naming the field, at once.
func TestListingRejectsIncompleteRecords(t *testing.T) {
	for _, c := range []struct {
		name, record string
		kind         asana.Kind
		says         []string
	}{
		{"compact", `{"gid":"` + gid2 + `","resource_type":"workspace_membership"}`, asana.ErrIncompleteRecord,
			[]string{"page 1, record 2 has no is_active", "opt_fields"}},
		{"no is_view_only", `{"gid":"` + gid2 + `","is_active":true,"is_guest":false,"is_admin":false}`, asana.ErrIncompleteRecord,
			[]string{"has no is_view_only", "opt_fields=is_active,is_guest,is_admin,is_view_only"}},
		{"null is_guest", `{"gid":"` + gid2 + `","is_active":true,"is_guest":null,"is_admin":false,"is_view_only":false}`, asana.ErrIncompleteRecord,
			[]string{"has no is_guest"}},
		{"no gid", `{"is_active":true,"is_guest":false,"is_admin":false,"is_view_only":false}`, asana.ErrIncompleteRecord,
			[]string{"record 2 has no gid"}},
		{"flag of another type", `{"gid":"` + gid2 + `","is_active":"secret-yes","is_guest":false,"is_admin":false,"is_view_only":false}`, asana.ErrMalformedResponse,
			[]string{"page 1, record 2 has an is_active that is neither true nor false"}},
	} {
		for _, l := range memberListers {
			t.Run(c.name+"/"+l.name, func(t *testing.T) {
				srv := pagetest.New(t)
				srv.On(membersPath, "", pagetest.Page("a", pagetest.Member(gid1), c.record))
				srv.On(membersPath, "a", pagetest.Page("", pagetest.Member(gid3)))
				gids, err := l.list(context.Background(), srv.Client(t, nil, nil))
				if !errors.Is(err, c.kind) || gids != nil {
					t.Fatalf("listed %v, %v; want no gid and %q", gids, err, c.kind)
				}
				for _, s := range c.says {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				if strings.Contains(err.Error(), "secret-yes") {
					t.Errorf("error %q quotes the value", err)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Errorf("%d requests, want 1: the same request gets the same answer", n)
				}
			})
		}
	}
	t.Run("Workspaces", func(t *testing.T) {
		srv := pagetest.New(t)
		srv.On("/workspaces", "", pagetest.Page("", workspace("1"), `{"name":"No gid"}`))
		ws, err := srv.Client(t, nil, nil).Workspaces(context.Background())
		if !errors.Is(err, asana.ErrIncompleteRecord) || !strings.Contains(fmt.Sprint(err), "record 2 has no gid") {
			t.Errorf("listed %v, %v; want %q", ws, err, asana.ErrIncompleteRecord)
		}
	})
}

// An offset that an earlier page gave fails the listing at once, naming
// the pages, rather than going round until the deadline.
func TestListingFailsOnAnOffsetCycle(t *testing.T) {
	long := strings.Repeat("B", 300)
	for _, l := range memberListers {
		t.Run(l.name, func(t *testing.T) {
			srv := pagetest.New(t)
			srv.On(membersPath, "", pagetest.Page("A", pagetest.Member(gid1)))
			srv.On(membersPath, "A", pagetest.Page(long, pagetest.Member(gid2)))
			srv.On(membersPath, long, pagetest.Page("A", pagetest.Member(gid3)))
			gids, err := l.list(context.Background(), srv.Client(t, nil, nil))
			if !errors.Is(err, asana.ErrMalformedResponse) || gids != nil {
				t.Fatalf("listed %v, %v; want no gid and %q", gids, err, asana.ErrMalformedResponse)
			}
			if want := `page 3: next_page offset "A" repeats the one page 1 gave: the listing would loop`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if n := len(srv.Requests()); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
		})
	}
	t.Run("Workspaces", func(t *testing.T) {
		srv := pagetest.New(t)
		srv.On("/workspaces", "", pagetest.Page(long, workspace("1")))
		srv.On("/workspaces", long, pagetest.Page(long, workspace("2")))
		_, err := srv.Client(t, nil, nil).Workspaces(context.Background())
		if !errors.Is(err, asana.ErrMalformedResponse) || !strings.Contains(fmt.Sprint(err), "repeats the one page 1 gave") {
			t.Fatalf("err = %v, want the loop named", err)
		}
		if strings.Contains(err.Error(), long[:20]) {
			t.Errorf("error %q quotes more than an excerpt of the offset", err)
		}
	})
	t.Run("no offset", func(t *testing.T) {
		srv := pagetest.New(t)
		srv.On("/workspaces", "", pagetest.Reply{Status: 200, Body: `{"data":[],"next_page":{"offset":""}}`})
		_, err := srv.Client(t, nil, nil).Workspaces(context.Background())
		if !errors.Is(err, asana.ErrMalformedResponse) || !strings.Contains(fmt.Sprint(err), "page 1 has a next_page without an offset") {
			t.Fatalf("err = %v, want the missing offset named", err)
		}
	})
}
