// Package config loads and validates the exporter's optional YAML file.
// Everything in it has a default, so the exporter runs without one.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/asana-exporter/asana_exporter/internal/excerpt"
	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// Config is the YAML file. config.example.yml documents every key.
type Config struct {
	// Workspaces holds per-workspace settings, such as purchased seats.
	Workspaces []Workspace `yaml:"workspaces"`
	// OnlyListedWorkspaces collects just the workspaces listed above
	// instead of every workspace the token can see.
	OnlyListedWorkspaces bool `yaml:"only_listed_workspaces"`
	// ExcludeWorkspaces are gids never collected.
	ExcludeWorkspaces []string `yaml:"exclude_workspaces"`
	// MaxStaleness is how long a workspace whose collection keeps failing
	// still shows its last complete numbers (background mode).
	MaxStaleness model.Duration `yaml:"max_staleness"`
	// WorkspaceConcurrency bounds workspaces collected at once.
	WorkspaceConcurrency int `yaml:"workspace_concurrency"`
	// RequestsPerMinute is the exporter's own budget for the token.
	RequestsPerMinute int `yaml:"requests_per_minute"`
	// EmailDomainCheck asks for each member's email and counts the active
	// members outside the organisation's email domains.
	EmailDomainCheck bool `yaml:"email_domain_check"`
	// AuditLog reads Asana's audit log for idle and paused seats.
	AuditLog AuditLog `yaml:"audit_log"`
	// Organizations are several Asana organisations, each collected with
	// its own credential and its own workspace keys. Without them the
	// exporter collects one, with the flags' credential and the workspace
	// keys above.
	Organizations []Organization `yaml:"organizations"`
}

// AuditLog is the audit_log: section.
type AuditLog struct {
	// Enabled reads the organisations' audit logs. Off by default: the
	// first start reads 90 days of logins, which costs requests.
	Enabled bool `yaml:"enabled"`
	// IdleDays are the thresholds of asana_workspace_seats_idle.
	IdleDays []int `yaml:"idle_days"`
}

// Workspace is one entry under workspaces:.
type Workspace struct {
	GID            string `yaml:"gid"`
	SeatsPurchased *int   `yaml:"seats_purchased"`
	// SeatPrice is what one seat costs a month, in the contract's
	// currency, so the dashboard can price idle seats.
	SeatPrice *float64 `yaml:"seat_price"`
	// RenewalDate is the day the contract renews, so that alerts and the
	// dashboard can count down to it while seats can still be reclaimed.
	RenewalDate *Date `yaml:"renewal_date"`
}

// Defaults.
const (
	DefaultMaxStaleness         = time.Hour
	DefaultWorkspaceConcurrency = 4
	DefaultRequestsPerMinute    = 1500
)

// Default is the configuration without a file.
func Default() *Config {
	return &Config{
		MaxStaleness:         model.Duration(DefaultMaxStaleness),
		WorkspaceConcurrency: DefaultWorkspaceConcurrency,
		RequestsPerMinute:    DefaultRequestsPerMinute,
		EmailDomainCheck:     true,
		AuditLog:             AuditLog{IdleDays: []int{30, 60, 90}},
	}
}

// maxFileBytes bounds the config file: config.example.yml, every key
// commented, is under 3 KiB, and a thousand workspaces with their seats
// and prices take about 80 KiB. A larger file is the wrong one.
const maxFileBytes = 1 << 20

