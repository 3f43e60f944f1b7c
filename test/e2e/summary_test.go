package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// summaryScreenshotEnv, when set, is a file to which TestSummaryPageInABrowser
// copies its screenshot, for a person to look at (the test's own copy goes
// with its temporary directory).
const summaryScreenshotEnv = "ASANA_SUMMARY_SCREENSHOT"

// TestSummaryPageInABrowser: the page `seats --demo --summary --format=html`
// writes, opened from its file in headless Chromium, loads with no console
// error and no Content-Security-Policy violation, and shows the numbers and
// the idle seats that --format=json prints. A page that breaks its policy
// is caught, so the check is not blind.
func TestSummaryPageInABrowser(t *testing.T) {
	t.Parallel()
	chromium := needTool(t, "chromium", "chromium-browser") // Debian's name, then Ubuntu's
	dir := t.TempDir()
	page := filepath.Join(dir, "summary.html")
	var outputs [2][]byte
	var wg sync.WaitGroup
	for i, args := range [][]string{{"--format=html", "--output=" + page}, {"--format=json"}} {
		wg.Go(func() {
			cmd := exec.Command(exporterBinary(t), append([]string{"seats", "--demo", "--quiet", "--summary", "--log.level=error"}, args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			var err error
			if outputs[i], err = cmd.Output(); err != nil {
				t.Errorf("seats --summary %v: %v\n%s", args, err, stderr.String())
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if st, err := os.Stat(page); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the page: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	want := decodeSummary(t, outputs[1])
	if got := want.number(0, "idle_90d_licensed"); got != "2" { // the demo's Acme: 2 licensed members never logged in
		t.Errorf("Acme's licensed seats idle 90 days: %s, want 2", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1100, 900))...)
	defer cancelAlloc()
	browser, closeBrowser := chromedp.NewContext(alloc)
	defer closeBrowser()

	// The control: the same page with a script, an image and a style sheet
	// from elsewhere, each of which its policy refuses.
	raw, _ := os.ReadFile(page)
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, bytes.Replace(raw, []byte("</body>"), []byte(`<img src="https://evil.example/x.png"><script>console.error("ran")</script>`+
		`<link rel="stylesheet" href="http://evil.example/s.css"></body>`), 1), 0o600)
	if msgs := openPage(t, browser, bad); len(msgs) != 3 || strings.Count(strings.Join(msgs, "\n"), "Content Security Policy") != 3 {
		t.Errorf("the page with a script, an image and a style sheet gave not 3 CSP violations; console:\n%s", strings.Join(msgs, "\n"))
	}

	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	if msgs := openPage(t, tab, page); len(msgs) > 0 {
		t.Errorf("the console says:\n%s", strings.Join(msgs, "\n"))
	}
	numbers, err := chromedp.Run(tab, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll("table.numbers tr")].map(r => [...r.cells].map(c => c.innerText.trim()))`))
	if err != nil {
		t.Fatal(err)
	}
	checkNumbers(t, numbers, want)
	people, err := chromedp.Run(tab, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll("table.people tbody tr")].map(r => [...r.cells].map(c => c.innerText.trim()))`))
	if err != nil {
		t.Fatal(err)
	}
	checkPeople(t, people, want)
	bars, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](
		`[...document.querySelectorAll("figure > svg")].map(s => s.querySelectorAll("rect").length * (s.getBoundingClientRect().width > 600 ? 1 : 0))`))
	if err != nil || len(bars) != 3 || bars[0] == 0 || bars[1] == 0 || bars[2] == 0 {
		t.Errorf("the charts: %v bars each shown at full width (%v); want 3 charts with bars", bars, err)
	}

	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "summary.png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	if copyTo := os.Getenv(summaryScreenshotEnv); copyTo != "" {
		if err := os.WriteFile(copyTo, shot, 0o600); err != nil { // names and emails, if made up
			t.Error(err)
		}
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}

