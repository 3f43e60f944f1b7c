package exporter

import (
	"context"

	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// Collection is the collection of the exporter's first organisation (its
// one without organizations: in the config), for the tests of this package
// that drive its cycles themselves.
func (e *Exporter) Collection() *collect.Collection { return e.organizations()[0].collection }

// CollectionOf is the collection of the organisation of that name, nil if
// none is counted.
func (e *Exporter) CollectionOf(name string) *collect.Collection {
	if o := e.find(name); o != nil {
		return o.collection
	}
	return nil
}

// ReadAuditLogs polls the audited organisations' audit logs once, as the
// collection's schedule does.
func (e *Exporter) ReadAuditLogs(ctx context.Context) error {
	c := e.Collection()
	return c.ReadAuditLogs(ctx, c.AuditedOrganizations(), nil)
}
