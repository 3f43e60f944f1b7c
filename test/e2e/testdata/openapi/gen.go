//go:build ignore

// gen cuts asana-openapi-slice.yaml out of Asana's official OpenAPI spec
// (Asana/openapi, defs/asana_oas.yaml). It copies text line for line from
// the upstream file: the GET operations of the paths listed in keepPaths
// (minus their x- extensions), their path-level parameters, the info block
// (minus its x- extensions), servers, security, and every component those
// reference, transitively. It then re-parses its output and checks that it
// decodes to exactly the selected parts of the upstream document.
//
// Usage, from this directory:
//
//	go run gen.go -src /path/to/asana_oas.yaml
//
// The source must be the upstream file at commit
// fc9f8dcf224efa8e06bfc955d91dd95aac7a398d (its sha256 is checked), e.g.
// https://raw.githubusercontent.com/Asana/openapi/fc9f8dcf224efa8e06bfc955d91dd95aac7a398d/defs/asana_oas.yaml
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"reflect"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

const (
	upstreamRepo   = "https://github.com/Asana/openapi"
	upstreamPath   = "defs/asana_oas.yaml"
	upstreamCommit = "fc9f8dcf224efa8e06bfc955d91dd95aac7a398d"
	upstreamBlob   = "bd4a0a47365b344958a814e55e029b9e8825c792"
	upstreamSHA256 = "50705f125ecdacd17d30ab498709f3da54ba5a9426a1e4a05b494ff56481eb2f"
)

// keepPaths are the paths whose GET operation is kept. They are written in
// upstream order.
var keepPaths = []string{
	"/workspaces",
	"/workspaces/{workspace_gid}",
	"/workspaces/{workspace_gid}/workspace_memberships",
	"/users/{user_gid}/workspace_memberships",
	"/workspace_memberships/{workspace_membership_gid}",
	"/users/{user_gid}",
}

// componentSections are the component sections, in output order.
var componentSections = []string{"parameters", "responses", "schemas", "securitySchemes"}

func main() {
	src := flag.String("src", "", "path to upstream defs/asana_oas.yaml (required)")
	out := flag.String("out", "asana-openapi-slice.yaml", "output file")
	flag.Parse()
	if *src == "" {
		log.Fatal("-src is required")
	}
	raw, err := os.ReadFile(*src)
	if err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != upstreamSHA256 {
		log.Fatalf("%s: sha256 %s, want %s (upstream commit %s)", *src, got, upstreamSHA256, upstreamCommit)
	}
	g, err := newGen(raw)
	if err != nil {
		log.Fatal(err)
	}
	text, want, err := g.cut()
	if err != nil {
		log.Fatal(err)
	}
	if err := verify(text, want); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, text, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s (%d bytes)", *out, len(text))
}

type gen struct {
	lines []string
	root  *yaml.Node // the top-level mapping
}

func newGen(raw []byte) (*gen, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("unexpected document shape")
	}
	return &gen{lines: strings.Split(string(raw), "\n"), root: doc.Content[0]}, nil
}

// lookup returns the key and value nodes of key in mapping m.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func (g *gen) mustLookup(m *yaml.Node, path ...string) (k, v *yaml.Node) {
	v = m
	for _, p := range path {
		k, v = lookup(v, p)
		if v == nil {
			log.Fatalf("upstream spec has no %q", strings.Join(path, "/"))
		}
	}
	return k, v
}

// entry returns the source lines of the mapping entry whose key is k: the key
// line and every following line that is blank or indented deeper than the
// key, without trailing blank lines.
func (g *gen) entry(k *yaml.Node) []string {
	start := k.Line - 1
	indent := k.Column - 1
	if got := leading(g.lines[start]); got != indent {
		log.Fatalf("line %d: key %q not at column %d", k.Line, k.Value, k.Column)
	}
	end := start + 1
	for end < len(g.lines) {
		l := g.lines[end]
		if strings.TrimSpace(l) != "" && leading(l) <= indent {
			break
		}
		end++
	}
	for end > start+1 && strings.TrimSpace(g.lines[end-1]) == "" {
		end--
	}
	return g.lines[start:end]
}

// keyLine returns the line of a mapping key whose value is a block mapping.
func (g *gen) keyLine(k *yaml.Node) string {
	l := g.lines[k.Line-1]
	if strings.TrimSpace(l) != k.Value+":" && strings.TrimSpace(l) != "'"+k.Value+"':" {
		log.Fatalf("line %d: %q is not a bare mapping key line", k.Line, l)
	}
	return l
}

