package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseExampleAndDefaults(t *testing.T) {
	c, err := Load(filepath.Join("..", "config.example.yml"))
	if err != nil {
		t.Fatalf("config.example.yml: %v", err)
	}
	if len(c.Workspaces) == 0 || c.Workspaces[0].SeatsPurchased == nil {
		t.Errorf("example config has no workspace with seats_purchased: %+v", c)
	}
	empty, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(empty.MaxStaleness) != DefaultMaxStaleness || empty.WorkspaceConcurrency != 4 || empty.RequestsPerMinute != 1500 || !empty.EmailDomainCheck {
		t.Errorf("defaults %+v", empty)
	}
	off, err := Parse([]byte("email_domain_check: false"))
	if err != nil || off.EmailDomainCheck {
		t.Errorf("email_domain_check: false gave %+v, %v", off, err)
	}
	if empty.AuditLog.Enabled || !slices.Equal(empty.AuditLog.IdleDays, []int{30, 60, 90}) {
		t.Errorf("audit_log defaults %+v: off, 30, 60 and 90 days", empty.AuditLog)
	}
	if c.Workspaces[0].SeatPrice == nil {
		t.Errorf("the example sets no seat_price")
	}
	if c.Workspaces[0].RenewalDate == nil || c.Workspaces[1].RenewalDate != nil {
		t.Errorf("the example sets renewal_date %v and %v, want it on the first workspace only", c.Workspaces[0].RenewalDate, c.Workspaces[1].RenewalDate)
	}
	one, err := Parse([]byte("audit_log:\n  enabled: true\n  idle_days: [45]\n"))
	if err != nil || !one.AuditLog.Enabled || !slices.Equal(one.AuditLog.IdleDays, []int{45}) {
		t.Errorf("idle_days: [45] gave %+v, %v: the list replaces the default", one.AuditLog, err)
	}
}

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`
workspaces:
  - gid: "1111"
    seats_purchased: 1000
  - gid: "2222"
exclude_workspaces: ["3333"]
max_staleness: 1d
`))
	if err != nil {
		t.Fatal(err)
	}
	if *c.Workspace("1111").SeatsPurchased != 1000 || c.Workspace("2222").SeatsPurchased != nil || c.Workspace("9") != nil {
		t.Errorf("workspaces %+v", c.Workspaces)
	}
	if time.Duration(c.MaxStaleness) != 24*time.Hour { // 1d, as Prometheus writes it
		t.Errorf("max_staleness %v", c.MaxStaleness)
	}
	if !c.Collects("1111") || !c.Collects("4444") || c.Collects("3333") {
		t.Errorf("Collects wrong for all-workspaces mode")
	}
	c.OnlyListedWorkspaces = true
	if !c.Collects("2222") || c.Collects("4444") {
		t.Errorf("Collects wrong for only-listed mode")
	}
}

