// Package testutil holds the helpers only tests import: its packages
// read metrics back (exposition), script misbehaving listings (pagetest),
// play what Asana's spec rules out (rogue), measure latencies under load
// (latency) and keep the docs' generated blocks in step (docblock). No production package may import them
// (TestProductionNeverImportsTestHelpers); the simulated Asana, which the
// demo serves, is asana/asanatest instead.
package testutil
