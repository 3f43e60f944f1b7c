package summary

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// hostileNames are what a member or an admin can call themselves or a
// workspace: markup, a formula, terminal escapes, a bidirectional override.
var hostileNames = []string{
	"<script>alert(1)</script>", `"><img src=https://evil.example/x onerror=alert(1)>`, "=HYPERLINK(\"http://evil.example\")",
	"\x1b[2J\x1b[31mred", "\u202eevil\u202c", "</style><link rel=stylesheet href=http://evil.example/s.css>", "Zoë Åsa 日本語",
}

// sample is a summary of three workspaces: acme, one named by an attacker
// with nothing known, and one whose members are the hostile names.
func sample(t *testing.T) *Summary {
	t.Helper()
	bare := Workspace{GID: "3", Name: "=cmd|' /C calc'!A0 </title><script>x()</script>", Organization: true}
	evil := acme
	evil.GID, evil.Name = "4", "Evil \x1b]0;owned\x07"
	var people []roster.Entry
	for i, n := range hostileNames {
		people = append(people, entry("4", asana.Licensed, 60+i, func(e *roster.Entry) { e.UserName, e.UserEmail = n, n+"@evil.example" }))
	}
	return build(t, defaultOpts, map[*Workspace][]roster.Entry{&acme: acmeEntries(), &bare: nil, &evil: people}, &acme, &bare, &evil)
}

