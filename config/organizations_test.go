package config

import (
	"slices"
	"strings"
	"testing"
)

const twoOrganizations = `
organizations:
  - name: acme
    token_file: /etc/asana_exporter/acme-token
    audit_token_file: /etc/asana_exporter/acme-audit-token
    workspaces:
      - gid: "1"
        seats_purchased: 30
        seat_price: 24.99
        renewal_date: 2027-06-23
      - gid: "2"
      - {gid: "1", seats_purchased: 30, seat_price: 24.99, renewal_date: 2027-06-23}
  - name: globex
    token_env: GLOBEX_ASANA_TOKEN
    requests_per_minute: 150
    only_listed_workspaces: true
    exclude_workspaces: ["9"]
    workspaces:
      - gid: "3"
        seats_purchased: 400
audit_log:
  enabled: true
max_staleness: 2h
`

// TestParseOrganizations: each organisation keeps its workspace keys and
// budget, and Scope gives its collection those in place of the top-level
// ones, with the other organisations' workspaces excluded and the global
// keys as they are.
func TestParseOrganizations(t *testing.T) {
	c, err := Parse([]byte(twoOrganizations))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.OrganizationNames(), []string{"acme", "globex"}) {
		t.Errorf("names %v", c.OrganizationNames())
	}
	if len(c.Organizations[0].Workspaces) != 2 {
		t.Errorf("acme's gid 1, listed twice alike, is %d entries", len(c.Organizations[0].Workspaces))
	}
	if w := c.Workspace("3"); w == nil || *w.SeatsPurchased != 400 {
		t.Errorf("Workspace(3) = %+v, want globex's, 400 seats", w)
	}
	if got := len(c.ListedWorkspaces()); got != 3 {
		t.Errorf("%d workspaces listed in all, want 3", got)
	}
	acme, globex := c.Scope("acme"), c.Scope("globex")
	if acme.RequestsPerMinute != 1500 || globex.RequestsPerMinute != 150 {
		t.Errorf("budgets %d and %d, want 1500 and 150", acme.RequestsPerMinute, globex.RequestsPerMinute)
	}
	if !acme.Collects("1") || !acme.Collects("7") || acme.Collects("3") {
		t.Errorf("acme collects 1: %t, 7 (unlisted): %t, 3 (globex's): %t; want true, true, false", acme.Collects("1"), acme.Collects("7"), acme.Collects("3"))
	}
	if !globex.Collects("3") || globex.Collects("1") || globex.Collects("7") || globex.Collects("9") {
		t.Error("globex, only listed, collects more than its gid 3")
	}
	if w := acme.Workspace("1"); w == nil || *w.SeatPrice != 24.99 || acme.Workspace("3") != nil {
		t.Errorf("acme's scope: Workspace(1) = %+v, Workspace(3) = %+v", w, acme.Workspace("3"))
	}
	if !acme.AuditLog.Enabled || acme.MaxStaleness != c.MaxStaleness || acme.Organizations != nil {
		t.Errorf("acme's scope lost the global keys or kept the organisations: %+v", acme)
	}
	if gone := c.Scope("initech"); gone.Collects("1") || gone.Collects("7") {
		t.Error("an organisation not in the config collects something")
	}
	if one, _ := Parse([]byte("workspaces: [{gid: \"1\"}]\n")); one.Scope("") != one || !slices.Equal(one.OrganizationNames(), []string{""}) {
		t.Error("without organizations:, the config is not its own one organisation")
	}
	if c.Organizations[0].Credential() != "token_file /etc/asana_exporter/acme-token" || c.Organizations[1].Credential() != "token_env GLOBEX_ASANA_TOKEN" {
		t.Errorf("credentials %q and %q", c.Organizations[0].Credential(), c.Organizations[1].Credential())
	}
}

