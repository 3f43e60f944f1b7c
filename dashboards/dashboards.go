// Package dashboards embeds asana_exporter's Grafana dashboards and reads
// their panel queries, so that tests can check every query against Grafana's
// schema, the PromQL parser and a real Prometheus.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

//go:embed *.json
var files embed.FS

// Dashboard is the part of a dashboard's JSON that the checks read.
type Dashboard struct {
	File       string   `json:"-"`
	Raw        []byte   `json:"-"`
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Panels     []Panel  `json:"panels"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Variable is a dashboard template variable.
type Variable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query any    `json:"query"` // a string, or an object with "query"
	Regex string `json:"regex"` // picks value and text out of each result
}

// Panel is a dashboard panel or row.
type Panel struct {
	ID          int    `json:"id"`
	Title       string `json:"title"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Datasource  struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []Target `json:"targets"`
}

// Target is one PromQL query of a panel.
type Target struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

// All returns every embedded dashboard, sorted by file name.
func All() ([]Dashboard, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, err
	}
	var out []Dashboard
	for _, name := range names {
		raw, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		d := Dashboard{File: name, Raw: raw}
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Variable returns the template variable called name, if any.
func (d Dashboard) Variable(name string) (Variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// QueryText is the variable's query, whichever form it is stored in.
func (v Variable) QueryText() string {
	switch q := v.Query.(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	}
	return ""
}

// Expand replaces Grafana's variables in a panel query with what Grafana
// sends when every workspace and job is selected: the query Prometheus
// would see.
func Expand(expr string, rateInterval time.Duration) string {
	return strings.NewReplacer(
		"$__rate_interval", model.Duration(rateInterval).String(),
		"$workspace", ".*",
		"$job", ".*",
	).Replace(expr)
}
