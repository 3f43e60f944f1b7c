// Package collector holds the exporter's Prometheus collectors. Each
// builds const metrics at scrape time from state another package owns: the
// seat metrics from the latest collect.Snapshot, the API client's and the
// OAuth app's metrics from what they observed, the audit log's from its
// Reader. None of them calls Asana.
package collector