// TestOrganizationsErrorsSayWhatToFix: each mistake is named with the key
// path of its organisation (organizations[1].token_env), and none quotes
// more of the file than the value at fault.
func TestOrganizationsErrorsSayWhatToFix(t *testing.T) {
	org := func(lines ...string) string {
		return "organizations:\n  - name: acme\n    token_file: /t/acme\n  - " + strings.Join(lines, "\n    ") + "\n"
	}
	cases := map[string]string{
		"organizations: []\n":                                                                               "organizations: is empty",
		org("name: acme", "token_file: /t/other"):                                                           "organizations[1]: name acme is organizations[0]'s too",
		org("name: Globex", "token_file: /t/g"):                                                             `organizations[1]: name "Globex" is not lower-case letters`,
		org("name: "+strings.Repeat("a", 64), "token_env: G"):                                               "is not lower-case letters, digits, _ and - (at most 63)",
		org("token_file: /t/g"):                                                                             "organizations[1]: name is missing",
		org("name: globex"):                                                                                 "organizations[1] (globex): no credential: give token_file",
		org("name: globex", "token_file: /t/g", "token_env: G"):                                             "organizations[1] (globex): token_file, token_env and oauth exclude each other",
		org("name: globex", "token_env: 2/1234:secret"):                                                     `organizations[1] (globex).token_env: "2/1234:secret" is not the name of an environment variable`,
		org("name: globex", "oauth: {client_id: \"1\"}"):                                                    "organizations[1] (globex).oauth: an OAuth app needs all three",
		org("name: globex", "token_env: G", "token: x"):                                                     `line 6: unknown key "token"`,
		org("name: globex", "token_env: G", "requests_per_minute: 0"):                                       "organizations[1].requests_per_minute 0 is outside 1..1500",
		org("name: globex", "token_env: G", "only_listed_workspaces: true"):                                 "organizations[1].only_listed_workspaces is true but no workspaces are listed",
		org("name: globex", "token_env: G", "workspaces: [{gid: x}]"):                                       `organizations[1].workspaces[0]: gid "x" is not an Asana gid`,
		org("name: globex", "token_env: G", "workspaces: [{gid: \"1\"}, {gid: \"1\", seats_purchased: 3}]"): "organizations[1].workspaces: gid 1 is listed at line 6 and again at line 6 with another seats_purchased",
		"organizations:\n  - {name: a, token_env: A, workspaces: [{gid: \"5\"}]}\n  - {name: b, token_env: B, workspaces: [{gid: \"5\"}]}\n": "organizations[1].workspaces: gid 5 is listed under organizations[0] too",
		"workspaces: [{gid: \"1\"}]\norganizations:\n  - {name: a, token_env: A}\n":                                                          "line 1: the top-level workspaces: and organizations: (line 2) exclude each other",
		"organizations:\n  - {name: a, token_env: A}\nrequests_per_minute: 100\n":                                                            "line 3: the top-level requests_per_minute: and organizations: (line 1) exclude each other",
		"organizations:\n  - {name: a, token_env: A}\n  - {name: b, token_env: A, requests_per_minute: 100}\n":                               "organizations[0].token_env and organizations[1].token_env are one credential with one request budget",
		"organizations:\n  - {name: a, token_file: /t/x}\n  - {name: b, token_file: /t/../t/x}\n":                                            "organizations[0] and organizations[1] share one credential",
		"organizations:\n  - {name: a, token_file: /t/x, requests_per_minute: 9}\n  - {name: b, token_env: B, audit_token_file: /t/x}\n":     "organizations[0].token_file and organizations[1].audit_token_file are one credential",
		"organizations:\n  - {name: a, oauth: {client_id: \"1\", client_secret_file: /s, refresh_token_file: /r}}\n" +
			"  - {name: b, only_listed_workspaces: true, workspaces: [{gid: \"2\"}], oauth: {client_id: \"2\", client_secret_file: /s, refresh_token_file: /r}}\n": "a refresh token belongs to one OAuth app",
	}
	for in, want := range cases {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want it to say %q", in, err, want)
		}
	}
}

// TestOrganizationsShareACredential: organisations that name one
// credential, with one budget and all but one listing their workspaces,
// are accepted; so is an organisation's audit token that is its own token.
func TestOrganizationsShareACredential(t *testing.T) {
	for _, in := range []string{
		"organizations:\n  - {name: a, token_file: /t/x}\n  - {name: b, token_file: /t/x, only_listed_workspaces: true, workspaces: [{gid: \"2\"}]}\n",
		"organizations:\n  - {name: a, token_env: A, audit_token_file: /t/a}\n  - {name: b, token_file: /t/a}\n",
		"organizations:\n  - {name: a, token_file: /t/a, audit_token_file: /t/a}\n",
	} {
		if _, err := Parse([]byte(in)); err != nil {
			t.Errorf("Parse(%q) = %v", in, err)
		}
	}
}
