// Package dashboards holds Grafana dashboards for asana_exporter. Its
// test validates them with Grafana's own schema types; the exporter's
// end-to-end test runs every query against a real Prometheus.
package dashboards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func TestDashboardsMatchGrafanaSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	files, _ := filepath.Glob("*.json")
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard.Dashboard
		if err := d.UnmarshalJSONStrict(raw); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for _, p := range Panels(t, raw) {
			if p.Type != "row" && p.Datasource.UID != "${datasource}" {
				t.Errorf("%s: panel %q does not use the datasource variable", f, p.Title)
			}
			for _, q := range p.Targets {
				if !strings.Contains(q.Expr, "asana_") {
					t.Errorf("%s: panel %q queries no asana_ metric: %s", f, p.Title, q.Expr)
				}
			}
		}
	}
}

// Panel is the part of a dashboard panel the tests read.
type Panel struct {
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// Panels decodes a dashboard's panels.
func Panels(t testing.TB, raw []byte) []Panel {
	t.Helper()
	var d struct {
		Panels []Panel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d.Panels
}
