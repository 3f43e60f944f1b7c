package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// keyPaths are the YAML keys of t, nested keys joined by dots and list
// items marked [] (workspaces[].gid), as the docs name them.
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		typ := f.Type
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch {
		case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct:
			out = append(out, keyPaths(typ.Elem(), path+"[].")...)
		case typ.Kind() == reflect.Struct && typ.NumField() > 0 && typ.Field(0).Tag.Get("yaml") != "":
			out = append(out, keyPaths(typ, path+".")...)
		default:
			out = append(out, path)
		}
	}
	return out
}

// row is the key of the docs' row that documents key k. An organisation's
// copy of a top-level key (organizations[].workspaces[].gid) is
// documented by the row of its first part (organizations[].workspaces),
// which refers to the top-level rows.
func row(k string, keys []string) string {
	rest, ok := strings.CutPrefix(k, "organizations[].")
	if !ok || !slices.Contains(keys, rest) {
		return k
	}
	first, _, _ := strings.Cut(rest, ".")
	return "organizations[]." + strings.TrimSuffix(first, "[]")
}

// TestEveryKeyIsDocumented: docs/CONFIGURATION.md has a row for every key
// of the config file, config.example.yml names each, and neither names a
// key the config does not have.
func TestEveryKeyIsDocumented(t *testing.T) {
	keys := keyPaths(reflect.TypeFor[Config](), "")
	if len(keys) < 10 {
		t.Fatalf("found only the keys %v", keys)
	}
	doc, err := os.ReadFile("../docs/CONFIGURATION.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../config.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, k := range keys {
		if r := row(k, keys); !rows[r] {
			rows[r] = true
			if !strings.Contains(string(doc), "| `"+r+"` |") {
				t.Errorf("docs/CONFIGURATION.md has no row for %s", r)
			}
		}
		leaf := k[strings.LastIndexAny(k, ".")+1:]
		if !strings.Contains(string(example), leaf+":") {
			t.Errorf("config.example.yml does not name %s", k)
		}
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if k, ok := strings.CutPrefix(line, "| `"); ok {
			k, _, _ = strings.Cut(k, "`")
			if !rows[k] {
				t.Errorf("docs/CONFIGURATION.md documents %s, which the config does not have", k)
			}
		}
	}
}
