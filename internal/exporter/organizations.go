package exporter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/excerpt"
)

// organization is one organisation's wiring: the collection that counts
// it, on its credential's client, and the metrics of its own. Each has its
// own collect.Collection, which alone owns its cycle, snapshots and audit
// log; organisations that name one credential share its client, and so
// its budget (docs/DEVELOPMENT.md, "Who owns which state").
type organization struct {
	name       string      // "" when the exporter counts one (no organizations: in the config)
	counts     *credential // what it counts with
	audit      *credential // what it reads the audit log with; nil: counts
	collection *collect.Collection
	// metrics are its API, OAuth and audit log metrics, with its
	// organization label when it has a name.
	metrics *prometheus.Registry
	stop    context.CancelFunc // ends its collection's Run, once started
}

// credential is a token or an OAuth app and the client that spends its
// budget: the organisations that name it share both.
type credential struct {
	key    string // config.Organization.Credential(); "" for the flags'
	client *asana.Client
	oauth  *collector.OAuthMetrics // nil unless an OAuth app
	// reread reads its files again at a reload, at naming the key that
	// names them now (organizations[1].token_file); nil when nothing is
	// re-read (the environment, or the flags', whose hooks do it).
	reread func(at string) (apply func(), err error)
}

// label is the organisation's organization label, none without a name.
func (o *organization) label() prometheus.Labels {
	if o.name == "" {
		return nil
	}
	return prometheus.Labels{"organization": o.name}
}

// organizations is the set in use, in the config's order.
func (e *Exporter) organizations() []*organization { return *e.orgs.Load() }

// byOrganization reports whether the exporter counts several
// organisations: organizations: in the config.
func (e *Exporter) byOrganization() bool { return e.organizations()[0].name != "" }

// snapshots are the latest snapshot of each organisation.
func (e *Exporter) snapshots() []*collect.Snapshot {
	orgs := e.organizations()
	snaps := make([]*collect.Snapshot, len(orgs))
	for i, o := range orgs {
		snaps[i] = o.collection.Snapshot()
	}
	return snaps
}

// newClient makes the client of one credential, with its budget.
func (e *Exporter) newClient(transport http.RoundTripper, perMinute int) (*asana.Client, error) {
	opts := asana.Options{
		BaseURL:           e.opts.AsanaURL,
		Transport:         transport,
		UserAgent:         Program + "/" + version.Version,
		RequestsPerMinute: perMinute,
		Logger:            e.opts.Logger,
	}
	if e.opts.Client != nil {
		e.opts.Client(&opts)
	}
	return asana.New(opts)
}

// newOrganization makes an organisation's collection on its credentials'
// clients, observed by API metrics of its own, and its metrics registry.
// Its collection is not run yet.
func (e *Exporter) newOrganization(name string, counts, audit *credential) (*organization, error) {
	o := &organization{name: name, counts: counts, audit: audit, metrics: prometheus.NewRegistry()}
	logger := e.logger
	storage := e.opts.StoragePath
	if name != "" {
		logger = logger.With("organization", name)
		if storage != "" {
			// Each organisation's audit log state apart: a Reader writes
			// its state file whole.
			storage = filepath.Join(storage, "organizations", name)
			if err := os.MkdirAll(storage, 0o700); err != nil {
				return nil, fmt.Errorf("--storage.path: %w", err)
			}
		}
	}
	api := collector.NewAPIMetrics()
	opts := collect.Options{
		Config:       func() *config.Config { return e.config.Get().Scope(name) },
		Interval:     e.opts.RefreshInterval,
		Logger:       logger,
		StoragePath:  storage,
		Organization: name,
	}
	if name != "" {
		opts.Shared = func() int { return e.sharedRequests(o) }
	}
	if audit != nil {
		opts.AuditSource = observed{audit.client, api}
	}
	o.collection = collect.New(observed{counts.client, api}, opts)
	reg := prometheus.WrapRegistererWith(o.label(), o.metrics)
	reg.MustRegister(api, collector.NewAuditMetrics(o.collection.AuditLog(), o.collection.AuditedOrganizations))
	if counts.oauth != nil {
		// An app's renewals are every organisation's that uses it.
		reg.MustRegister(counts.oauth)
	}
	return o, nil
}

// sharedRequests is what a cycle of the other organisations that count
// with o's credential costs, by their last snapshots.
func (e *Exporter) sharedRequests(o *organization) int {
	n := 0
	for _, other := range e.organizations() {
		if other != o && other.counts == o.counts {
			n += other.collection.Snapshot().Requests
		}
	}
	return n
}

// observed is a client as one organisation's collection uses it: its
// requests are told to the organisation's API metrics, also when
// organisations share the client.
type observed struct {
	*asana.Client
	api asana.Observer
}

func (o observed) Workspaces(ctx context.Context) ([]asana.Workspace, error) {
	return o.Client.Workspaces(asana.WithObserver(ctx, o.api))
}

func (o observed) CountSeats(ctx context.Context, gid string, opts asana.CountOptions) (asana.SeatListing, error) {
	return o.Client.CountSeats(asana.WithObserver(ctx, o.api), gid, opts)
}

