package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Organization is one entry under organizations: an Asana organisation
// collected with a credential of its own (a service account belongs to one
// organisation, and so does its audit log), and the workspace keys of the
// top level, for its workspaces alone.
type Organization struct {
	// Name is the value of the organization label, the user's choice.
	Name string `yaml:"name"`
	// The credential: exactly one of TokenFile, TokenEnv (the name of an
	// environment variable that holds the token) and OAuth. A secret is
	// never in the config file itself.
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	OAuth     *OAuth `yaml:"oauth"`
	// AuditTokenFile holds a token for the audit log alone, as
	// --asana.audit-token-file does; "" reads it with the credential.
	AuditTokenFile string `yaml:"audit_token_file"`
	// RequestsPerMinute is the credential's budget; nil is the default.
	RequestsPerMinute    *int        `yaml:"requests_per_minute"`
	OnlyListedWorkspaces bool        `yaml:"only_listed_workspaces"`
	ExcludeWorkspaces    []string    `yaml:"exclude_workspaces"`
	Workspaces           []Workspace `yaml:"workspaces"`
}

// OAuth is an organisation's OAuth app, as --asana.oauth.client-id and
// its files give one without organizations:. The token endpoint is the
// --asana.url host's.
type OAuth struct {
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	RefreshTokenFile string `yaml:"refresh_token_file"`
}

// maxNameLength bounds an organisation's name: it is a label value in
// every series of its own and a directory under --storage.path, and 63
// characters (a DNS label's length, so a Kubernetes Secret can be named
// after it) tell any two organisations apart.
const maxNameLength = 63

var (
	namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)
	// envPattern is an environment variable's name, as POSIX shells take it.
	envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// perOrganization are the top-level keys that organizations: replaces:
// each organisation has its own.
var perOrganization = []string{"workspaces", "only_listed_workspaces", "exclude_workspaces", "requests_per_minute"}

// exclusiveWithOrganizations refuses the top-level keys that an
// organization: entry sets for itself, when organizations: is present:
// which of the two applied would be a guess.
func exclusiveWithOrganizations(root *yaml.Node) []error {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	has := func(key string) *yaml.Node {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == key {
				return root.Content[i]
			}
		}
		return nil
	}
	orgs := has("organizations")
	if orgs == nil {
		return nil
	}
	var errs []error
	for _, key := range perOrganization {
		if k := has(key); k != nil {
			errs = append(errs, fmt.Errorf("line %d: the top-level %s: and organizations: (line %d) exclude each other: "+
				"set %s under each organization (organizations[].%s)", k.Line, key, orgs.Line, key, key))
		}
	}
	return errs
}

// Credential identifies an organisation's credential: two organisations
// with the same one (the same token file, environment variable or OAuth
// refresh-token file) share one client, and so one request budget.
func (o Organization) Credential() string {
	switch {
	case o.TokenFile != "":
		return TokenFileCredential(o.TokenFile)
	case o.TokenEnv != "":
		return "token_env " + o.TokenEnv
	case o.OAuth != nil:
		return "oauth " + filepath.Clean(o.OAuth.RefreshTokenFile)
	}
	return ""
}

// TokenFileCredential identifies the credential a token file holds, as
// Credential does: an audit_token_file that is another organisation's
// token_file shares its client.
func TokenFileCredential(path string) string { return "token_file " + filepath.Clean(path) }

// PerMinute is the organisation's request budget.
func (o Organization) PerMinute() int {
	if o.RequestsPerMinute == nil {
		return DefaultRequestsPerMinute
	}
	return *o.RequestsPerMinute
}