// Load reads and validates a file. Errors name the file and say what to fix.
// Only a regular file is read: a FIFO would hold up start-up, or a reload
// and every reload after it.
func Load(path string) (*Config, error) {
	raw, err := inputfile.ReadAll(path, maxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	c, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML over the defaults and validates the result. An unknown
// key is an error, so a typo never silently drops a setting.
func Parse(raw []byte) (*Config, error) {
	c := Default()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return c, c.validate()
	} else if err != nil {
		return nil, err
	}
	if err := onlyOneDocument(dec); err != nil {
		return nil, err
	}
	// A file of another kind (a CSV is one long string to YAML) is named
	// as such: yaml.v3 would quote its first bytes, a name perhaps.
	if root := doc.Content[0]; root.Kind != yaml.MappingNode && root.Tag != "!!null" {
		kind := "a single value"
		if root.Kind == yaml.SequenceNode {
			kind = "a list"
		}
		return nil, fmt.Errorf("line %d: the file holds %s, not the config's keys (workspaces:, max_staleness: and so on); "+
			"check that this is the config file (see config.example.yml)", root.Line, kind)
	}
	// The keys and durations are checked on the document before decoding,
	// so that the errors are ours, with a line number, rather than
	// yaml.v3's wording (which names Go types) reworded.
	if err := errors.Join(checkNode(&doc, reflect.TypeFor[Config](), "")...); err != nil {
		return nil, err
	}
	if err := errors.Join(exclusiveWithOrganizations(doc.Content[0])...); err != nil {
		return nil, err
	}
	// KnownFields still guards what checkNode does not follow (aliases).
	dec = yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, err
	}
	// Validated before the merge, so that workspaces[i] is the file's.
	invalid := c.validate()
	root := doc.Content[0]
	merged := []error{invalid, mergeListedTwice("", &c.Workspaces, entryLines(root, "workspaces"))}
	orgs := entries(root, "organizations")
	for i := range c.Organizations {
		var lines []int
		if i < len(orgs) {
			lines = entryLines(orgs[i], "workspaces")
		}
		merged = append(merged, mergeListedTwice(fmt.Sprintf("organizations[%d].", i), &c.Organizations[i].Workspaces, lines))
	}
	return c, errors.Join(append(merged, c.validateOrganizations()...)...)
}

// onlyOneDocument refuses a second YAML document (after ---), which Decode
// would leave unread: its settings would silently not apply. An empty one
// (a trailing ---) is harmless.
func onlyOneDocument(dec *yaml.Decoder) error {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		case len(next.Content) > 0 && (next.Content[0].Tag != "!!null" || next.Content[0].Value != ""):
			return fmt.Errorf("line %d: a second YAML document starts here, and the config is one document: "+
				"merge its settings into the first and remove the ---", next.Line)
		}
	}
}

// entries returns the entries of the list under key in mapping n, nil
// when there is none written out (an alias).
func entries(n *yaml.Node, key string) []*yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if list := n.Content[i+1]; n.Content[i].Value == key && list.Kind == yaml.SequenceNode {
			return list.Content
		}
	}
	return nil
}

// entryLines returns the line of each entry of the list under key in
// mapping n, nil when the list is not written out (an alias).
func entryLines(n *yaml.Node, key string) []int {
	var lines []int
	for _, entry := range entries(n, key) {
		lines = append(lines, entry.Line)
	}
	return lines
}

// mergeListedTwice keeps one entry of a gid listed again with the same
// settings: it is one workspace, and two entries would publish its series
// twice. Entries of one gid that disagree are an error naming both. prefix
// is where the list is (organizations[1]., or "" at the top).
func mergeListedTwice(prefix string, workspaces *[]Workspace, lines []int) error {
	where := func(i int) string {
		if i < len(lines) {
			return fmt.Sprintf("line %d", lines[i])
		}
		return fmt.Sprintf("%sworkspaces[%d]", prefix, i)
	}
	var errs []error
	first := map[string]int{} // gid: index of its first entry
	listed := *workspaces
	merged := make([]Workspace, 0, len(listed))
	for i, w := range listed {
		j, seen := first[w.GID]
		if !seen {
			first[w.GID] = i
			merged = append(merged, w)
			continue
		}
		var differ []string
		if !equal(w.SeatsPurchased, listed[j].SeatsPurchased) {
			differ = append(differ, "seats_purchased")
		}
		if !equal(w.SeatPrice, listed[j].SeatPrice) {
			differ = append(differ, "seat_price")
		}
		if !equal(w.RenewalDate, listed[j].RenewalDate) {
			differ = append(differ, "renewal_date")
		}
		if len(differ) > 0 {
			errs = append(errs, fmt.Errorf("%sworkspaces: gid %s is listed at %s and again at %s with another %s: keep one entry",
				prefix, quoted(w.GID), where(j), where(i), strings.Join(differ, " and ")))
		}
	}
	*workspaces = merged
	return errors.Join(errs...)
}

