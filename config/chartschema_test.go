package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

// schemaNode is the part of a JSON Schema (draft-07) that the Helm chart's
// values.schema.json uses to describe the config file.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 string                 `json:"type"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Properties           map[string]*schemaNode `json:"properties"`
	Items                *schemaNode            `json:"items"`
	AnyOf                []*schemaNode          `json:"anyOf"`
	Pattern              string                 `json:"pattern"`
	MinLength            int                    `json:"minLength"`
}

// chartSchema reads the chart's values.schema.json: its definitions, by
// name.
func chartSchema(t *testing.T) map[string]*schemaNode {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "charts", "asana-exporter", "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties  map[string]*schemaNode
		Definitions map[string]*schemaNode
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	if ref := doc.Properties["config"]; ref == nil || ref.Ref != "#/definitions/config" {
		t.Fatalf("values.schema.json: the value config is %+v, want a $ref to #/definitions/config", ref)
	}
	return doc.Definitions
}

// TestChartSchemaMatchesConfig: the Helm chart's values.schema.json has
// for the config file the keys of Config's yaml tags, at every depth, each
// with its type, and refuses any other key; so helm install refuses a typo
// the exporter would refuse at start, and a key added to Config without
// the schema (or the other way round) fails here.
func TestChartSchemaMatchesConfig(t *testing.T) {
	defs := chartSchema(t)
	var walk func(path string, n *schemaNode, typ reflect.Type)
	walk = func(path string, n *schemaNode, typ reflect.Type) {
		if typ.Kind() == reflect.Pointer { // an optional setting
			typ = typ.Elem()
		}
		switch {
		case typ == reflect.TypeFor[model.Duration]():
			// A duration is a Prometheus duration (or an unquoted 0).
			if !slices.ContainsFunc(append([]*schemaNode{n}, n.AnyOf...), func(a *schemaNode) bool { return a.Ref == "#/definitions/prometheusDuration" }) {
				t.Errorf("%s: a duration, but the schema gives %+v, not #/definitions/prometheusDuration", path, n)
			}
			return
		case typ == reflect.TypeFor[Date]():
			if n.Type != "string" || n.Pattern == "" {
				t.Errorf("%s: a date, but the schema has no string pattern for it", path)
			}
			return
		}
		if name, ok := strings.CutPrefix(n.Ref, "#/definitions/"); ok {
			n = defs[name]
			if n == nil {
				t.Fatalf("%s: $ref to a definition the schema lacks", path)
			}
		}
		want := map[reflect.Kind]string{
			reflect.String: "string", reflect.Int: "integer", reflect.Float64: "number", reflect.Bool: "boolean",
			reflect.Slice: "array", reflect.Struct: "object",
		}[typ.Kind()]
		if want == "" {
			t.Fatalf("%s: Go type %s, which this test does not map to a JSON Schema type", path, typ)
		}
		if n.Type != want {
			t.Errorf("%s: Go type %s, schema type %q, want %q", path, typ, n.Type, want)
			return
		}
		switch typ.Kind() {
		case reflect.Slice:
			if n.Items == nil {
				t.Errorf("%s: an array without items", path)
				return
			}
			walk(path+"[]", n.Items, typ.Elem())
		case reflect.Struct:
			if string(n.AdditionalProperties) != "false" {
				t.Errorf("%s: additionalProperties is %s, want false: the exporter refuses an unknown key", path, n.AdditionalProperties)
			}
			keys := map[string]bool{}
			for f := range typ.Fields() {
				key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				keys[key] = true
				p := strings.TrimPrefix(path+"."+key, "config.")
				if n.Properties[key] == nil {
					t.Errorf("config key %s is not in the chart's values.schema.json: add it under definitions.config", p)
					continue
				}
				walk(p, n.Properties[key], f.Type)
			}
			for key := range n.Properties {
				if !keys[key] {
					t.Errorf("values.schema.json has %s.%s, which the config file does not: remove it", path, key)
				}
			}
		}
	}
	walk("config", defs["config"], reflect.TypeFor[Config]())
}

// TestChartSchemaPatterns: the schema's patterns for a config duration, a
// date and a gid accept what Parse accepts and refuse what it refuses, on
// the forms people write. (The patterns use only what both JSON Schema's
// and Go's regular expressions mean alike.) Where a pattern cannot tell,
// it accepts and the exporter refuses at start: a day that no month has.
func TestChartSchemaPatterns(t *testing.T) {
	defs := chartSchema(t)
	cases := []struct {
		node    *schemaNode
		parse   func(string) error
		samples []string
	}{
		{defs["prometheusDuration"], func(s string) error { _, err := model.ParseDuration(s); return err },
			[]string{"0", "30s", "5m", "1h", "1d", "7d", "2w", "1y", "1h30m", "1d12h", "500ms", "1m30s500ms",
				"", "5", "0.5h", "1.5d", "30m1h", "5 m", "-5m", "1D", "5min", "h", "1h "}},
		{defs["workspace"].Properties["renewal_date"], func(s string) error { _, err := ParseDate(s); return err },
			[]string{"2027-03-31", "2008-01-01", "2099-12-31", "2028-02-29",
				"2007-12-31", "2100-01-01", "2027-3-31", "27-03-31", "2027-13-01", "2027-00-10", "2027-01-32", "2027/03/31", "31-03-2027", ""}},
		{defs["gid"], func(s string) error {
			_, err := Parse([]byte("exclude_workspaces: [" + strconv.Quote(s) + "]"))
			return err
		}, []string{"1", "1200000000000001", "", "12a", "1.2e+15", " 1", "-1"}},
	}
	for _, c := range cases {
		re, err := regexp.Compile(c.node.Pattern)
		if err != nil {
			t.Fatalf("pattern %s: %v", c.node.Pattern, err)
		}
		for _, s := range c.samples {
			if valid, parsed := len(s) >= c.node.MinLength && re.MatchString(s), c.parse(s) == nil; valid != parsed {
				t.Errorf("%q: the schema takes it: %v (pattern %s, minLength %d); the exporter takes it: %v", s, valid, c.node.Pattern, c.node.MinLength, parsed)
			}
		}
	}
}

// TestChartSchemaOrganizationConfig: the chart's organizations[].config
// takes the keys of an organisation in the config file but its name and
// its credentials, which the chart writes, each as the config's
// organization defines it; so a key added to Organization reaches the
// chart's value, or fails here.
func TestChartSchemaOrganizationConfig(t *testing.T) {
	defs := chartSchema(t)
	chartSets := map[string]bool{"name": true, "token_file": true, "token_env": true, "oauth": true, "audit_token_file": true}
	want := map[string]string{}
	for key := range defs["organization"].Properties {
		if !chartSets[key] {
			want[key] = "#/definitions/organization/properties/" + key
		}
	}
	got := map[string]string{}
	for key, n := range defs["organizationConfig"].Properties {
		got[key] = n.Ref
	}
	if len(want) < 4 || !reflect.DeepEqual(got, want) {
		t.Errorf("values.schema.json's organizationConfig has %v, want %v", got, want)
	}
}
