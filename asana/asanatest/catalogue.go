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

// ChangeScenario is one way a removeUser or addUser call goes wrong, from
// the catalogue the tests of a client that changes members share: whether
// Asana made the change, and what a client that retries a POST only when
// Asana certainly did not act (as asana.Client) returns.
type ChangeScenario struct {
	Name string
	// Faults hit the first request of the route On names.
	Faults []Fault
	// Acted: the change is made, whatever the client hears.
	Acted bool
	// Outcome is the kind of the client's error; "" for success.
	Outcome asana.Kind
	// Retries the client makes at least.
	Retries int
	// Slow: the answer never comes before the caller's deadline.
	Slow bool
	// Revokes: the token stays revoked, failing every later request,
	// until GrantToken.
	Revokes bool
}

// On is the scenario's faults on route: asana.EndpointRemoveUser or
// asana.EndpointAddUser.
func (s ChangeScenario) On(route string) []Fault {
	faults := slices.Clone(s.Faults)
	for i := range faults {
		faults[i].Route = route
	}
	return faults
}

// ChangeScenarios is the catalogue.
var ChangeScenarios = []ChangeScenario{
	{Name: "429 then success", Acted: true, Retries: 1,
		Faults: []Fault{{Times: 1, Status: 429, RetryAfter: "1"}}},
	{Name: "429 on every attempt", Outcome: asana.ErrRateLimited, Retries: 1,
		Faults: []Fault{{Status: 429, RetryAfter: "0"}}},
	{Name: "500 before acting", Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Status: 500}}},
	{Name: "500 after acting", Acted: true, Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Status: 500, Late: true}}},
	{Name: "503 with Retry-After after acting", Acted: true, Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Status: 503, RetryAfter: "1", Late: true}}},
	{Name: "connection dropped before acting", Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Drop: true}}},
	{Name: "connection dropped after acting", Acted: true, Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Drop: true, Late: true}}},
	{Name: "connection reset mid-answer", Acted: true, Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Reset: true}}},
	{Name: "malformed answer after acting", Acted: true, Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Malformed: true, Late: true}}},
	{Name: "truncated answer after acting", Acted: true, Outcome: asana.ErrOutcomeUnknown,
		Faults: []Fault{{Times: 1, Truncate: true, Late: true}}},
	{Name: "answer slower than the deadline", Acted: true, Outcome: asana.ErrOutcomeUnknown, Slow: true,
		Faults: []Fault{{Times: 1, Latency: time.Hour, Late: true}}},
	{Name: "token revoked", Outcome: asana.ErrUnauthorized, Revokes: true,
		Faults: []Fault{{Times: 1, Revoke: true}}},
	{Name: "workspace deleted", Outcome: asana.ErrNotFound,
		Faults: []Fault{{Times: 1, Delete: true}}},
}
