package asanatest

import (
	"slices"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// Scenario is one way Asana misbehaves, from the catalogue the fault
// matrix, the soak and the leak tests share. Its faults hit a membership
// listing from its third page on (the fourth for an expiring offset, which
// needs one), so a workspace of two pages or fewer is spared.
type Scenario struct {
	Name   string
	Faults []Fault
	// Absorbed: a client that retries (five attempts, as asana.Client)
	// and restarts an expired listing hides the fault.
	Absorbed bool
	// What such a client sees at least: retries, 429s, and a status code
	// among its answers (0: none in particular).
	Retries, RateLimited, Status int
	// Revokes: the token stays revoked, failing every later request, until
	// GrantToken.
	Revokes bool
	// Deletes: the workspace is gone for good.
	Deletes bool
	// Slow: the fault lasts until the caller's deadline.
	Slow bool
}

var memberships = asana.EndpointWorkspaceMemberships

// Scenarios is the catalogue.
var Scenarios = []Scenario{
	{Name: "429 burst with Retry-After", Absorbed: true, RateLimited: 2, Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 2, Status: 429, RetryAfter: "1"}}},
	{Name: "429 burst without Retry-After", Absorbed: true, RateLimited: 2, Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 2, Status: 429}}},
	{Name: "429 on every attempt", RateLimited: 2, Retries: 1,
		Faults: []Fault{{Route: memberships, Page: 3, Status: 429, RetryAfter: "0"}}},
	{Name: "429 with a Retry-After of a day", RateLimited: 1,
		Faults: []Fault{{Route: memberships, Page: 3, Status: 429, RetryAfter: "86400"}}},
	{Name: "5xx burst", Absorbed: true, Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 1, Status: 500}, {Route: memberships, Page: 3, Times: 1, Status: 503}}},
	{Name: "5xx that never ends", Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Status: 503}}},
	{Name: "answer slower than the deadline", Slow: true,
		Faults: []Fault{{Route: memberships, Page: 3, Latency: time.Hour}}},
	{Name: "body slower than the deadline", Slow: true,
		Faults: []Fault{{Route: memberships, Page: 3, SlowBody: time.Hour}}},
	{Name: "connection reset mid-body once", Absorbed: true, Retries: 1,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 1, Reset: true}}},
	{Name: "connection reset mid-body always", Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Reset: true}}},
	{Name: "connection dropped", Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Drop: true}}},
	{Name: "truncated body", Retries: 2,
		Faults: []Fault{{Route: memberships, Page: 3, Truncate: true}}},
	{Name: "malformed JSON once", Absorbed: true, Retries: 1,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 1, Malformed: true}}},
	{Name: "fields of the wrong type",
		Faults: []Fault{{Route: memberships, Page: 3, WrongTypes: true}}},
	{Name: "offset expires mid-listing", Absorbed: true,
		Faults: []Fault{{Route: memberships, Page: 4, Times: 1, ExpireOffset: true}}},
	{Name: "token revoked mid-cycle", Revokes: true, Status: 401,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 1, Revoke: true}}},
	{Name: "workspace deleted mid-cycle", Deletes: true, Status: 404,
		Faults: []Fault{{Route: memberships, Page: 3, Times: 1, Delete: true}}},
}

// Refusals are the answers a bad token, a token without the right
// permissions, a plan without the API or a wrong URL bring.
var Refusals = []Fault{
	{Status: 401}, {Status: 403, Message: "Full permissions are required"},
	{Status: 400}, {Status: 402}, {Status: 404}, {Status: 451}, {Status: 500},
}

// EveryFault is every fault in the catalogue: the scenarios' and the
// refusals, for tests that walk every error path.
func EveryFault() []Fault {
	faults := slices.Clone(Refusals)
	for _, sc := range Scenarios {
		faults = append(faults, sc.Faults...)
	}
	return faults
}