func leading(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// filtered emits the key line of mapping entry (k, v) followed by the
// entries of v whose key does not start with "x-". It returns the dropped
// keys.
func (g *gen) filtered(w *[]string, k, v *yaml.Node) (dropped []string) {
	*w = append(*w, g.keyLine(k))
	for i := 0; i+1 < len(v.Content); i += 2 {
		ck := v.Content[i]
		if strings.HasPrefix(ck.Value, "x-") {
			dropped = append(dropped, ck.Value)
			continue
		}
		*w = append(*w, g.entry(ck)...)
	}
	return dropped
}

// decode decodes a node into plain Go values.
func decode(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		log.Fatal(err)
	}
	return v
}

// withoutX decodes a mapping node, leaving out keys starting with "x-".
func withoutX(n *yaml.Node) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !strings.HasPrefix(n.Content[i].Value, "x-") {
			m[n.Content[i].Value] = decode(n.Content[i+1])
		}
	}
	return m
}

// refs collects $ref targets and security scheme names under n.
func refs(n *yaml.Node, underSecurity bool, add func(section, name string)) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if strings.HasPrefix(k.Value, "x-") {
				continue // dropped or copied as opaque data; never followed
			}
			if k.Value == "$ref" && v.Kind == yaml.ScalarNode {
				rest, ok := strings.CutPrefix(v.Value, "#/components/")
				section, name, ok2 := strings.Cut(rest, "/")
				if !ok || !ok2 || strings.Contains(name, "/") || strings.Contains(name, "~") {
					log.Fatalf("line %d: unsupported $ref %q", v.Line, v.Value)
				}
				add(section, name)
				continue
			}
			if underSecurity {
				add("securitySchemes", k.Value)
				continue
			}
			refs(v, k.Value == "security" && v.Kind == yaml.SequenceNode, add)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			refs(c, underSecurity, add)
		}
	}
}

// cut returns the slice text and the Go value it must decode to.
func (g *gen) cut() ([]byte, map[string]any, error) {
	want := map[string]any{}
	var body []string
	var droppedInfo, droppedOps []string

	// Top level: openapi, info (minus x-), servers, security.
	for _, key := range []string{"openapi", "info", "servers", "security"} {
		k, v := g.mustLookup(g.root, key)
		if key == "info" {
			droppedInfo = g.filtered(&body, k, v)
			want[key] = withoutX(v)
			continue
		}
		body = append(body, g.entry(k)...)
		want[key] = decode(v)
	}

	// Paths: path-level fields (minus x-) and the GET operation (minus x-).
	type ref struct{ section, name string }
	var queue []ref
	seen := map[ref]bool{}
	add := func(section, name string) {
		r := ref{section, name}
		if !seen[r] {
			seen[r] = true
			queue = append(queue, r)
		}
	}
	refs(g.root, false, func(section, name string) {}) // syntax check of every $ref
	_, sec := g.mustLookup(g.root, "security")
	refs(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "security"}, sec}}, false, add)

	_, paths := g.mustLookup(g.root, "paths")
	var pathLines []string
	wantPaths := map[string]any{}
	for _, p := range g.orderedPaths(paths) {
		pk, pv := g.mustLookup(paths, p)
		pathLines = append(pathLines, g.keyLine(pk))
		wantItem := map[string]any{}
		for i := 0; i+1 < len(pv.Content); i += 2 {
			ck, cv := pv.Content[i], pv.Content[i+1]
			switch {
			case ck.Value == "get":
				for _, d := range g.filtered(&pathLines, ck, cv) {
					droppedOps = append(droppedOps, "paths."+p+".get."+d)
				}
				wantItem["get"] = withoutX(cv)
				refs(cv, false, add)
			case isMethod(ck.Value) || strings.HasPrefix(ck.Value, "x-"):
				droppedOps = append(droppedOps, "paths."+p+"."+ck.Value)
			default: // parameters, summary, description, servers
				pathLines = append(pathLines, g.entry(ck)...)
				wantItem[ck.Value] = decode(cv)
				refs(cv, false, add)
			}
		}
		wantPaths[p] = wantItem
	}

	// Components, transitively.
	_, comps := g.mustLookup(g.root, "components")
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		_, v := g.mustLookup(comps, r.section, r.name)
		refs(v, false, add)
	}
	body = append(body, "components:")
	wantComps := map[string]any{}
	counts := map[string]int{}
	for _, section := range componentSections {
		sk, sv := g.mustLookup(comps, section)
		var sec []string
		wantSec := map[string]any{}
		for i := 0; i+1 < len(sv.Content); i += 2 {
			ck, cv := sv.Content[i], sv.Content[i+1]
			if seen[ref{section, ck.Value}] {
				sec = append(sec, g.entry(ck)...)
				wantSec[ck.Value] = decode(cv)
				counts[section]++
			}
		}
		if len(sec) > 0 {
			body = append(body, g.keyLine(sk))
			body = append(body, sec...)
			wantComps[section] = wantSec
		}
	}
	for r := range seen {
		if !contains(componentSections, r.section) {
			return nil, nil, fmt.Errorf("reference to unsupported section %q", r.section)
		}
	}
	want["components"] = wantComps
	pk, _ := g.mustLookup(g.root, "paths")
	body = append(body, g.keyLine(pk))
	body = append(body, pathLines...)
	want["paths"] = wantPaths

	var topDropped []string
	for i := 0; i+1 < len(g.root.Content); i += 2 {
		if k := g.root.Content[i].Value; want[k] == nil {
			topDropped = append(topDropped, k)
		}
	}
	var buf bytes.Buffer
	header(&buf, g.orderedPaths(paths), counts, topDropped, droppedInfo, droppedOps)
	buf.WriteString(strings.Join(body, "\n"))
	buf.WriteString("\n")
	return buf.Bytes(), want, nil
}

