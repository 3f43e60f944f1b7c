package asana_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// spread makes a workspace of n memberships with every role in it.
func spread(n int) asanatest.WorkspaceSpec {
	s := asanatest.WorkspaceSpec{}
	s.Inactive = n / 10
	s.Guests = n / 4
	s.ViewOnly = n / 20
	s.Licensed = n - s.Inactive - s.Guests - s.ViewOnly
	s.Admins = s.Licensed / 10
	s.Pending = s.Licensed / 15
	s.Readded = min(s.Inactive, s.Licensed-s.Admins-s.Pending) / 3
	return s
}

func TestCountSeatsPaginatesEverySize(t *testing.T) {
	for _, n := range []int{0, 1, 100, 101, 12_345} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			spec := spread(n)
			h := newHarness(t, asanatest.Config{}, nil, spec)
			got, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Seats != spec.Seats() {
				t.Errorf("seats = %+v, want %+v", got.Seats, spec.Seats())
			}
			if got.Seats.Total() != n {
				t.Errorf("total = %d, want %d", got.Seats.Total(), n)
			}
			wantPages := max(1, (n+99)/100)
			if got.Pages != wantPages {
				t.Errorf("pages = %d, want %d", got.Pages, wantPages)
			}
			reqs := h.srv.Requests()
			if len(reqs) != wantPages {
				t.Fatalf("%d requests, want %d", len(reqs), wantPages)
			}
			for i, r := range reqs {
				if r.Route != asana.EndpointWorkspaceMemberships || r.Status != 200 {
					t.Errorf("request %d: route %q status %d", i, r.Route, r.Status)
				}
				if r.Query.Get("limit") != "100" {
					t.Errorf("request %d: limit=%q, want 100", i, r.Query.Get("limit"))
				}
				if (i == 0) == r.Query.Has("offset") {
					t.Errorf("request %d: offset present=%v", i, r.Query.Has("offset"))
				}
				if r.Page != i+1 {
					t.Errorf("request %d asked for page %d", i, r.Page)
				}
			}
		})
	}
}

