package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func all(t *testing.T) []grafanaDashboard {
	t.Helper()
	ds, err := allDashboards()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 2 {
		t.Fatalf("%d dashboards in dashboards/, want the seats and the exporter dashboards", len(ds))
	}
	return ds
}

// TestDashboardsMatchGrafanaSchema loads every dashboard with Grafana's own
// schema types, rejecting unknown fields, as an import would.
func TestDashboardsMatchGrafanaSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, d := range all(t) {
		// __inputs and __requires are the import's own fields: it reads and
		// drops them before it stores the dashboard, and the schema lacks them.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(d.Raw, &fields); err != nil {
			t.Fatal(err)
		}
		delete(fields, "__inputs")
		delete(fields, "__requires")
		stored, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		var strict dashboard.Dashboard
		if err := strict.UnmarshalJSONStrict(stored); err != nil {
			t.Errorf("%s: %v", d.File, err)
			continue
		}
		if err := strict.Validate(); err != nil {
			t.Errorf("%s: %v", d.File, err)
		}
	}
}

// TestDashboardsAreImportReady checks what makes a dashboard import cleanly
// and keep working: a uid that stays the same, tags, a datasource variable
// and a workspace variable built from asana_workspace_info.
func TestDashboardsAreImportReady(t *testing.T) {
	uids := map[string]string{}
	for _, d := range all(t) {
		if want := strings.TrimSuffix(d.File, ".json"); d.UID != want {
			t.Errorf("%s: uid %q, want %q (the file name, so links survive re-imports)", d.File, d.UID, want)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share uid %q", d.File, other, d.UID)
		}
		uids[d.UID] = d.File
		if !contains(d.Tags, "asana_exporter") {
			t.Errorf("%s: tags %v lack asana_exporter (the dashboards' links find each other by it)", d.File, d.Tags)
		}
		if v, ok := d.Variable("datasource"); !ok || v.Type != "datasource" || v.QueryText() != "prometheus" {
			t.Errorf("%s: no Prometheus datasource variable: %+v", d.File, v)
		}
		if v, ok := d.Variable("workspace"); !ok || !strings.HasPrefix(v.QueryText(), "query_result(asana_workspace_info") {
			t.Errorf("%s: workspace variable %+v is not built from asana_workspace_info", d.File, v)
		}
		if v, ok := d.Variable("organization"); d.UID == "asana-exporter" && (!ok || !strings.Contains(v.QueryText(), "label_values(asana_up")) {
			t.Errorf("%s: no organization variable from asana_up's label: %+v", d.File, v)
		}
		checkImportInputs(t, d.File)
	}
}

// checkImportInputs: Grafana's import asks for one Prometheus data source
// (__inputs) and makes it the datasource variable's value. ${DS_PROMETHEUS}
// is used there alone: a provisioned dashboard (the chart's ConfigMaps,
// which Grafana does not substitute) then falls back to the default
// Prometheus instead of a panel failing on a data source named
// ${DS_PROMETHEUS} (grafana/grafana#10786).
func checkImportInputs(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(repoPath("dashboards", file))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct {
			Name, Type string
			PluginID   string `json:"pluginId"`
		} `json:"__inputs"`
		Templating struct {
			List []struct {
				Name    string
				Current struct{ Value string }
			}
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].Type != "datasource" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("%s: __inputs %+v, want the one Prometheus data source DS_PROMETHEUS", file, d.Inputs)
	}
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Current.Value != "${DS_PROMETHEUS}" {
			t.Errorf("%s: the datasource variable's value is %q, not the data source chosen at import", file, v.Current.Value)
		}
	}
	if n := strings.Count(string(raw), "${DS_PROMETHEUS}"); n != 2 {
		t.Errorf("%s uses ${DS_PROMETHEUS} %d times; want only the datasource variable's text and value", file, n)
	}
}

// TestPanelLayout: panels have unique ids and descriptions, use the
// datasource variable, and tile the 24-column grid without overlapping.
func TestPanelLayout(t *testing.T) {
	for _, d := range all(t) {
		ids := map[int]bool{}
		var placed []dashPanel
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d used twice", d.File, p.ID)
			}
			ids[p.ID] = true
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: panel %q has gridPos %+v outside the 24-column grid", d.File, p.Title, g)
			}
			for _, q := range placed {
				h := q.GridPos
				if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
					t.Errorf("%s: panels %q and %q overlap", d.File, p.Title, q.Title)
				}
			}
			placed = append(placed, p)
			if p.Type == "row" {
				continue
			}
			if p.Datasource.UID != "${datasource}" {
				t.Errorf("%s: panel %q does not use the datasource variable", d.File, p.Title)
			}
			if p.Description == "" {
				t.Errorf("%s: panel %q has no description (Grafana shows it as the panel's help)", d.File, p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", d.File, p.Title)
			}
		}
	}
}

// joined only adds workspace_name to another selector, which is filtered.
const joined = "asana_workspace_info"

// TestPanelQueriesParseAndFilter parses every query as PromQL, after the
// substitution Grafana makes, and checks that each selector honours the
// dashboard's variables: $job everywhere, $workspace on per-workspace
// metrics.
func TestPanelQueriesParseAndFilter(t *testing.T) {
	for _, d := range all(t) {
		for _, p := range d.Panels {
			for _, q := range p.Targets {
				expr, err := parser.NewParser(parser.Options{}).ParseExpr(expandQuery(q.Expr, 5*time.Minute))
				if err != nil {
					t.Errorf("%s: panel %q query %s: %v", d.File, p.Title, q.RefID, err)
					continue
				}
				n := 0
				parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
					vs, ok := node.(*parser.VectorSelector)
					if !ok || vs.Name == joined {
						return nil
					}
					n++
					// The matchers as written, before Expand.
					raw := q.Expr
					if !hasMatcher(vs, "job") || !strings.Contains(raw, `job=~"$job"`) {
						t.Errorf("%s: panel %q: %s is not filtered by $job", d.File, p.Title, vs)
					}
					perWorkspace := strings.HasPrefix(vs.Name, "asana_workspace_") || strings.HasPrefix(vs.Name, "asana_collection_")
					if perWorkspace && (!hasMatcher(vs, "workspace_gid") || !strings.Contains(raw, `workspace_gid=~"$workspace"`)) {
						t.Errorf("%s: panel %q: %s is not filtered by $workspace", d.File, p.Title, vs)
					}
					// Several organisations label these by organization.
					perOrganization := vs.Name == "asana_up" || strings.HasPrefix(vs.Name, "asana_api_")
					if _, ok := d.Variable("organization"); ok && perOrganization &&
						(!hasMatcher(vs, "organization") || !strings.Contains(raw, `organization=~"$organization"`)) {
						t.Errorf("%s: panel %q: %s is not filtered by $organization", d.File, p.Title, vs)
					}
					return nil
				})
				if n == 0 {
					t.Errorf("%s: panel %q query %s selects no series", d.File, p.Title, q.RefID)
				}
			}
		}
	}
}

func hasMatcher(vs *parser.VectorSelector, name string) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == name && m.Type == labels.MatchRegexp {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