func header(w *bytes.Buffer, ordered []string, counts map[string]int, topDropped, droppedInfo, droppedOps []string) {
	p := func(format string, args ...any) {
		fmt.Fprintln(w, strings.TrimRight("# "+fmt.Sprintf(format, args...), " "))
	}
	p("Asana OpenAPI spec, EXCERPT. Test data for asana/asanatest (specvalidator_test.go),")
	p("which checks the simulated Asana API's responses against it.")
	p("")
	p("Upstream: %s, file %s", upstreamRepo, upstreamPath)
	p("  commit %s", upstreamCommit)
	p("  blob   %s", upstreamBlob)
	p("  sha256 %s", upstreamSHA256)
	p("Copyright Asana, Inc. Licensed under the Apache License, Version 2.0 (see")
	p("info.license below and LICENSE beside this file). This file is an excerpt")
	p("of the upstream file, redistributed under section 4 of that licence.")
	p("")
	p("CHANGED from upstream (Apache-2.0 section 4(b)): this is a cut, not an edit.")
	p("Every line below this header is copied verbatim, in upstream order, from the")
	p("upstream file. Kept:")
	p("  - openapi, info, servers, security;")
	p("  - the GET operation of each of these paths, with its path-level parameters:")
	for _, path := range ordered {
		p("      %s", path)
	}
	p("  - every component those reference, transitively (%d parameters,",
		counts["parameters"])
	p("    %d responses, %d schemas, %d securitySchemes), each whole.",
		counts["responses"], counts["schemas"], counts["securitySchemes"])
	p("Dropped:")
	p("  - top-level %s;", strings.Join(topDropped, ", "))
	p("  - info.%s;", strings.Join(droppedInfo, ", info."))
	p("  - from each kept path: the other operations and x- extensions; from each")
	p("    kept GET operation: its x- extensions (x-readme code samples). In all:")
	for _, d := range droppedOps {
		p("      %s", d)
	}
	p("  - all other paths and components.")
	p("Generated by gen.go in this directory (see SOURCE.md). Do not edit by hand.")
}

// orderedPaths returns keepPaths in the order they appear upstream.
func (g *gen) orderedPaths(paths *yaml.Node) []string {
	ordered := slices.Clone(keepPaths)
	slices.SortFunc(ordered, func(a, b string) int {
		ka, _ := g.mustLookup(paths, a)
		kb, _ := g.mustLookup(paths, b)
		return ka.Line - kb.Line
	})
	return ordered
}

func isMethod(s string) bool {
	return contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// verify checks that text parses and decodes to exactly want.
func verify(text []byte, want map[string]any) error {
	var got map[string]any
	if err := yaml.Unmarshal(text, &got); err != nil {
		return fmt.Errorf("output does not parse: %w", err)
	}
	// Round-trip want through YAML so both sides use the same Go types.
	wb, err := yaml.Marshal(want)
	if err != nil {
		return err
	}
	var w map[string]any
	if err := yaml.Unmarshal(wb, &w); err != nil {
		return err
	}
	if !reflect.DeepEqual(got, w) {
		for k := range w {
			if !reflect.DeepEqual(got[k], w[k]) {
				return fmt.Errorf("output differs from upstream selection under %q", k)
			}
		}
		return fmt.Errorf("output has extra top-level keys")
	}
	return nil
}
