package asana_test

import (
	"context"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

func TestStateNamesRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, st := range asana.States {
		name := st.String()
		if seen[name] || name == "unknown" {
			t.Errorf("state %d has the name %q twice or none", st, name)
		}
		seen[name] = true
		if back, ok := asana.ParseState(name); !ok || back != st {
			t.Errorf("ParseState(%q) = %v, %v", name, back, ok)
		}
	}
	if _, ok := asana.ParseState("admin"); ok {
		t.Error("ParseState accepted a state that does not exist")
	}
}

func TestEmailDomain(t *testing.T) {
	acme := []string{"acme.example", "Acme-Labs.example."}
	for _, c := range []struct {
		email   string
		domains []string
		want    asana.Domain
	}{
		{"jane@acme.example", acme, asana.Inside},
		{"Jane@ACME.Example", acme, asana.Inside},
		{"bob@acme-labs.example", acme, asana.Inside},
		{"bob@acme-labs.example.", acme, asana.Inside},
		{"eve@eng.acme.example", acme, asana.Outside}, // a subdomain is a domain of its own
		{"eve@gmail.example", acme, asana.Outside},
		{`"a@acme.example"@evil.example`, acme, asana.Outside}, // the domain is after the last @
		{"", acme, asana.DomainUnknown},
		{"no-at-sign", acme, asana.DomainUnknown},
		{"trailing@", acme, asana.DomainUnknown},
		{"jane@acme.example", nil, asana.DomainUnknown},
	} {
		if got := asana.EmailDomain(c.email, c.domains); got != c.want {
			t.Errorf("EmailDomain(%q, %q) = %v, want %v", c.email, c.domains, got, c.want)
		}
	}
}

// TestCountSeatsChecksEmailDomains: with the workspace's domains the
// listing asks for user.email, and only then, and counts the active members
// outside them by state.
func TestCountSeatsChecksEmailDomains(t *testing.T) {
	spec := spread(1234)
	spec.IsOrganization, spec.EmailDomain, spec.LicensedOutside = true, "acme.example", 17
	h := newHarness(t, asanatest.Config{}, nil, spec)
	ctx := context.Background()

	got, err := h.client.CountSeats(ctx, h.workspace(0), asana.CountOptions{EmailDomains: []string{"acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := spec.SeatsWithDomains(); got.Seats != want {
		t.Errorf("with domains: %+v, want %+v", got.Seats, want)
	}
	for _, r := range h.srv.Requests() {
		if f := r.Query.Get("opt_fields"); !strings.Contains(f, "user.email") || strings.Contains(f, "user.name") {
			t.Errorf("the domain check asked for opt_fields=%s: user.email and no more", f)
		}
	}

	h.srv.ResetRequests()
	got, err = h.client.CountSeats(ctx, h.workspace(0), asana.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := spec.Seats(); got.Seats != want || got.Seats.DomainsChecked {
		t.Errorf("without domains: %+v, want %+v", got.Seats, want)
	}
	for _, r := range h.srv.Requests() {
		if f := r.Query.Get("opt_fields"); strings.Contains(f, "user") {
			t.Errorf("a count without the check asked for opt_fields=%s", f)
		}
	}
}

// TestRosterDetailReadsWhoHoldsEachSeat: the roster's listing carries the
// user's gid, name and email and the membership's created_at, as the
// simulator holds them, in the same number of requests as a count.
func TestRosterDetailReadsWhoHoldsEachSeat(t *testing.T) {
	spec := spread(250)
	spec.IsOrganization = true
	h := newHarness(t, asanatest.Config{}, nil, spec)
	var want []*asanatest.Membership
	h.srv.Mutate(func(o *asanatest.Org) { want = o.Workspaces[0].Memberships })
	var got []asana.Membership
	_, err := h.client.EachMembershipPage(context.Background(), h.workspace(0), asana.Roster, nil, func(p asana.MembershipPage) error {
		got = append(got, p.Items...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d memberships, want %d", len(got), len(want))
	}
	for i, m := range got {
		w := want[i]
		if m.GID != w.GID || m.User.GID != w.User.GID || m.User.Name != w.User.Name || m.User.Email != w.User.Email ||
			!m.CreatedAt.Equal(w.CreatedAt) || m.IsActive != w.IsActive || m.IsAdmin != w.IsAdmin {
			t.Fatalf("membership %d = %+v, want %+v", i, m, *w)
		}
	}
	if n := len(h.srv.Requests()); n != 3 {
		t.Errorf("%d requests for 250 memberships, want 3", n)
	}
}
