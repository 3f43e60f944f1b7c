// Package collector holds the exporter's Prometheus collectors. Each
// builds const metrics at scrape time from state another package owns: the
// seat metrics from the latest collect.Snapshot, the API client's and the
// OAuth app's metrics from what they observed, the audit log's from its
// Reader. None of them calls Asana.
//
// It sits at the top level, as node_exporter's collector package does, and
// like that one it serves only its own binary: its constructors take the
// module's internal types (collect.Snapshot, auditlog.Reader), so another
// module cannot build them. The stable interface is the metrics themselves.
package collector