// validateOrganizations checks organizations: each entry's name,
// credential and workspace keys, and what only the entries together tell:
// a name or a workspace twice, and a credential shared on terms that
// cannot hold.
func (c *Config) validateOrganizations() []error {
	if c.Organizations == nil {
		return nil
	}
	if len(c.Organizations) == 0 {
		return []error{fmt.Errorf("organizations: is empty: list at least one organization, or remove the key")}
	}
	var errs []error
	names := map[string]int{}
	owner := map[string]int{} // workspace gid: the organisation listing it
	for i, o := range c.Organizations {
		at := fmt.Sprintf("organizations[%d]", i)
		switch {
		case o.Name == "":
			errs = append(errs, fmt.Errorf("%s: name is missing: give each organization a name, such as acme (the value of its organization label)", at))
		case len(o.Name) > maxNameLength || !namePattern.MatchString(o.Name):
			errs = append(errs, fmt.Errorf("%s: name %q is not lower-case letters, digits, _ and - (at most %d)", at, quoted(o.Name), maxNameLength))
		default:
			if j, ok := names[o.Name]; ok {
				errs = append(errs, fmt.Errorf("%s: name %s is organizations[%d]'s too: give each organization a name of its own", at, o.Name, j))
			}
			names[o.Name] = i
			at += " (" + o.Name + ")"
		}
		errs = append(errs, o.validateCredential(at)...)
		prefix := fmt.Sprintf("organizations[%d].", i)
		if o.RequestsPerMinute != nil {
			if err := validateRequestsPerMinute(prefix, *o.RequestsPerMinute); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, validateWorkspaceKeys(prefix, o.Workspaces, o.ExcludeWorkspaces, o.OnlyListedWorkspaces)...)
		for _, w := range o.Workspaces {
			if j, ok := owner[w.GID]; ok && j != i && isGID(w.GID) {
				errs = append(errs, fmt.Errorf("%sworkspaces: gid %s is listed under organizations[%d] too: a workspace belongs to one organization; keep it under one",
					prefix, w.GID, j))
			}
			owner[w.GID] = i
		}
	}
	return append(errs, c.validateShared()...)
}

// validateCredential checks that an organisation has exactly one
// credential, each of whose parts is given.
func (o Organization) validateCredential(at string) []error {
	given := 0
	for _, set := range []bool{o.TokenFile != "", o.TokenEnv != "", o.OAuth != nil} {
		if set {
			given++
		}
	}
	var errs []error
	switch {
	case given == 0:
		errs = append(errs, fmt.Errorf("%s: no credential: give token_file (a file holding the token), token_env (the name of an environment variable "+
			"holding it) or oauth (an OAuth app's client_id, client_secret_file and refresh_token_file)", at))
	case given > 1:
		errs = append(errs, fmt.Errorf("%s: token_file, token_env and oauth exclude each other: keep one", at))
	case o.TokenEnv != "" && !envPattern.MatchString(o.TokenEnv):
		errs = append(errs, fmt.Errorf("%s.token_env: %q is not the name of an environment variable (letters, digits and _), "+
			"such as ACME_ASANA_TOKEN: the token itself never goes in the config file", at, quoted(o.TokenEnv)))
	case o.OAuth != nil && (o.OAuth.ClientID == "" || o.OAuth.ClientSecretFile == "" || o.OAuth.RefreshTokenFile == ""):
		errs = append(errs, fmt.Errorf("%s.oauth: an OAuth app needs all three of client_id, client_secret_file and refresh_token_file "+
			"(`asana_exporter oauth login` writes the refresh token)", at))
	}
	return errs
}

