package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxEcho bounds how much of the file an error may quote verbatim: enough to
// show the value at fault, not enough to pour a pasted blob into the log or
// the /-/reload response.
const maxEcho = 128

// FuzzParse parses arbitrary bytes as a config file. Run it with:
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime=1m ./config
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "config.example.yml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(example),
		"",
		"# nothing but a comment\n",
		"---\n",
		"null\n",
		"workspaces:\n  - gid: \"1111\"\n    seats_purchased: 1000\n  - gid: \"2222\"\nexclude_workspaces: [\"3333\"]\nmax_staleness: 2h\n",
		"workspaces: [{gid: \"1\"}]\nonly_listed_workspaces: true\nworkspace_concurrency: 20\nrequests_per_minute: 1\nmax_staleness: 0s\n",
		"workspaces:\n  - gid: 1111\n",
		"workspaces:\n  - gid: \"0x1F\"\n",
		"workspaces:\n  - gid: \"1\"\n  - gid: \"1\"\n",
		"workspaces:\n  - gid: \"1\"\n    seats_purchased: -1\n",
		"workspaces:\n  - gid: \"1\"\n    seat_purchased: 5\n",
		"exclude_workspaces: [\"1\"]\nworkspaces:\n  - gid: \"1\"\n",
		"only_listed_workspaces: true\n",
		"max_staleness: -1h\n",
		"max_staleness: forever\n",
		"max_staleness: 9999999999h\n",
		"workspace_concurrency: 21\nrequests_per_minute: 0\n",
		"requests_per_minute: 1e3\n",
		"workspaces: [\n",
		"workspaces: &a [*a]\n",
		"a: &a [*a, *a]\nb: &b [*a, *a]\n",
		"workspaces:\n  - gid: \"" + strings.Repeat("x", 300) + "\"\n",
		"max_staleness: " + strings.Repeat("9", 300) + "\n",
		strings.Repeat("k", 300) + ": 1\n",
		"workspaces: {gid: \"1\"}\n",
		"\xef\xbb\xbfworkspace_concurrency: 2\n",
		"workspace_concurrency: 2\n---\nworkspace_concurrency: 30\n",
		"workspace_concurrency: 2\n---\n",
		"---\n---\nworkspace_concurrency: 3\n",
		"workspaces:\n  - gid: \"1\"\n    seats_purchased: 5\n  - gid: \"1\"\n    seats_purchased: 5\n",
		"workspaces:\n  - gid: \"1\"\n    seats_purchased: 5\n  - gid: \"1\"\n    seats_purchased: 6\n",
		"workspaces:\n  - {gid: \"1\", seat_price: 1.5}\n  - {gid: \"2\"}\n  - {gid: \"1\"}\n",
		"workspaces: [&w {gid: \"1\", seats_purchased: 2}, *w]\n",
		"user_gid,user_name,user_email\n1200000000000042,Alice Example,alice@example.com\n",
		"- gid: \"1\"\n",
		"workspaces:\n  - {gid: \"1\", renewal_date: 2027-03-31}\n  - {gid: \"2\", renewal_date: \"2099-12-31\"}\n  - {gid: \"3\", renewal_date: }\n",
		"workspaces:\n  - {gid: \"1\", renewal_date: 2027-02-29}\n  - {gid: \"2\", renewal_date: 2007-12-31}\n",
		"workspaces:\n  - {gid: \"1\", renewal_date: 2027-03-31 10:00:00}\n  - {gid: \"2\", renewal_date: {y: 2027}}\n",
		"exclude_workspaces: [&d \"2027-13-01\"]\nworkspaces:\n  - {gid: \"1\", renewal_date: *d}\n",
		twoOrganizations,
		"organizations: []\n",
		"organizations:\n  - {name: a, token_env: A}\n  - {name: a, token_env: B}\n",
		"organizations:\n  - {name: a, token_file: /t/x}\n  - {name: b, token_file: /t/x, only_listed_workspaces: true, workspaces: [{gid: \"2\"}]}\n",
		"organizations:\n  - {name: a, token_env: A, workspaces: [{gid: \"5\"}]}\n  - {name: b, token_env: B, workspaces: [{gid: \"5\"}]}\n",
		"organizations:\n  - {name: a, oauth: {client_id: \"1\", client_secret_file: /s, refresh_token_file: /r}, requests_per_minute: 20}\n",
		"organizations:\n  - {name: a, token_env: \"2/1234:secret\"}\n",
		"organizations:\n  - {name: a, token_env: A}\nworkspaces: [{gid: \"1\"}]\nrequests_per_minute: 9\n",
		"organizations: &o [{name: a, token_env: A, workspaces: *o}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Parse(raw)
		if err != nil {
			msg := err.Error()
			if strings.TrimSpace(msg) == "" {
				t.Fatalf("empty error for %q", raw)
			}
			if echo := longEcho(unquoted(withoutYAMLMessages(msg, raw)), raw); echo != "" {
				t.Fatalf("error quotes %d+ bytes of the file (%q...): %s", len(echo), echo, msg)
			}
			return
		}
		if c == nil {
			t.Fatal("nil config and nil error")
		}
		checkValid(t, c)

		// What Parse accepted, written back out, parses to the same config.
		again, err := Parse([]byte(render(c)))
		if err != nil {
			t.Fatalf("re-parsing %q: %v", render(c), err)
		}
		if render(again) != render(c) {
			t.Fatalf("round trip changed the config:\n%s\nto\n%s", render(c), render(again))
		}
	})
}