// equal reports whether two optional settings are both unset or the same.
func equal[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// checkNode reports the keys of n that t has no field for, and the
// durations and dates that do not parse, at any depth. path is where n is,
// such as workspaces[1].renewal_date, for the errors.
func checkNode(n *yaml.Node, t reflect.Type, path string) []error {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if t.Kind() == reflect.Pointer { // an optional setting
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[model.Duration]():
		if _, err := model.ParseDuration(n.Value); n.Kind == yaml.ScalarNode && err != nil {
			return []error{fmt.Errorf("line %d: %s: %q is not a duration such as 30m, 2h or 1d", n.Line, path, quoted(n.Value))}
		}
		return nil // not one value: its UnmarshalYAML says so
	case t == reflect.TypeFor[Date]():
		if _, err := ParseDate(n.Value); n.Kind == yaml.ScalarNode && n.Tag != "!!null" && err != nil {
			return []error{fmt.Errorf("line %d: %s: %w", n.Line, path, err)}
		}
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		var errs []error
		for i, item := range n.Content {
			errs = append(errs, checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		var errs []error
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			field, ok := fieldByKey(t, key.Value)
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: unknown key %q (see config.example.yml for the keys)", key.Line, quoted(key.Value)))
				continue
			}
			errs = append(errs, checkNode(n.Content[i+1], field.Type, strings.TrimPrefix(path+"."+key.Value, "."))...)
		}
		return errs
	}
	// Anything else is decoded as Decode would, so that a value of the
	// wrong type is named with its key and what it should be: yaml.v3's
	// own error ("cannot unmarshal !!str `thirty` into int") names
	// neither. A fraction where a whole number belongs is refused too:
	// yaml.v3 would drop it (2.5 seats become 2).
	fraction := t.Kind() == reflect.Int && n.ShortTag() == "!!float"
	if err := n.Decode(reflect.New(t).Interface()); err != nil || fraction {
		return []error{fmt.Errorf("line %d: %s: %s is not %s", n.Line, path, describe(n), expected(t))}
	}
	return nil
}

// describe is a node as an error quotes it.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping of keys"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", quoted(n.Value))
}

// expected says what a value of type t is written as.
func expected(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "a whole number, such as 30"
	case reflect.Float64:
		return "a number, such as 10.99"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a single value (quote it)"
	case reflect.Slice:
		return "a list: [a, b], or one \"- \" item a line"
	case reflect.Struct:
		return "a mapping of keys (see config.example.yml)"
	}
	return "a " + t.String()
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func (c *Config) validate() error {
	errs := validateWorkspaceKeys("", c.Workspaces, c.ExcludeWorkspaces, c.OnlyListedWorkspaces)
	if c.MaxStaleness < 0 {
		errs = append(errs, errors.New("max_staleness must not be negative"))
	}
	if c.WorkspaceConcurrency < 1 || c.WorkspaceConcurrency > 20 {
		errs = append(errs, fmt.Errorf("workspace_concurrency %d is outside 1..20", c.WorkspaceConcurrency))
	}
	if err := validateRequestsPerMinute("", c.RequestsPerMinute); err != nil {
		errs = append(errs, err)
	}
	for _, d := range c.AuditLog.IdleDays {
		if d < 1 || d > MaxIdleDays {
			errs = append(errs, fmt.Errorf("audit_log.idle_days: %d is outside 1..%d", d, MaxIdleDays))
		}
	}
	if !slices.IsSorted(c.AuditLog.IdleDays) || len(slices.Compact(slices.Clone(c.AuditLog.IdleDays))) != len(c.AuditLog.IdleDays) {
		errs = append(errs, errors.New("audit_log.idle_days must be ascending without repeats, such as [30, 60, 90]"))
	}
	return errors.Join(errs...)
}