// validateShared checks the credentials that several organisations share
// (or that one uses twice, as its credential and its audit token): one
// credential has one request budget, and organisations that see the same
// workspaces must say which are whose.
func (c *Config) validateShared() []error {
	type use struct {
		org       int
		perMinute int
		key       string // where it is named, such as organizations[1].token_file
	}
	uses := map[string][]use{}
	for i, o := range c.Organizations {
		if cred := o.Credential(); cred != "" {
			uses[cred] = append(uses[cred], use{i, o.PerMinute(), fmt.Sprintf("organizations[%d].%s", i, strings.Fields(cred)[0])})
		}
		if o.AuditTokenFile != "" {
			uses[TokenFileCredential(o.AuditTokenFile)] = append(uses[TokenFileCredential(o.AuditTokenFile)],
				use{i, o.PerMinute(), fmt.Sprintf("organizations[%d].audit_token_file", i)})
		}
	}
	var errs []error
	for _, cred := range slices.Sorted(maps.Keys(uses)) {
		us := uses[cred]
		for _, u := range us[1:] {
			if u.perMinute != us[0].perMinute {
				errs = append(errs, fmt.Errorf("%s and %s are one credential with one request budget, but their organizations set requests_per_minute "+
					"%d and %d: set the same", us[0].key, u.key, us[0].perMinute, u.perMinute))
			}
		}
		var unlisted []string
		for _, u := range us {
			if o := c.Organizations[u.org]; !strings.HasSuffix(u.key, ".audit_token_file") && !o.OnlyListedWorkspaces {
				unlisted = append(unlisted, fmt.Sprintf("organizations[%d]", u.org))
			}
		}
		if len(unlisted) > 1 {
			errs = append(errs, fmt.Errorf("%s share one credential, which sees the same workspaces, and collect every one of them: "+
				"each workspace would be counted twice; set only_listed_workspaces: true and list the workspaces under all but one",
				strings.Join(unlisted, " and ")))
		}
		if o := c.Organizations[us[0].org]; o.OAuth != nil {
			for _, u := range us[1:] {
				if p := c.Organizations[u.org].OAuth; p != nil && (p.ClientID != o.OAuth.ClientID || filepath.Clean(p.ClientSecretFile) != filepath.Clean(o.OAuth.ClientSecretFile)) {
					errs = append(errs, fmt.Errorf("%s and %s name the refresh-token file %s with another client_id or client_secret_file: "+
						"a refresh token belongs to one OAuth app", us[0].key, u.key, o.OAuth.RefreshTokenFile))
				}
			}
		}
	}
	return errs
}

// OrganizationNames are the organisations' names in the order of the
// file; [""] without organizations:, the exporter's one organisation.
func (c *Config) OrganizationNames() []string {
	if len(c.Organizations) == 0 {
		return []string{""}
	}
	names := make([]string, len(c.Organizations))
	for i, o := range c.Organizations {
		names[i] = o.Name
	}
	return names
}

// Scope is the config as the collection of organisation name reads it:
// that organisation's workspace keys and request budget in place of the
// top-level ones, the workspaces listed under every other organisation
// excluded (each belongs to one), and the global keys as they are. Without
// organizations:, Scope("") is c. An organisation not in the config (one a
// reload removed) collects nothing.
func (c *Config) Scope(name string) *Config {
	if len(c.Organizations) == 0 && name == "" {
		return c
	}
	scoped := *c
	scoped.Organizations = nil
	scoped.Workspaces, scoped.ExcludeWorkspaces, scoped.OnlyListedWorkspaces = nil, nil, true
	scoped.RequestsPerMinute = DefaultRequestsPerMinute
	for _, o := range c.Organizations {
		if o.Name == name {
			scoped.Workspaces, scoped.OnlyListedWorkspaces, scoped.RequestsPerMinute = o.Workspaces, o.OnlyListedWorkspaces, o.PerMinute()
			scoped.ExcludeWorkspaces = slices.Clone(o.ExcludeWorkspaces)
		}
	}
	for _, o := range c.Organizations {
		if o.Name != name {
			for _, w := range o.Workspaces {
				scoped.ExcludeWorkspaces = append(scoped.ExcludeWorkspaces, w.GID)
			}
		}
	}
	return &scoped
}

// ListedWorkspaces are the workspaces listed at the top and under every
// organisation.
func (c *Config) ListedWorkspaces() []Workspace {
	all := slices.Clone(c.Workspaces)
	for _, o := range c.Organizations {
		all = append(all, o.Workspaces...)
	}
	return all
}
