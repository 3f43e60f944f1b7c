package exporter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/auditlog"
	"github.com/asana-exporter/asana_exporter/internal/collect"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// targets are the workspaces a command lists, each with the organisation
// whose credential lists it, in the organisations' order.
type targets []target

type target struct {
	org        *organization
	workspaces []asana.Workspace
}

// all are the workspaces of every organisation.
func (t targets) all() []asana.Workspace {
	var all []asana.Workspace
	for _, o := range t {
		all = append(all, o.workspaces...)
	}
	return all
}

// visibility is what each organisation's token sees.
type visibility struct {
	orgs    []*organization
	visible [][]asana.Workspace
}

// visibility lists the workspaces each organisation's token sees, the
// organisations at once.
func (e *Exporter) visibility(ctx context.Context) (visibility, error) {
	v := visibility{orgs: e.organizations()}
	v.visible = make([][]asana.Workspace, len(v.orgs))
	errs := make([]error, len(v.orgs))
	var wg sync.WaitGroup
	for i, o := range v.orgs {
		wg.Go(func() {
			if v.visible[i], errs[i] = o.collection.Visible(ctx); errs[i] != nil && o.name != "" {
				errs[i] = fmt.Errorf("organization %s: %w", o.name, errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return v, fmt.Errorf("listing workspaces: %w", err)
	}
	return v, nil
}

// owner is the organisation whose credential acts on workspace gid: the
// one that lists it in the config, or else the first whose token sees it.
func (e *Exporter) owner(v visibility, gid string) (*organization, asana.Workspace, bool) {
	cfg := e.config.Get()
	var first *organization // the first whose token sees it
	var seen asana.Workspace
	for i, o := range v.orgs {
		j := slices.IndexFunc(v.visible[i], func(w asana.Workspace) bool { return w.GID == gid })
		switch {
		case j < 0:
		case cfg.Scope(o.name).Workspace(gid) != nil:
			return o, v.visible[i][j], true
		case first == nil:
			first, seen = o, v.visible[i][j]
		}
	}
	return first, seen, first != nil
}

// seatTargets are the workspaces to list: those the config collects, or
// the ones named (which a token must see); and what each token sees, which
// they were chosen from.
func (e *Exporter) seatTargets(ctx context.Context, named []string) (targets, visibility, error) {
	v, err := e.visibility(ctx)
	if err != nil {
		return nil, v, err
	}
	out := make(targets, len(v.orgs))
	for i, o := range v.orgs {
		out[i].org = o
		if len(named) == 0 {
			out[i].workspaces, _ = collect.Targets(e.config.Get().Scope(o.name), v.visible[i])
		}
	}
	for _, gid := range named {
		o, w, ok := e.owner(v, gid)
		if !ok {
			who := "the token cannot"
			if e.byOrganization() {
				who = "no organization's token can"
			}
			return nil, v, fmt.Errorf("--workspace=%s: %s see that workspace; it sees %s", gid, who, describe(slices.Concat(v.visible...)))
		}
		i := slices.Index(v.orgs, o)
		if !slices.ContainsFunc(out[i].workspaces, func(w asana.Workspace) bool { return w.GID == gid }) {
			out[i].workspaces = append(out[i].workspaces, w)
		}
	}
	return out, v, nil
}

// ledger is the audit log's Ledger of an organisation, from whichever
// organisation's reader has it; nil before its first read.
func (e *Exporter) ledger(gid string) *auditlog.Ledger {
	for _, o := range e.organizations() {
		if l := o.collection.AuditLog().Ledger(gid); l != nil {
			return l
		}
	}
	return nil
}

// listRoster lists the targets' rosters, each organisation's on its own
// credential and all at once, showing how each listing goes.
func (e *Exporter) listRoster(ctx context.Context, t targets, opts roster.ListOptions) roster.Listings {
	b := e.newBoard()
	defer b.stop()
	opts.Display = b.listings()
	parts := make([]roster.Listings, len(t))
	var wg sync.WaitGroup
	for i, o := range t {
		if len(o.workspaces) > 0 {
			wg.Go(func() { parts[i] = o.org.collection.Roster(ctx, o.workspaces, opts) })
		}
	}
	wg.Wait()
	listings := slices.Concat(parts...)
	for _, l := range listings {
		b.finish(l.Workspace, l.Err)
	}
	return listings
}

// actors are who acts on each workspace for reclaim apply and undo: the
// credential of the organisation the workspace belongs to, and its user,
// read once for each organisation that owns one of gids. v is what each
// token sees, if the caller has listed it already; nil lists it when
// there are several organisations to choose from.
func (e *Exporter) actors(ctx context.Context, v *visibility, gids []string) (reclaim.Actors, error) {
	orgs := e.organizations()
	if !e.byOrganization() {
		client := orgs[0].counts.client
		me, err := client.Me(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the token's own user: %w", err)
		}
		return func(string) (reclaim.Actor, error) { return reclaim.Actor{Client: client, User: me}, nil }, nil
	}
	if v == nil {
		listed, err := e.visibility(ctx)
		if err != nil {
			return nil, err
		}
		v = &listed
	}
	byGID := map[string]reclaim.Actor{}
	users := map[*organization]asana.User{}
	for _, gid := range gids {
		o, _, ok := e.owner(*v, gid)
		if !ok {
			continue
		}
		if _, read := users[o]; !read {
			var err error
			if users[o], err = o.counts.client.Me(ctx); err != nil {
				return nil, fmt.Errorf("organization %s: reading the token's own user: %w", o.name, err)
			}
		}
		byGID[gid] = reclaim.Actor{Client: o.counts.client, User: users[o]}
	}
	names := strings.Join(e.config.Get().OrganizationNames(), ", ")
	return func(gid string) (reclaim.Actor, error) {
		if a, ok := byGID[gid]; ok {
			return a, nil
		}
		return reclaim.Actor{}, fmt.Errorf("no organization's token sees workspace %s (organizations: %s)", gid, names)
	}, nil
}
