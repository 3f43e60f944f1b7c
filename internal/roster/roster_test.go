package roster_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/idle"
	"github.com/asana-exporter/asana_exporter/internal/roster"
	"github.com/asana-exporter/asana_exporter/internal/testutil/pagetest"
)

const (
	gid1 = "1200000000000001"
	gid2 = "1200000000000002"
	gid3 = "1200000000000003"
)

func membersPath(workspace string) string {
	return "/workspaces/" + workspace + "/workspace_memberships"
}

// recorder records what a roster's Display was given.
type recorder struct {
	resets, members int
}

func (r *recorder) Reset()                    { r.resets++; r.members = 0 }
func (r *recorder) Add(ms []asana.Membership) { r.members += len(ms) }

// list lists the roster of workspaces "1" and "2" from srv, and returns the
// listings and what the display of workspace "1" was given.
func list(t *testing.T, srv *pagetest.Server) (roster.Listings, *recorder) {
	t.Helper()
	shown := &recorder{}
	client := srv.Client(t, nil, nil)
	opts := roster.ListOptions{Display: func(w asana.Workspace) asana.Tally {
		if w.GID == "1" {
			return shown
		}
		return nil
	}}
	ls := roster.Listings{
		roster.List(context.Background(), client, asana.Workspace{GID: "1", Name: "Acme"}, opts),
		roster.List(context.Background(), client, asana.Workspace{GID: "2", Name: "Side"}, opts),
	}
	t.Cleanup(ls.Close)
	return ls, shown
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
	ls, shown := list(t, srv)
	if err := ls[0].Err; err != nil {
		t.Fatal(err)
	}
	if got := rows(t, ls[0]); !slices.Equal(got, []string{gid1, gid2, gid3}) || ls[0].Rows() != 3 {
		t.Errorf("rows %v (Rows %d), want each membership once: the first listing's rows are dropped", got, ls[0].Rows())
	}
	if shown.resets != 2 || shown.members != 3 {
		t.Errorf("the display reset %d times and holds %d members, want 2 and 3", shown.resets, shown.members)
	}
}