func write(t *testing.T, s *Summary, opts WriteOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Write(&b, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var csvHeader = "workspace_gid,workspace_name,purchased,licensed,paused,billed,view_only,guests,licensed_outside_domains," +
	"idle_30d_licensed,idle_30d_view_only,idle_60d_licensed,idle_60d_view_only,idle_90d_licensed,idle_90d_view_only," +
	"seat_price,priced_idle_seats,idle_monthly_cost,renewal_date,days_to_renewal,idle_cost_to_renewal"

// TestCSV: a header, a row per workspace, unknown empty, a formula
// neutralised, and a byte-order mark when asked.
func TestCSV(t *testing.T) {
	s := sample(t)
	out := write(t, s, WriteOptions{Format: roster.CSV, BOM: true})
	body, ok := strings.CutPrefix(out, "\ufeff")
	if !ok {
		t.Error("no byte-order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("%v: %q", err, body)
	}
	if got := strings.Join(recs[0], ","); got != csvHeader {
		t.Errorf("header\n%s\nwant\n%s", got, csvHeader)
	}
	if got, want := strings.Join(recs[1], ","), "1,Acme Corp,30,9,2,7,2,3,3,4,1,2,1,1,0,24.99,2,49.98,2027-03-31,89,146.24"; got != want {
		t.Errorf("Acme\n%s\nwant\n%s", got, want)
	}
	if got, want := strings.Join(recs[2], ","), "3,'"+s.Workspaces[1].Name+",,0,,,0,0"+strings.Repeat(",", 13); got != want {
		t.Errorf("the unknown workspace\n%q\nwant\n%q", got, want)
	}
	if plain := write(t, s, WriteOptions{Format: roster.CSV}); strings.HasPrefix(plain, "\ufeff") || plain != body {
		t.Error("without --bom the CSV differs by more than the mark")
	}
}

// TestJSON: one document; every workspace has the CSV's keys in order,
// numbers as numbers and unknown as null; the people's names come back
// exact.
func TestJSON(t *testing.T) {
	s := sample(t)
	out := write(t, s, WriteOptions{Format: roster.JSON})
	var doc struct {
		GeneratedAt string                       `json:"generated_at"`
		Thresholds  []int                        `json:"idle_thresholds_days"`
		PricedDays  int                          `json:"priced_idle_days"`
		Workspaces  []map[string]json.RawMessage `json:"workspaces"`
		IdleSeats   []map[string]any             `json:"idle_seats"`
		LeftOut     *int                         `json:"idle_seats_left_out"`
		Notes       []string                     `json:"notes"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.GeneratedAt != "2027-01-01T09:30:00Z" || !slices.Equal(doc.Thresholds, []int{30, 60, 90}) || doc.PricedDays != 60 ||
		doc.LeftOut == nil || *doc.LeftOut != 0 || len(doc.Notes) != len(s.Notes) {
		t.Errorf("document %+v", doc)
	}
	if len(doc.Workspaces) != 3 {
		t.Fatalf("%d workspaces", len(doc.Workspaces))
	}
	acme, bare := doc.Workspaces[0], doc.Workspaces[1]
	for key, want := range map[string]string{"workspace_gid": `"1"`, "licensed": "9", "billed": "7", "idle_90d_view_only": "0",
		"idle_monthly_cost": "49.98", "idle_cost_to_renewal": "146.24", "renewal_date": `"2027-03-31"`, "seat_price": "24.99"} {
		if got := string(acme[key]); got != want {
			t.Errorf("Acme %s = %s, want %s", key, got, want)
		}
	}
	for _, key := range []string{"purchased", "paused", "idle_30d_licensed", "idle_monthly_cost", "days_to_renewal", "renewal_date"} {
		if got := string(bare[key]); got != "null" {
			t.Errorf("unknown %s = %s, want null", key, got)
		}
	}
	// The keys in the CSV's order.
	keys := json.NewDecoder(strings.NewReader(out[strings.Index(out, `"workspaces": [`)+len(`"workspaces": [`):]))
	var order []string
	keys.Token() // {
	for keys.More() {
		k, _ := keys.Token()
		order = append(order, k.(string))
		var skip json.RawMessage
		keys.Decode(&skip)
	}
	if got := strings.Join(order, ","); got != csvHeader {
		t.Errorf("keys\n%s\nwant\n%s", got, csvHeader)
	}
	if len(doc.IdleSeats) != 5+len(hostileNames) {
		t.Fatalf("%d idle seats", len(doc.IdleSeats))
	}
	names := map[any]bool{}
	for _, p := range doc.IdleSeats {
		names[p["user_name"]] = true
		if p["state"] == "view_only" && p["monthly_price"] != nil {
			t.Errorf("a view-only seat priced: %v", p)
		}
	}
	for _, n := range hostileNames {
		if !names[n] {
			t.Errorf("%q did not come back exact", n)
		}
	}
}

// TestTable: the workspaces side by side, labels down, "-" for unknown,
// nothing a terminal would act on.
func TestTable(t *testing.T) {
	out := write(t, sample(t), WriteOptions{Format: roster.Table})
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "Seats on 2027-01-01T09:30:00Z; idle seats are priced at 60 days") {
		t.Errorf("first line %q", lines[0])
	}
	want := map[string]string{
		"Workspace gid":                      "1 3 4",
		"Billed (licensed − paused)":         "7 - 7",
		"Licensed idle 30 days":              "4 - 7",
		"Idle seats' cost a month":           "49.98 - 174.93",
		"Idle seats' cost until the renewal": "146.24 - 511.85",
	}
	for _, l := range lines {
		for label, values := range want {
			if rest, ok := strings.CutPrefix(l, label+"  "); ok {
				if got := strings.Join(strings.Fields(rest), " "); got != values {
					t.Errorf("%s: %q, want %q", label, got, values)
				}
				delete(want, label)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v\n%s", want, out)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("a control character reached the terminal:\n%s", out)
	}
	if !strings.Contains(out, "12 seat(s) idle 30 days or more") {
		t.Errorf("no count of the idle seats:\n%s", out)
	}
}

// TestHTML: the page parses, loads nothing and runs nothing, escapes every
// name, and shows the numbers.
func TestHTML(t *testing.T) {
	s := sample(t)
	out := write(t, s, WriteOptions{Format: HTML})
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var csp string
	var svgs, rects, cells int
	var text strings.Builder
	for n := range doc.Descendants() {
		if n.Type == html.TextNode {
			text.WriteString(n.Data + " ")
			continue
		}
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script", "iframe", "object", "embed", "link", "img", "base", "form":
			t.Errorf("the page has a <%s>", n.Data)
		case "svg":
			svgs++
		case "rect":
			rects++
		case "td":
			cells++
		}
		for _, a := range n.Attr {
			switch {
			case strings.HasPrefix(a.Key, "on"):
				t.Errorf("<%s %s=%q>: an event handler", n.Data, a.Key, a.Val)
			case a.Key == "src" || a.Key == "href" || a.Key == "action" || a.Key == "xlink:href" || a.Key == "srcset":
				t.Errorf("<%s %s=%q>: a reference", n.Data, a.Key, a.Val)
			case a.Key == "content" && strings.Contains(a.Val, "default-src"):
				csp = a.Val
			}
		}
	}
	if csp != "default-src 'none'; style-src 'unsafe-inline'; img-src data:" {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	// 3 charts and a legend swatch per series; bars: Acme's 4 states
	// (evil's licensed alone; bare's none), idle 2+2+1 for Acme (none
	// view-only at 90 days), 1+1 for evil (none at 90), cost 2 + 2.
	if svgs != 3+4+2+2 {
		t.Errorf("%d svg elements, want 3 charts and 8 swatches", svgs)
	}
	if want := (4 + 1) + (5 + 2) + 4 + 8; rects != want {
		t.Errorf("%d rects, want %d", rects, want)
	}
	if strings.ContainsFunc(out, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		t.Error("a control character reached the page")
	}
	page := strings.Join(strings.Fields(text.String()), " ")
	var shown []string // as the page shows them: controls escaped
	for _, n := range hostileNames {
		shown = append(shown, strings.ReplaceAll(strings.ReplaceAll(n, "\x1b", `\u001b`), "\x07", `\u0007`))
	}
	for _, want := range append(shown, s.Workspaces[1].Name, `Evil \u001b]0;owned\u0007`, "49.98", "146.24", "174.93",
		"511.85 in 89 days", "Licensed idle 30 days 4 — 7") {
		if !strings.Contains(page, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	for _, n := range s.Notes {
		if n = strings.ReplaceAll(strings.ReplaceAll(n, "\x1b", `\u001b`), "\x07", `\u0007`); !strings.Contains(page, n) {
			t.Errorf("the page lacks the note %q", n)
		}
	}
	if want := 12 * 7; cells < want {
		t.Errorf("%d table cells, want at least %d for the people", cells, want)
	}
}

// TestWriteFails: an error of the writer is the summary's.
func TestWriteFails(t *testing.T) {
	for _, f := range Formats {
		if err := sample(t).Write(failing{}, WriteOptions{Format: roster.Format(f)}); err == nil {
			t.Errorf("%s: a failed write did not fail", f)
		}
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// TestReclaimColumns: with the reclaim journal's numbers the summary ends
// with what reclaim freed, a workspace it freed nothing in at 0; without
// them it has no such columns (csvHeader in TestCSV).
func TestReclaimColumns(t *testing.T) {
	opts := defaultOpts
	opts.Reclaim = true
	freed, untouched := acme, acme
	freed.Reclaimed = &reclaim.Reclaimed{Seats: 3, Monthly: 74.97}
	untouched.GID, untouched.Reclaimed = "2", &reclaim.Reclaimed{}
	s := build(t, opts, map[*Workspace][]roster.Entry{&freed: acmeEntries(), &untouched: nil}, &freed, &untouched)
	recs, err := csv.NewReader(strings.NewReader(write(t, s, WriteOptions{Format: roster.CSV}))).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("%v: %q", err, recs)
	}
	if got, want := strings.Join(recs[0], ","), csvHeader+",reclaimed_seats,reclaimed_monthly_saving"; got != want {
		t.Errorf("header\n%s\nwant\n%s", got, want)
	}
	for i, want := range []string{"3,74.97", "0,0.00"} {
		if got := strings.Join(recs[i+1][len(recs[i+1])-2:], ","); got != want {
			t.Errorf("workspace %s: reclaimed %s, want %s", recs[i+1][0], got, want)
		}
	}
}