func (o observed) EachMembershipPage(ctx context.Context, gid string, detail asana.Detail, start func() error, fn func(asana.MembershipPage) error) (int, error) {
	return o.Client.EachMembershipPage(asana.WithObserver(ctx, o.api), gid, detail, start, fn)
}

func (o observed) AuditLogPage(ctx context.Context, gid string, q asana.AuditQuery) (asana.AuditPage, error) {
	return o.Client.AuditLogPage(asana.WithObserver(ctx, o.api), gid, q)
}

// oneOrganization wires the exporter's one organisation, without
// organizations: in the config: the credentials of the flags, whose files
// their hooks read again at each reload.
func (e *Exporter) oneOrganization() (*organization, error) {
	creds, err := readCredentials(e.opts, e.logger)
	if err != nil {
		return nil, err
	}
	perMinute := e.config.Get().RequestsPerMinute
	counts := &credential{oauth: creds.oauthMetrics}
	if counts.client, err = e.newClient(creds.counts, perMinute); err != nil {
		return nil, err
	}
	var audit *credential
	if creds.audit != nil {
		audit = &credential{}
		if audit.client, err = e.newClient(creds.audit, perMinute); err != nil {
			return nil, err
		}
	}
	o, err := e.newOrganization("", counts, audit)
	if err != nil {
		return nil, err
	}
	for _, hook := range creds.reloads {
		e.config.OnReload(hook)
	}
	e.config.OnReload(o.collection.Reload)
	e.config.OnReload(func(next *config.Config) (func(), error) {
		if len(next.Organizations) > 0 {
			return nil, errors.New("organizations: was added to the config file: counting several organisations, each with its own " +
				"credential, takes a restart without the credential flags")
		}
		return nil, nil
	})
	return o, nil
}

// credentialFlags refuses the flags (and $ASANA_TOKEN) that give the
// credential of the one organisation, beside organizations: in cfg: which
// of the two counted would be a guess.
func credentialFlags(opts Options, cfg *config.Config, file string) error {
	var given []string
	if opts.TokenFile != "" {
		given = append(given, tokenFlag)
	}
	if opts.AuditTokenFile != "" {
		given = append(given, auditTokenFlag)
	}
	if opts.OAuth.set() {
		given = append(given, "--asana.oauth.client-id (with its files)")
	}
	if os.Getenv(TokenEnv) != "" && !slices.ContainsFunc(cfg.Organizations, func(o config.Organization) bool { return o.TokenEnv == TokenEnv }) {
		given = append(given, "$"+TokenEnv)
	}
	if opts.Demo {
		given = append(given, "--demo")
	}
	if len(given) == 0 {
		return nil
	}
	return fmt.Errorf("%s and organizations: in the config file %s exclude each other: each organization names its own credential "+
		"(token_file, token_env or oauth, and audit_token_file); drop %s, or the organizations: key", strings.Join(given, ", "), file, strings.Join(given, ", "))
}

