package exporter

import (
	"context"

	"github.com/asana-exporter/asana_exporter/internal/collect"
)

// Collection is the exporter's collection, for the tests of this package
// that drive its cycles themselves.
func (e *Exporter) Collection() *collect.Collection { return e.collection }

// ReadAuditLogs polls the audited organisations' audit logs once, as the
// collection's schedule does.
func (e *Exporter) ReadAuditLogs(ctx context.Context) error {
	return e.collection.ReadAuditLogs(ctx, e.collection.AuditedOrganizations(), nil)
}