// checkValid checks the invariants validate promises, independently of it.
func checkValid(t *testing.T, c *Config) {
	t.Helper()
	seen := map[string]bool{}
	for i, w := range c.Workspaces {
		if !digits(w.GID) {
			t.Fatalf("workspaces[%d]: gid %q is not digits", i, w.GID)
		}
		if seen[w.GID] {
			t.Fatalf("workspaces[%d]: gid %s twice", i, w.GID)
		}
		seen[w.GID] = true
		if w.SeatsPurchased != nil && *w.SeatsPurchased < 0 {
			t.Fatalf("workspaces[%d]: seats_purchased %d", i, *w.SeatsPurchased)
		}
		if d := w.RenewalDate; d != nil && (d.Location() != time.UTC || d.Truncate(24*time.Hour) != d.Time || d.Year() < 2008 || d.Year() > 2099) {
			t.Fatalf("workspaces[%d]: renewal_date %v is not 00:00 UTC of a day in 2008..2099", i, d.Time)
		}
		got := c.Workspace(w.GID)
		if got != &c.Workspaces[i] {
			t.Fatalf("Workspace(%q) = %p, want workspaces[%d] at %p", w.GID, got, i, &c.Workspaces[i])
		}
		if !c.Collects(w.GID) {
			t.Fatalf("listed workspace %s is not collected", w.GID)
		}
	}
	for _, gid := range c.ExcludeWorkspaces {
		if !digits(gid) || seen[gid] {
			t.Fatalf("exclude_workspaces: %q (listed too: %t)", gid, seen[gid])
		}
		if c.Collects(gid) {
			t.Fatalf("excluded workspace %s is collected", gid)
		}
	}
	if c.OnlyListedWorkspaces {
		if len(c.Workspaces) == 0 {
			t.Fatal("only_listed_workspaces with no workspaces")
		}
		if c.Collects("0" + strings.Repeat("9", 20)) {
			t.Fatal("an unlisted workspace is collected in only-listed mode")
		}
	}
	if c.MaxStaleness < 0 {
		t.Fatalf("max_staleness %v", time.Duration(c.MaxStaleness))
	}
	if c.WorkspaceConcurrency < 1 || c.WorkspaceConcurrency > 20 {
		t.Fatalf("workspace_concurrency %d", c.WorkspaceConcurrency)
	}
	if c.RequestsPerMinute < 1 || c.RequestsPerMinute > 1500 {
		t.Fatalf("requests_per_minute %d", c.RequestsPerMinute)
	}
	var listed []string
	for _, w := range c.Workspaces {
		listed = append(listed, w.GID)
	}
	if absent := c.ListedButAbsent(func(string) bool { return false }); !slices.Equal(absent, listed) {
		t.Fatalf("ListedButAbsent(none present) = %v, want %v", absent, listed)
	}
	if absent := c.ListedButAbsent(func(string) bool { return true }); len(absent) != 0 {
		t.Fatalf("ListedButAbsent(all present) = %v", absent)
	}
	if len(c.Organizations) > 0 && (len(c.Workspaces) > 0 || len(c.ExcludeWorkspaces) > 0 || c.OnlyListedWorkspaces) {
		t.Fatal("top-level workspace keys beside organizations:")
	}
	names, owner := map[string]bool{}, map[string]string{}
	for i, o := range c.Organizations {
		if names[o.Name] || !namePattern.MatchString(o.Name) || len(o.Name) > maxNameLength {
			t.Fatalf("organizations[%d]: name %q (twice: %t)", i, o.Name, names[o.Name])
		}
		names[o.Name] = true
		if o.Credential() == "" || o.TokenFile != "" && o.TokenEnv != "" {
			t.Fatalf("organizations[%d]: credential %q", i, o.Credential())
		}
		if p := o.PerMinute(); p < 1 || p > 1500 {
			t.Fatalf("organizations[%d]: requests_per_minute %d", i, p)
		}
		scoped := c.Scope(o.Name)
		checkValid(t, &Config{Workspaces: o.Workspaces, ExcludeWorkspaces: o.ExcludeWorkspaces, OnlyListedWorkspaces: o.OnlyListedWorkspaces,
			MaxStaleness: c.MaxStaleness, WorkspaceConcurrency: c.WorkspaceConcurrency, RequestsPerMinute: o.PerMinute()})
		for _, w := range o.Workspaces {
			if other, ok := owner[w.GID]; ok {
				t.Fatalf("gid %s under %s and %s", w.GID, other, o.Name)
			}
			owner[w.GID] = o.Name
			if !scoped.Collects(w.GID) || c.Workspace(w.GID) == nil {
				t.Fatalf("%s's workspace %s is not collected by its scope, or not found", o.Name, w.GID)
			}
		}
	}
	for gid, name := range owner {
		for other := range names {
			if other != name && c.Scope(other).Collects(gid) {
				t.Fatalf("%s's workspace %s is collected by %s too", name, gid, other)
			}
		}
	}
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// render writes c as YAML that Parse reads back.
func render(c *Config) string {
	var b strings.Builder
	if len(c.Organizations) == 0 {
		renderWorkspaceKeys(&b, "", c.Workspaces, c.OnlyListedWorkspaces, c.ExcludeWorkspaces)
		fmt.Fprintf(&b, "requests_per_minute: %d\n", c.RequestsPerMinute)
	} else {
		b.WriteString("organizations:\n")
		for _, o := range c.Organizations {
			fmt.Fprintf(&b, "  - name: %q\n", o.Name)
			switch {
			case o.TokenFile != "":
				fmt.Fprintf(&b, "    token_file: %q\n", o.TokenFile)
			case o.TokenEnv != "":
				fmt.Fprintf(&b, "    token_env: %q\n", o.TokenEnv)
			default:
				fmt.Fprintf(&b, "    oauth: {client_id: %q, client_secret_file: %q, refresh_token_file: %q}\n",
					o.OAuth.ClientID, o.OAuth.ClientSecretFile, o.OAuth.RefreshTokenFile)
			}
			if o.AuditTokenFile != "" {
				fmt.Fprintf(&b, "    audit_token_file: %q\n", o.AuditTokenFile)
			}
			fmt.Fprintf(&b, "    requests_per_minute: %d\n", o.PerMinute())
			renderWorkspaceKeys(&b, "    ", o.Workspaces, o.OnlyListedWorkspaces, o.ExcludeWorkspaces)
		}
	}
	fmt.Fprintf(&b, "max_staleness: %s\n", time.Duration(c.MaxStaleness))
	fmt.Fprintf(&b, "workspace_concurrency: %d\n", c.WorkspaceConcurrency)
	return b.String()
}

// renderWorkspaceKeys writes the workspace keys, indented.
func renderWorkspaceKeys(b *strings.Builder, indent string, workspaces []Workspace, onlyListed bool, exclude []string) {
	b.WriteString(indent + "workspaces:\n")
	for _, w := range workspaces {
		fmt.Fprintf(b, "%s  - gid: %q\n", indent, w.GID)
		if w.SeatsPurchased != nil {
			fmt.Fprintf(b, "%s    seats_purchased: %d\n", indent, *w.SeatsPurchased)
		}
		if w.RenewalDate != nil {
			fmt.Fprintf(b, "%s    renewal_date: %s\n", indent, w.RenewalDate)
		}
	}
	fmt.Fprintf(b, "%sonly_listed_workspaces: %t\n", indent, onlyListed)
	b.WriteString(indent + "exclude_workspaces:\n")
	for _, gid := range exclude {
		fmt.Fprintf(b, "%s  - %q\n", indent, gid)
	}
}

// withoutYAMLMessages drops from msg the messages that yaml.v3 composes and
// Parse passes on unchanged. Those are yaml.v3's to bound: it shortens a
// value it quotes to 7 bytes, but quotes a custom tag, a repeated mapping
// key or an anchor name whole.
func withoutYAMLMessages(msg string, raw []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	err := dec.Decode(Default())
	var te *yaml.TypeError
	switch {
	case err == nil:
		return msg // the message is validate's
	case errors.As(err, &te):
		for _, m := range te.Errors {
			if !strings.Contains(m, " not found in type ") { // Parse rewords those
				msg = strings.ReplaceAll(msg, m, "")
			}
		}
		return msg
	case strings.Contains(err.Error(), "is not a duration such as"), // Duration.UnmarshalYAML
		strings.Contains(err.Error(), "date"): // Date.UnmarshalYAML
		return msg
	}
	return strings.ReplaceAll(msg, err.Error(), "")
}

// unquoted replaces each Go-quoted string in msg by its value, so that an
// echo is measured in bytes of the file, not in the escapes %q writes for
// them (32 backslashes quote as 64).
func unquoted(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		if msg[i] == '"' {
			if q, err := strconv.QuotedPrefix(msg[i:]); err == nil {
				v, _ := strconv.Unquote(q)
				b.WriteString(v)
				i += len(q)
				continue
			}
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
}

// longEcho returns a piece of raw that msg quotes verbatim, if msg quotes
// more than maxEcho bytes of it in one piece. Any such piece covers a whole
// maxEcho/2-byte block of raw that starts at a multiple of maxEcho/2, so
// looking for those blocks finds every echo longer than maxEcho (and may
// report one between maxEcho/2 and maxEcho long).
func longEcho(msg string, raw []byte) string {
	const block = maxEcho / 2
	for i := 0; i+block <= len(raw); i += block {
		if piece := string(raw[i : i+block]); strings.Contains(msg, piece) {
			return piece
		}
	}
	return ""
}