func TestParseErrorsSayWhatToFix(t *testing.T) {
	cases := map[string]string{
		"workspaces:\n  - gid: \"1\"\n    seat_purchased: 5\n": `unknown key "seat_purchased"`,
		"workspace:\n  - gid: \"1\"\n":                         `unknown key "workspace"`,
		"workspaces:\n  - seats_purchased: 5\n":                "workspaces[0]: gid is missing",
		"workspaces:\n  - gid: acme\n":                         `gid "acme" is not an Asana gid`,
		"workspaces:\n  - gid: \"1\"\n    seats_purchased: 5\n  - gid: \"1\"\n    seats_purchased: 6\n":          "gid 1 is listed at line 2 and again at line 4 with another seats_purchased: keep one entry",
		"workspaces:\n  - {gid: \"1\", seat_price: 9}\n  - {gid: \"2\"}\n  - {gid: \"1\", seats_purchased: 5}\n": "gid 1 is listed at line 2 and again at line 4 with another seats_purchased and seat_price",
		"workspace_concurrency: 2\n---\nworkspace_concurrency: 30\n":                                             "line 2: a second YAML document starts here",
		"workspace_concurrency: 2\n---\n---\n# more\nrequests_per_minute: 5\n":                                   "line 3: a second YAML document starts here",
		"- gid: \"1\"\n": "line 1: the file holds a list, not the config's keys",
		"workspaces:\n  - gid: \"1\"\n    seats_purchased: -1\n":     "seats_purchased must not be negative",
		"workspaces:\n  - gid: \"1\"\n    seats_purchased: many\n":   `line 3: workspaces[0].seats_purchased: "many" is not a whole number`,
		"exclude_workspaces: [\"1\"]\nworkspaces:\n  - gid: \"1\"\n": "also listed under workspaces",
		// A value of the wrong type: the key's path and what it takes.
		"workspace_concurrency: 2.5\n":                        `line 1: workspace_concurrency: "2.5" is not a whole number`,
		"email_domain_check: yes please\n":                    `line 1: email_domain_check: "yes please" is not true or false`,
		"exclude_workspaces: \"3333\"\n":                      `line 1: exclude_workspaces: "3333" is not a list`,
		"workspaces:\n  - gid: [1]\n":                         "line 2: workspaces[0].gid: a list is not a single value",
		"audit_log:\n  idle_days: [30, sixty]\n":              `line 2: audit_log.idle_days[1]: "sixty" is not a whole number`,
		"workspaces:\n  - {gid: \"1\", seat_price: cheap}\n":  `line 2: workspaces[0].seat_price: "cheap" is not a number, such as 10.99`,
		"only_listed_workspaces: true\n":                      "no workspaces are listed",
		"max_staleness: forever\n":                            `line 1: max_staleness: "forever" is not a duration`,
		"workspaces:\n  - gid: \"1\"\n    sets: 3\n":          `line 3: unknown key "sets"`,
		"workspace_concurrency: 0\n":                          "outside 1..20",
		"requests_per_minute: 5000\n":                         "outside 1..1500",
		"workspaces: [\n":                                     "yaml",
		"audit_log:\n  idle_days: [60, 30]\n":                 "ascending without repeats",
		"audit_log:\n  idle_days: [30, 30]\n":                 "ascending without repeats",
		"audit_log:\n  idle_days: [0]\n":                      "outside 1..730",
		"audit_log:\n  enable: true\n":                        `unknown key "enable"`,
		"workspaces:\n  - gid: \"1\"\n    seat_price: -3\n":   "seat_price must be a price",
		"workspaces:\n  - gid: \"1\"\n    seat_price: .nan\n": "seat_price must be a price",
		// renewal_date: the key, the entry and the form expected.
		"workspaces:\n  - gid: \"1\"\n  - gid: \"2\"\n    renewal_date: 31/03/2027\n":                           `line 4: workspaces[1].renewal_date: "31/03/2027" is not a date: write it YYYY-MM-DD, such as 2027-03-31`,
		"workspaces:\n  - gid: \"1\"\n    renewal_date: 2027-02-30\n":                                           `line 3: workspaces[0].renewal_date: "2027-02-30" is not a date`,
		"workspaces:\n  - gid: \"1\"\n    renewal_date: 2027-3-31\n":                                            `workspaces[0].renewal_date: "2027-3-31" is not a date`,
		"workspaces:\n  - gid: \"1\"\n    renewal_date: 2027-03-31T00:00:00Z\n":                                 `workspaces[0].renewal_date: "2027-03-31T00:00:00Z" is not a date`,
		"workspaces:\n  - gid: \"1\"\n    renewal_date: 0227-03-31\n":                                           "line 3: workspaces[0].renewal_date: 0227-03-31 is outside the years 2008..2099",
		"workspaces:\n  - gid: \"1\"\n    renewal_date: [2027, 3, 31]\n":                                        "line 3: a date is one value written YYYY-MM-DD",
		"exclude_workspaces: [&d \"2027-13-01\"]\nworkspaces:\n  - {gid: \"1\", renewal_date: *d}\n":            `line 1: "2027-13-01" is not a date: write it YYYY-MM-DD`,
		"workspaces:\n  - {gid: \"1\", renewal_date: 2027-03-31}\n  - {gid: \"1\", renewal_date: 2028-03-31}\n": "with another renewal_date",
	}
	for in, want := range cases {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want it to say %q", in, err, want)
		}
	}
}