func TestEachMembershipPageStreamsPages(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, spread(1050))
	var sizes []int
	seen := map[string]bool{}
	_, err := h.client.EachMembershipPage(context.Background(), h.workspace(0), asana.SeatFlags, nil, func(p asana.MembershipPage) error {
		if p.Index != len(sizes) {
			t.Errorf("page index %d after %d pages", p.Index, len(sizes))
		}
		sizes = append(sizes, len(p.Items))
		for _, m := range p.Items {
			if seen[m.GID] {
				t.Errorf("membership %s seen twice", m.GID)
			}
			seen[m.GID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("page sizes %v, want %v", sizes, want)
	}
	if len(seen) != 1050 {
		t.Errorf("saw %d distinct memberships, want 1050", len(seen))
	}
}

func TestEachMembershipPageStopsOnCallbackError(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, spread(500))
	stop := errors.New("stop")
	_, err := h.client.EachMembershipPage(context.Background(), h.workspace(0), asana.SeatFlags, nil, func(p asana.MembershipPage) error {
		if p.Index == 1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	if n := len(h.srv.Requests()); n != 2 {
		t.Errorf("%d requests after stopping on page 2", n)
	}
}

func TestOptFieldsAskForExactlyWhatIsNeeded(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, spread(30))
	flagged := 0
	_, err := h.client.EachMembershipPage(context.Background(), h.workspace(0), asana.SeatFlags, nil, func(p asana.MembershipPage) error {
		for _, m := range p.Items {
			if m.IsActive {
				flagged++ // flags only arrive when opt_fields asks for them
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.srv.Requests()[0].Query.Get("opt_fields"), "is_active,is_guest,is_admin,is_view_only"; got != want {
		t.Errorf("opt_fields = %q, want %q: the seat flags and nothing more", got, want)
	}
	if want := 30 - 30/10; flagged != want {
		t.Errorf("%d active memberships decoded, want %d", flagged, want)
	}
}

func TestListingRestartsAfterExpiredOffset(t *testing.T) {
	spec := spread(450)
	t.Run("fault", func(t *testing.T) {
		h := newHarness(t, asanatest.Config{}, nil, spec)
		h.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 3, ExpireOffset: true, Times: 1})
		got, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Seats != spec.Seats() || got.Restarts != 1 || got.Pages != 5 {
			t.Errorf("got %+v, want seats %+v after 1 restart over 5 pages", got, spec.Seats())
		}
		var pages []int
		for _, r := range h.srv.Requests() {
			pages = append(pages, r.Page)
		}
		if want := "[1 2 3 1 2 3 4 5]"; fmt.Sprint(pages) != want {
			t.Errorf("pages requested %v, want %s", pages, want)
		}
	})
	t.Run("clock", func(t *testing.T) {
		h := newHarness(t, asanatest.Config{OffsetTTL: 15 * time.Minute}, nil, spec)
		advanced := false
		var seats asana.SeatCounts
		starts := 0
		restarts, err := h.client.EachMembershipPage(context.Background(), h.workspace(0), asana.SeatFlags, func() error {
			starts++
			seats = asana.SeatCounts{}
			return nil
		}, func(p asana.MembershipPage) error {
			seats.AddPage(p.Items)
			if p.Index == 1 && !advanced {
				advanced = true
				h.srv.Advance(16 * time.Minute) // the page-3 offset is now stale
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if restarts != 1 || starts != 2 || seats != spec.Seats() {
			t.Errorf("restarts %d, starts %d, seats %+v; want 1, 2 and %+v", restarts, starts, seats, spec.Seats())
		}
	})
	t.Run("bounded", func(t *testing.T) {
		h := newHarness(t, asanatest.Config{}, func(o *asana.Options) { o.MaxListingRestarts = 2 }, spec)
		h.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 2, ExpireOffset: true})
		_, err := h.client.CountSeats(context.Background(), h.workspace(0), asana.CountOptions{})
		if !errors.Is(err, asana.ErrOffsetExpired) {
			t.Fatalf("err = %v, want ErrOffsetExpired", err)
		}
		if n := len(h.srv.Requests()); n != 6 { // 3 listings of 2 requests
			t.Errorf("%d requests, want 6", n)
		}
	})
}

func TestWorkspaces(t *testing.T) {
	specs := make([]asanatest.WorkspaceSpec, 150)
	specs[7] = asanatest.WorkspaceSpec{Name: "Acme Corp", IsOrganization: true, EmailDomain: "acme.test"}
	h := newHarness(t, asanatest.Config{}, nil, specs...)
	all, err := h.client.Workspaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 150 {
		t.Fatalf("%d workspaces, want 150", len(all))
	}
	if n := len(h.srv.Requests()); n != 2 {
		t.Errorf("%d requests for 150 workspaces, want 2 pages", n)
	}
	acme := all[7]
	if acme.Name != "Acme Corp" || !acme.IsOrganization || fmt.Sprint(acme.EmailDomains) != "[acme.test]" {
		t.Errorf("listed %+v", acme)
	}
}

func TestUserAgentAndEndpointTemplates(t *testing.T) {
	h := newHarness(t, asanatest.Config{}, nil, spread(150), spread(10))
	ctx := context.Background()
	ws, err := h.client.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if _, err := h.client.CountSeats(ctx, w.GID, asana.CountOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range h.srv.Requests() {
		if r.UserAgent != "asana_exporter/test" {
			t.Errorf("User-Agent %q", r.UserAgent)
		}
	}
	want := map[string]map[int]int{
		asana.EndpointWorkspaces:           {200: 1},
		asana.EndpointWorkspaceMemberships: {200: 3},
	}
	if fmt.Sprint(h.obs.requests) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", h.obs.requests, want)
	}
}