// openPage opens the file at path in a tab of ctx and returns what its
// console said while it loaded: errors, warnings and CSP violations.
func openPage(t *testing.T, ctx context.Context, path string) []string {
	t.Helper()
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate((&url.URL{Scheme: "file", Path: path}).String()),
		chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	// The messages keep their order: everything the page said comes
	// before this one.
	const end = "asana_exporter e2e: end of the page's messages"
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.log(%q)", end))); err != nil {
		t.Fatal(err)
	}
	var said []string
	for m, err := range messages {
		if err != nil {
			t.Fatalf("reading the console: %v", err)
		}
		if m.Text == end {
			break
		}
		if m.Type != chromedp.ConsoleLog && m.Type != chromedp.ConsoleDebug && m.Type != chromedp.ConsoleInfo {
			said = append(said, m.String())
		}
	}
	return said
}

// summaryJSON is the summary as --format=json printed it: each workspace's
// keys in their order, and the idle seats.
type summaryJSON struct {
	keys       []string
	workspaces []map[string]json.RawMessage
	people     []map[string]any
}

func decodeSummary(t *testing.T, out []byte) summaryJSON {
	t.Helper()
	var doc struct {
		Workspaces []json.RawMessage `json:"workspaces"`
		IdleSeats  []map[string]any  `json:"idle_seats"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Workspaces) != 3 {
		t.Fatalf("%v; %d workspaces in\n%s", err, len(doc.Workspaces), out)
	}
	s := summaryJSON{people: doc.IdleSeats}
	for _, raw := range doc.Workspaces {
		var m map[string]json.RawMessage
		json.Unmarshal(raw, &m)
		s.workspaces = append(s.workspaces, m)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Workspaces[0]))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		s.keys = append(s.keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return s
}

// number is workspace i's value of key as the page shows it: a number or
// string as printed, "—" for null.
func (s summaryJSON) number(i int, key string) string {
	raw := s.workspaces[i][key]
	var v any
	json.Unmarshal(raw, &v)
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		return v
	}
	return string(raw)
}

// checkNumbers: the page's table has a column per workspace, named as in
// the JSON, and a row per key after the gid and the name, in the JSON's
// order, showing its values.
func checkNumbers(t *testing.T, table [][]string, want summaryJSON) {
	t.Helper()
	if len(table) != len(want.keys)-2+1 {
		t.Fatalf("the page's numbers have %d rows, the JSON %d keys:\n%q", len(table), len(want.keys), table)
	}
	for i := range want.workspaces {
		if got := table[0][i+1]; got != want.number(i, "workspace_name") {
			t.Errorf("column %d is %q, want %q", i+1, got, want.number(i, "workspace_name"))
		}
	}
	for r, key := range want.keys[2:] {
		row := table[r+1]
		for i := range want.workspaces {
			if got, w := row[i+1], want.number(i, key); got != w {
				t.Errorf("%s (%q) of %s: the page shows %q, the JSON %q", key, row[0], want.number(i, "workspace_name"), got, w)
			}
		}
	}
}

// checkPeople: the page lists the JSON's idle seats, in order.
func checkPeople(t *testing.T, rows [][]string, want summaryJSON) {
	t.Helper()
	if len(rows) != len(want.people) || len(rows) == 0 {
		t.Fatalf("%d idle seats on the page, %d in the JSON", len(rows), len(want.people))
	}
	for i, p := range want.people {
		price := "—"
		if v, ok := p["monthly_price"].(float64); ok {
			price = fmt.Sprintf("%.2f", v)
		}
		w := []string{p["user_name"].(string), p["user_email"].(string), p["workspace_name"].(string),
			strings.ReplaceAll(p["state"].(string), "_", "-"), fmt.Sprint(p["idle_days"]), p["activity_source"].(string), price}
		if strings.Join(rows[i], "|") != strings.Join(w, "|") {
			t.Errorf("idle seat %d: the page shows %q, the JSON %q", i, rows[i], w)
		}
	}
}
