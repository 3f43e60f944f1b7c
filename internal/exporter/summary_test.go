package exporter_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/roster"
	"github.com/asana-exporter/asana_exporter/internal/summary"
)

// TestSummaryIsTheMetrics: on the simulated organisations with the audit
// log read, every number of seats --summary equals what /metrics publishes
// for the same workspace, and its idle seats' cost is the metric's idle
// seats times the metric's price.
func TestSummaryIsTheMetrics(t *testing.T) { synctest.Test(t, summaryIsTheMetrics) }

func summaryIsTheMetrics(t *testing.T) {
	s := auditSetup(true)
	gids := asanatest.Generate(11, asanatest.Acme, umbrella).Workspaces // newInProcess's seed: the same gids
	s.config = auditOn + fmt.Sprintf("workspaces:\n  - gid: %q\n    seats_purchased: 30\n    seat_price: 24.99\n"+
		"  - gid: %q\n    seats_purchased: 180\n", gids[0].GID, gids[1].GID)
	p := newInProcess(t, s, asanatest.Acme, umbrella)
	p.cycle(t)
	if err := p.poll(); err != nil {
		t.Fatal(err)
	}
	families, _ := p.cycle(t)
	out, errOut, err := p.seats(t, exporter.SeatsOptions{Summary: true, Format: roster.JSON, FormatSet: true})
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var doc struct {
		Workspaces []map[string]any `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Workspaces) != 2 {
		t.Fatalf("%d workspaces in the summary, want 2", len(doc.Workspaces))
	}
	number := func(v any) *float64 {
		if f, ok := v.(float64); ok {
			return &f
		}
		return nil
	}
	for i, ws := range doc.Workspaces {
		gid := p.gids[i]
		w := map[string]*float64{}
		for k, v := range ws {
			w[k] = number(v)
		}
		if ws["workspace_gid"] != gid {
			t.Errorf("workspace %d is %v, want %s", i, ws["workspace_gid"], gid)
		}
		metric := func(name string, labels ...string) *float64 {
			v, ok := families.Sample(name, append([]string{"workspace_gid=" + gid}, labels...)...)
			if !ok {
				return nil
			}
			return &v
		}
		want := map[string]*float64{
			"purchased":                metric("asana_workspace_seats_purchased"),
			"licensed":                 metric("asana_workspace_members", "state=licensed"),
			"view_only":                metric("asana_workspace_members", "state=view_only"),
			"guests":                   metric("asana_workspace_members", "state=guest"),
			"paused":                   metric("asana_workspace_seats_paused"),
			"licensed_outside_domains": metric("asana_workspace_members_outside_email_domains", "state=licensed"),
			"seat_price":               metric("asana_workspace_seat_price"),
		}
		billed := *want["licensed"] - *want["paused"]
		want["billed"] = &billed
		for _, d := range []int{30, 60, 90} {
			for _, st := range []string{"licensed", "view_only"} {
				want[fmt.Sprintf("idle_%dd_%s", d, st)] = metric("asana_workspace_seats_idle", "state="+st, "days="+strconv.Itoa(d))
			}
		}
		var cost *float64
		if price := want["seat_price"]; price != nil {
			v, _ := strconv.ParseFloat(summary.Cents(*want["idle_60d_licensed"]**price), 64)
			cost = &v
		}
		want["idle_monthly_cost"], want["priced_idle_seats"] = cost, want["idle_60d_licensed"]
		for key, v := range want {
			if (v == nil) != (w[key] == nil) || (v != nil && *v != *w[key]) {
				t.Errorf("workspace %s: %s is %s in the summary, %s in /metrics", gid, key, show(w[key]), show(v))
			}
		}
	}
	if doc.Workspaces[1]["idle_monthly_cost"] != nil || !strings.Contains(errOut, "The idle seats' cost is unknown for Umbrella ("+p.gids[1]+")") {
		t.Errorf("Umbrella has no price: cost %v, stderr %q", doc.Workspaces[1]["idle_monthly_cost"], errOut)
	}
	if doc.Workspaces[0]["idle_monthly_cost"] == 0.0 || doc.Workspaces[1]["idle_90d_licensed"] == 0.0 {
		t.Error("nothing idle: the comparison proves little")
	}
}

func show(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// TestSummaryFlags: the table by default; --output writes any format with
// mode 0600 and nothing to standard output; --state, and --format=html
// without --summary, are refused naming the flags.
func TestSummaryFlags(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.Acme)
	out, _, err := p.seats(t, exporter.SeatsOptions{Summary: true})
	if err != nil || !strings.HasPrefix(out, "Seats on ") || !strings.Contains(out, "Licensed idle 60 days") {
		t.Errorf("the default format is not the table: %v\n%s", err, out)
	}
	path := filepath.Join(p.dir, "summary.html")
	if out, _, err := p.seats(t, exporter.SeatsOptions{Summary: true, Format: summary.HTML, FormatSet: true, Output: path}); err != nil || out != "" {
		t.Fatalf("--output: %v, stdout %q", err, out)
	}
	page, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), "Acme Corp") {
		t.Errorf("the page:\n%.300s", page)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	for _, bad := range []struct {
		opts exporter.SeatsOptions
		want string
	}{
		{exporter.SeatsOptions{Summary: true, States: []string{"licensed"}}, "--state does not apply to --summary"},
		{exporter.SeatsOptions{Format: summary.HTML, FormatSet: true}, "--format=html applies to --summary only"},
		{exporter.SeatsOptions{Summary: true, Reconcile: path}, "--summary does not apply with --reconcile"},
		{exporter.SeatsOptions{Summary: true, BOM: true}, "--bom applies to --format=csv only"},
	} {
		if _, _, err := p.seats(t, bad.opts); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: error %v, want %q", bad.opts, err, bad.want)
		}
	}
}
