package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The dashboards in dashboards/, read for the checks against Grafana's
// schema, the PromQL parser and a real Prometheus.

// grafanaDashboard is the part of a dashboard's JSON that the checks read.
type grafanaDashboard struct {
	File       string      `json:"-"`
	Raw        []byte      `json:"-"`
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Tags       []string    `json:"tags"`
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []dashVariable `json:"list"`
	} `json:"templating"`
}

// dashVariable is a dashboard template variable.
type dashVariable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query any    `json:"query"` // a string, or an object with "query"
	Regex string `json:"regex"` // picks value and text out of each result
}

// dashPanel is a dashboard panel or row.
type dashPanel struct {
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
	Targets []dashTarget `json:"targets"`
}

// dashTarget is one PromQL query of a panel.
type dashTarget struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

// allDashboards returns every dashboard in dashboards/, sorted by file name.
func allDashboards() ([]grafanaDashboard, error) {
	names, err := filepath.Glob(repoPath("dashboards", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []grafanaDashboard
	for _, path := range names {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(path)
		d := grafanaDashboard{File: name, Raw: raw}
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Variable returns the template variable called name, if any.
func (d grafanaDashboard) Variable(name string) (dashVariable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return dashVariable{}, false
}

// QueryText is the variable's query, whichever form it is stored in.
func (v dashVariable) QueryText() string {
	switch q := v.Query.(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	}
	return ""
}

// expandQuery replaces Grafana's variables in a panel query with what Grafana
// sends when every workspace and job is selected, over a day: the query
// Prometheus would see.
func expandQuery(expr string, rateInterval time.Duration) string {
	return strings.NewReplacer(
		"$__rate_interval", model.Duration(rateInterval).String(),
		"$__range", "1d",
		"$workspace", ".*",
		"$organization", ".*",
		"$job", ".*",
	).Replace(expr)
}