// selection checks --organization against cfg, and returns the entries of
// cfg.Organizations it selects: every one without the flag.
func (e *Exporter) selection(cfg *config.Config) ([]int, error) {
	var all, picked []int
	for i := range cfg.Organizations {
		all = append(all, i)
	}
	if len(e.opts.Organizations) == 0 {
		return all, nil
	}
	if len(cfg.Organizations) == 0 {
		return nil, errors.New("--organization applies to a config file with organizations: (several organisations, each with its own credential); " +
			"without it the exporter counts one: drop the flag")
	}
	for _, name := range e.opts.Organizations {
		i := slices.IndexFunc(cfg.Organizations, func(o config.Organization) bool { return o.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("--organization=%s: no organization of that name in the config file; it has %s",
				excerpt.Cut(name, 64), strings.Join(cfg.OrganizationNames(), ", "))
		}
		if !slices.Contains(picked, i) {
			picked = append(picked, i)
		}
	}
	slices.Sort(picked) // the config's order
	return picked, nil
}

// prepare builds what cfg's organisations (those --organization selects)
// need: their credentials, read now, or those in use kept and read again;
// and their organisations, those in use kept while their credentials are
// the same. It returns them, and how to put them in place: nothing is in
// use until apply runs, so a reload that fails changes nothing.
func (e *Exporter) prepare(cfg *config.Config) (orgs []*organization, apply func(), err error) {
	picked, err := e.selection(cfg)
	if err != nil {
		return nil, nil, err
	}
	creds := map[string]*credential{}
	var applies []func()
	// get returns the credential of key, which at names: the one in use,
	// its files read again, or else read for the first time by read.
	get := func(key, at string, read func() (*credential, error)) (*credential, error) {
		if c := creds[key]; c != nil {
			return c, nil
		}
		c := e.creds[key]
		switch {
		case c == nil:
			var err error
			if c, err = read(); err != nil {
				return nil, err
			}
		case c.reread != nil:
			apply, err := c.reread(at)
			if err != nil {
				return nil, err
			}
			applies = append(applies, apply)
		}
		creds[key] = c
		return c, nil
	}
	var errs []error
	for _, i := range picked {
		o := cfg.Organizations[i]
		at := fmt.Sprintf("organizations[%d]", i)
		counts, err := get(o.Credential(), at+"."+strings.Fields(o.Credential())[0], func() (*credential, error) { return e.readCredential(at, o) })
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var audit *credential
		if key := config.TokenFileCredential(o.AuditTokenFile); o.AuditTokenFile != "" && key != counts.key {
			audit, err = get(key, at+".audit_token_file", func() (*credential, error) {
				return e.tokenFileCredential(key, at+".audit_token_file", o.AuditTokenFile, o.PerMinute())
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		org := e.find(o.Name)
		if org == nil || org.counts != counts || org.audit != audit {
			if org, err = e.newOrganization(o.Name, counts, audit); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if e.orgs.Load() != nil {
			// A reload's budget, to a credential kept as well as to one
			// read now; at startup every client is made with its budget.
			apply, _ := org.collection.Reload(cfg.Scope(o.Name))
			applies = append(applies, apply)
		}
		orgs = append(orgs, org)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return orgs, func() {
		for _, apply := range applies {
			apply()
		}
		e.creds = creds
		e.swap(orgs)
	}, nil
}

// find is the organisation of that name in use, nil if none.
func (e *Exporter) find(name string) *organization {
	if e.orgs.Load() == nil {
		return nil
	}
	for _, o := range e.organizations() {
		if o.name == name {
			return o
		}
	}
	return nil
}

// reloadOrganizations is the reload hook with organizations: in the
// config: the organisations added are read and built, those kept read their
// files again, all before any is used.
func (e *Exporter) reloadOrganizations(next *config.Config) (func(), error) {
	if len(next.Organizations) == 0 {
		return nil, errors.New("organizations: is gone from the config file: going back to one organisation, with the credential " +
			"flags, takes a restart")
	}
	_, apply, err := e.prepare(next)
	return apply, err
}

// swap puts orgs in use: those removed stop collecting, those added start
// when the exporter runs.
func (e *Exporter) swap(orgs []*organization) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var old []*organization
	if p := e.orgs.Load(); p != nil {
		old = *p
	}
	e.orgs.Store(&orgs)
	for _, o := range old {
		if !slices.Contains(orgs, o) && o.stop != nil {
			o.stop()
			e.logger.Info("Stopped counting an organisation removed from the config", "organization", o.name)
		}
	}
	if e.running != nil {
		for _, o := range orgs {
			e.start(o)
		}
	}
}

// start runs o's collection, unless it runs already; under e.mu.
func (e *Exporter) start(o *organization) {
	if o.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(e.running)
	o.stop = cancel
	go o.collection.Run(ctx)
}

// readCredential reads the credential of an organisation, the entry at of
// the config file.
func (e *Exporter) readCredential(at string, o config.Organization) (*credential, error) {
	switch {
	case o.TokenFile != "":
		return e.tokenFileCredential(o.Credential(), at+".token_file", o.TokenFile, o.PerMinute())
	case o.TokenEnv != "":
		token, err := readTokenEnv(at+".token_env", o.TokenEnv)
		if err != nil {
			return nil, err
		}
		bearer, err := asana.BearerToken(token, e.opts.Transport)
		if err != nil {
			return nil, fmt.Errorf("%s.token_env: $%s: %w", at, o.TokenEnv, err)
		}
		c := &credential{key: o.Credential()}
		c.client, err = e.newClient(bearer, o.PerMinute())
		return c, err
	}
	app := OAuthOptions{ClientID: o.OAuth.ClientID, ClientSecretFile: o.OAuth.ClientSecretFile, RefreshTokenFile: o.OAuth.RefreshTokenFile, at: at + ".oauth"}
	c := &credential{key: o.Credential(), oauth: collector.NewOAuthMetrics()}
	transport, err := newOAuth(app, cmp.Or(e.opts.AsanaURL, asana.DefaultBaseURL), e.opts.Transport, c.oauth, e.logger)
	if err != nil {
		return nil, err
	}
	c.reread = func(at string) (func(), error) {
		app.at = at
		return oauthReload(app, transport, e.logger)(nil)
	}
	c.client, err = e.newClient(transport, o.PerMinute())
	return c, err
}

// tokenFileCredential reads a token file that name (a key of the config
// file) gives, and makes its client; a reload reads the file again.
func (e *Exporter) tokenFileCredential(key, name, path string, perMinute int) (*credential, error) {
	token, err := readTokenFile(name, path, "the file "+name+" names", e.logger)
	if err != nil {
		return nil, err
	}
	bearer, err := asana.BearerToken(token, e.opts.Transport)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, path, err)
	}
	c := &credential{key: key}
	c.reread = func(at string) (func(), error) {
		return tokenReload(at, path, "the file "+at+" names", bearer, e.logger)(nil)
	}
	c.client, err = e.newClient(bearer, perMinute)
	return c, err
}
