// Package asanatest is a simulated Asana API for tests, demos and
// benchmarks, in the spirit of net/http/httptest.
//
// It serves the routes asana_exporter uses under /api/1.0 and behaves as
// Asana's OpenAPI spec and developer docs say: compact records unless
// opt_fields asks for more, next_page only when limit is sent, limit bounded
// to 1..100, opaque offsets that expire, Asana's error bodies, per-token rate
// and concurrency limits. Faults can be injected per route and per page, and
// every request is logged so that tests can assert on what a client sent.
// Each token acts as a user listed in no workspace: TokenUser, an admin of
// every workspace, or MemberTokenUser for a MemberToken; removeUser and
// addUser change the memberships in memory.
//
//	srv := asanatest.NewServer(asanatest.Generate(1, asanatest.WorkspaceSpec{Licensed: 27, Guests: 155}), asanatest.Config{})
//	defer srv.Close()
//	// point a client at srv.BaseURL with token asanatest.DefaultToken
//
// NewMemoryServer serves it on in-memory connections instead, reached
// through srv.Transport, for tests in a testing/synctest bubble, whose
// deadlines, backoffs and token lifetimes then run on a fake clock.
package asanatest