// TestParseRenewalDate: a day, quoted or not, is 00:00 UTC of that day;
// an empty value is no date, like any optional setting left empty.
func TestParseRenewalDate(t *testing.T) {
	c, err := Parse([]byte("workspaces:\n  - {gid: \"1\", renewal_date: 2027-03-31}\n  - {gid: \"2\", renewal_date: \"2028-02-29\"}\n" +
		"  - {gid: \"3\", renewal_date: }\n  - {gid: \"4\", renewal_date: 2027-03-31}\n  - {gid: \"1\", renewal_date: 2027-03-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{
		"1": time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC),
		"2": time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
	}
	for gid, day := range want {
		if d := c.Workspace(gid).RenewalDate; d == nil || !d.Equal(day) || d.Unix() != day.Unix() || d.String() != day.Format("2006-01-02") {
			t.Errorf("workspace %s: renewal_date %v, want %v", gid, d, day)
		}
	}
	if d := c.Workspace("3").RenewalDate; d != nil {
		t.Errorf("an empty renewal_date gave %v, want none", d)
	}
	if len(c.Workspaces) != 4 {
		t.Errorf("workspace 1, listed twice with the same date, is %d entries in %+v", len(c.Workspaces), c.Workspaces)
	}
	if got := DateOf(time.Date(2027, 3, 31, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600))); got.String() != "2027-04-01" || got.Location() != time.UTC {
		t.Errorf("DateOf(23:30 at UTC-2 on 31 March) = %v, want 2027-04-01 UTC", got)
	}
}

// TestParseMergesAWorkspaceListedTwice: the same gid with the same
// settings is one workspace; an empty document after --- is nothing.
func TestParseMergesAWorkspaceListedTwice(t *testing.T) {
	c, err := Parse([]byte("workspaces:\n  - gid: \"1\"\n    seats_purchased: 5\n  - gid: \"2\"\n  - {gid: \"1\", seats_purchased: 5}\n---\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Workspaces) != 2 || c.Workspaces[0].GID != "1" || *c.Workspaces[0].SeatsPurchased != 5 || c.Workspaces[1].GID != "2" {
		t.Errorf("workspaces %+v, want 1 (5 seats) and 2 once each", c.Workspaces)
	}
}

// TestParseQuotesNothingOfAFileThatIsNotAConfig: a roster or an Admin
// Console export given as the config is named for what it is, without a
// byte of it (yaml.v3 quoted the first seven: a name, in an export without
// a header).
func TestParseQuotesNothingOfAFileThatIsNotAConfig(t *testing.T) {
	for _, raw := range []string{
		"Alice Example,alice@example.com,Member,2019-01-01\nBob Example,bob@example.com,Guest,2019-01-01\n",
		"1200000000000042,Alice Example,alice@example.com,licensed\n",
	} {
		_, err := Parse([]byte(raw))
		if err == nil || !strings.Contains(err.Error(), "line 1: the file holds a single value, not the config's keys") {
			t.Errorf("Parse(%.20q...) = %v", raw, err)
		}
		if err != nil && (strings.Contains(err.Error(), "Alice") || strings.Contains(err.Error(), "12000")) {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asana.yml")
	if err := os.WriteFile(path, []byte("bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("Load = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml")); err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

// TestLoadReadsARegularFileUpToALimit: a FIFO (no writer: a plain open
// would wait for ever), a device and a directory are refused at once, and
// a file over maxFileBytes unread, each with an error naming the file.
func TestLoadReadsARegularFileUpToALimit(t *testing.T) {
	dir := t.TempDir()
	fifo, large := filepath.Join(dir, "fifo.yml"), filepath.Join(dir, "large.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(large, []byte("# "+strings.Repeat("x", maxFileBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "is a named pipe (FIFO), not a regular file",
		"/dev/zero": "is a character device, not a regular file",
		dir:         "is a directory, not a regular file",
		large:       "is larger than 1048576 bytes",
	} {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "reading the config file: "+path+" "+want) {
			t.Errorf("Load(%s) = %v, want %q", path, err, want)
		}
	}
}