func TestListWritesADuplicateOnce(t *testing.T) {
	srv := pagetest.New(t)
	sideWorkspace(srv)
	srv.On(membersPath("1"), "", pagetest.Page("a", pagetest.Member(gid1), pagetest.Member(gid2)))
	srv.On(membersPath("1"), "a", pagetest.Page("b", pagetest.Member(gid2)))
	srv.On(membersPath("1"), "b", pagetest.Page("", pagetest.Member(gid3), pagetest.Member(gid1)))
	ls, shown := list(t, srv)
	if got := rows(t, ls[0]); !slices.Equal(got, []string{gid1, gid2, gid3}) {
		t.Errorf("rows %v, want each membership once", got)
	}
	if shown.members != 3 {
		t.Errorf("the display saw %d members, want 3", shown.members)
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

// consoleActivity is a members export's last activity by email.
type consoleActivity map[string]time.Time

func (c consoleActivity) LastActivity(email string) (time.Time, bool) {
	at, ok := c[email]
	return at, ok
}

// formats lists workspace "1" (three licensed members created on
// 2024-01-02: one active 10 days ago by the console export, one never, one
// the export does not list) with a price, and writes it in each format.
func formats(t *testing.T, idleDays int) (roster.Listings, time.Time) {
	t.Helper()
	srv := pagetest.New(t)
	srv.On(membersPath("1"), "", pagetest.Page("", pagetest.Member(gid1), pagetest.Member(gid2), pagetest.Member(gid3)))
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	console := consoleActivity{"user" + gid1 + "@acme.example": now.Add(-10 * idle.Day), "user" + gid2 + "@acme.example": {}}
	ls := roster.Listings{roster.List(context.Background(), srv.Client(t, nil, nil), asana.Workspace{GID: "1", Name: "Zoë's Acme"},
		roster.ListOptions{Now: now, IdleDays: idleDays, Prices: map[string]float64{"1": 24.99},
			Console: func(string) roster.Activity { return console }})}
	t.Cleanup(ls.Close)
	if err := ls[0].Err; err != nil {
		t.Fatal(err)
	}
	return ls, now
}

// The idle columns: days by the idle rule from the console export (a
// member it says never was active is idle since the membership began), an
// empty cell where nothing tells, the workspace's price on every row.
func TestIdleColumns(t *testing.T) {
	ls, now := formats(t, 0)
	var out bytes.Buffer
	if err := ls.Write(&out, roster.WriteOptions{Format: roster.CSV}); err != nil {
		t.Fatal(err)
	}
	sinceCreated := strconv.Itoa(int(now.Sub(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) / idle.Day))
	want := []string{"10,console_export,24.99", sinceCreated + ",console_export,24.99", ",,24.99"}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")[1:]
	for i, w := range want {
		if !strings.HasSuffix(lines[i], ","+w) {
			t.Errorf("row %d: %s, want it to end in %s", i, lines[i], w)
		}
	}
	if ls[0].Dated() != 2 {
		t.Errorf("Dated() = %d, want 2", ls[0].Dated())
	}
	if ls, _ := formats(t, 11); ls[0].Rows() != 1 || rows(t, ls[0])[0] != gid2 {
		t.Errorf("--idle=11d kept %v, want the member never active alone", rows(t, ls[0]))
	}
}

// Unknown is one placeholder per format: an empty CSV cell, a JSON null,
// a dash in the table; --bom starts a CSV with a byte-order mark.
func TestUnknownAndByteOrderMark(t *testing.T) {
	ls, _ := formats(t, 0)
	var csvOut, bom, jsonOut, table bytes.Buffer
	for out, opts := range map[*bytes.Buffer]roster.WriteOptions{
		&csvOut: {Format: roster.CSV}, &bom: {Format: roster.CSV, BOM: true},
		&jsonOut: {Format: roster.JSON}, &table: {Format: roster.Table, Width: 1000},
	} {
		if err := ls.Write(out, opts); err != nil {
			t.Fatal(err)
		}
	}
	if strings.HasPrefix(csvOut.String(), "\ufeff") || bom.String() != "\ufeff"+csvOut.String() {
		t.Errorf("--bom: %q…, want the CSV after a byte-order mark", bom.String()[:10])
	}
	last := strings.Split(strings.TrimSpace(jsonOut.String()), "\n")[2]
	for _, key := range []string{"last_login_at", "licence_paused", "idle_days", "activity_source"} {
		if !strings.Contains(last, `"`+key+`":null`) {
			t.Errorf("JSON %s, want %s null", last, key)
		}
	}
	if !strings.Contains(last, `"monthly_price":24.99`) || !strings.Contains(last, `"created_at":"2024-01-02T03:04:05.000Z"`) {
		t.Errorf("JSON %s, want the price as a number and created_at", last)
	}
	if strings.Contains(jsonOut.String(), `""`) {
		t.Errorf("JSON has an empty string where unknown is null:\n%s", jsonOut.String())
	}
	row := strings.Fields(strings.Split(table.String(), "\n")[3])
	if got := row[len(row)-5:]; !slices.Equal(got, []string{"-", "-", "-", "-", "24.99"}) {
		t.Errorf("table row ends %q, want unknown cells as -", got)
	}
}

// The table fits its width by leaving columns out in a fixed order and
// says which; Width 0 (--wide) keeps every column and whole timestamps.
func TestTableFitsItsWidth(t *testing.T) {
	ls, _ := formats(t, 0)
	var narrow, wide bytes.Buffer
	var dropped []string
	if err := ls.Write(&narrow, roster.WriteOptions{Format: roster.Table, Width: roster.TableWidth,
		Dropped: func(cols []string) { dropped = cols }}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(narrow.String()), "\n") {
		if w := len([]rune(line)); w > roster.TableWidth {
			t.Errorf("a line of %d columns: %s", w, line)
		}
	}
	header := strings.Fields(strings.Split(narrow.String(), "\n")[0])
	if len(dropped) == 0 || len(header)+len(dropped) != len(roster.Columns) || slices.Contains(header, "USER_EMAIL") == false {
		t.Errorf("header %v, dropped %v: want every column either shown or named, the email shown", header, dropped)
	}
	if strings.Contains(narrow.String(), "T03:04:05") {
		t.Errorf("the narrow table shows the time of day:\n%s", narrow.String())
	}
	if err := ls.Write(&wide, roster.WriteOptions{Format: roster.Table}); err != nil {
		t.Fatal(err)
	}
	if h := strings.Fields(strings.Split(wide.String(), "\n")[0]); len(h) != len(roster.Columns) || !strings.Contains(wide.String(), "2024-01-02T03:04:05.000Z") {
		t.Errorf("the wide table's header %v, want every column and whole timestamps", h)
	}
}