// validateWorkspaceKeys checks the workspace keys of the top level, or of
// an organisation when prefix says which (organizations[1].).
func validateWorkspaceKeys(prefix string, workspaces []Workspace, exclude []string, onlyListed bool) []error {
	var errs []error
	seen := map[string]bool{}
	for i, w := range workspaces {
		switch {
		case w.GID == "":
			errs = append(errs, fmt.Errorf("%sworkspaces[%d]: gid is missing", prefix, i))
		case !isGID(w.GID):
			errs = append(errs, fmt.Errorf("%sworkspaces[%d]: gid %q is not an Asana gid (digits only; quote it in YAML)", prefix, i, quoted(w.GID)))
		}
		seen[w.GID] = true
		if w.SeatsPurchased != nil && *w.SeatsPurchased < 0 {
			errs = append(errs, fmt.Errorf("%sworkspaces[%d]: seats_purchased must not be negative", prefix, i))
		}
		if p := w.SeatPrice; p != nil && !(*p >= 0 && *p < 1e9) {
			errs = append(errs, fmt.Errorf("%sworkspaces[%d]: seat_price must be a price from 0 up, such as 10.99", prefix, i))
		}
	}
	for _, gid := range exclude {
		if !isGID(gid) {
			errs = append(errs, fmt.Errorf("%sexclude_workspaces: %q is not an Asana gid", prefix, quoted(gid)))
		} else if seen[gid] {
			errs = append(errs, fmt.Errorf("%sexclude_workspaces: %s is also listed under %sworkspaces; remove one", prefix, quoted(gid), prefix))
		}
	}
	if onlyListed && len(workspaces) == 0 {
		errs = append(errs, fmt.Errorf("%sonly_listed_workspaces is true but no workspaces are listed", prefix))
	}
	return errs
}

// validateRequestsPerMinute checks a request budget, of the top level or
// of an organisation (prefix organizations[1].).
func validateRequestsPerMinute(prefix string, perMinute int) error {
	if perMinute < 1 || perMinute > DefaultRequestsPerMinute {
		return fmt.Errorf("%srequests_per_minute %d is outside 1..1500 (Asana allows 1500 on paid plans, 150 on free ones)", prefix, perMinute)
	}
	return nil
}

// MaxIdleDays bounds an idle threshold. Beyond Asana's 90 days a
// threshold is published only once --storage.path has kept that much
// history.
const MaxIdleDays = 730

// quoted shortens a value quoted in an error, so that a pasted blob does not
// end up whole in the log or the reload response.
func quoted(s string) string { return excerpt.Cut(s, 48) }

func isGID(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Workspace returns the settings for gid, listed at the top or under any
// organisation (a gid belongs to one), or nil.
func (c *Config) Workspace(gid string) *Workspace {
	if i := slices.IndexFunc(c.Workspaces, func(w Workspace) bool { return w.GID == gid }); i >= 0 {
		return &c.Workspaces[i]
	}
	for o := range c.Organizations {
		ws := c.Organizations[o].Workspaces
		if i := slices.IndexFunc(ws, func(w Workspace) bool { return w.GID == gid }); i >= 0 {
			return &ws[i]
		}
	}
	return nil
}

// Collects reports whether workspace gid is to be collected.
func (c *Config) Collects(gid string) bool {
	if slices.Contains(c.ExcludeWorkspaces, gid) {
		return false
	}
	return !c.OnlyListedWorkspaces || c.Workspace(gid) != nil
}

// ListedButAbsent returns the gids listed under workspaces: and collected
// for which present is false: the workspaces the token cannot see.
func (c *Config) ListedButAbsent(present func(gid string) bool) []string {
	var out []string
	for _, w := range c.Workspaces {
		if c.Collects(w.GID) && !present(w.GID) {
			out = append(out, w.GID)
		}
	}
	return out
}
