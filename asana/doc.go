// Package asana is a small client for the parts of Asana's REST API that a
// seat exporter needs: workspaces and workspace memberships, and the two
// calls that free a seat or give it back (removeUser, addUser).
//
// Those two are POSTs, which change Asana: one is retried only when Asana
// certainly did not act (a 429, or no connection made), and any other
// failure after which it may have acted is ErrOutcomeUnknown, for the
// caller to re-read the member rather than act twice.
//
// It does the things real integrations get wrong: it always paginates with
// limit=100, asks for exactly the opt_fields it needs (list endpoints return
// compact records otherwise), restarts a listing whose offset expired, honours
// Retry-After on 429, retries 5xx with capped backoff, keeps a per-token
// request budget, and turns Asana's error bodies into errors that tell the
// user what to do.
//
// A listing is complete and exact or an error: a page with no records is
// not its end while it has a next_page, a record given twice is counted
// once, a record without a field the count asked for fails it, and so does
// an offset that an earlier page gave (paginate.go).
//
// The token is only ever placed in the Authorization header, and only sent
// to the configured origin: a redirect to another scheme, host or port is
// refused, for the API and the OAuth token endpoint alike. It never appears
// in an error, a log line or a metric. Every body is bounded in size and
// nesting before it is decoded, a decode error names the field and the type
// it found but never the value, and a Retry-After longer than the time left
// fails at once instead of being waited out.
package asana
