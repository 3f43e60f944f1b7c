package asanatest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
)

// DefaultToken is accepted as a service account's token when Config.Tokens
// is empty.
const DefaultToken = "asanatest-token"

// TokenKind is what a token may do.
type TokenKind int

const (
	// FullAccess is a personal access token, a service-account token or an
	// OAuth token of an app with Full permissions.
	FullAccess TokenKind = iota
	// ServiceAccount is a service account's token: full access, and the
	// only kind that may read an organisation's audit log.
	ServiceAccount
	// GranularScopes is an OAuth token with granular scopes such as
	// users:read and workspaces:read; no scope covers workspace memberships,
	// so those endpoints answer 403 "Full permissions are required".
	GranularScopes
	// MemberToken is a personal access token of a member who is no admin
	// (MemberTokenUser): full access to what a member may read, and 403 to
	// removeUser and addUser.
	MemberToken
)

// Config tunes the simulated API. The zero value behaves like a paid Asana
// domain.
type Config struct {
	Tokens map[string]TokenKind // default {DefaultToken: FullAccess}

	OffsetTTL time.Duration // default 15m, as observed on real offsets

	// RequestsPerWindow limits each token to that many requests per
	// RateWindow (default 1500 per minute, Asana's paid plans). Rejected
	// requests count too, as at Asana.
	RequestsPerWindow int
	RateWindow        time.Duration
	// MaxConcurrent limits each token's requests in flight (default 50,
	// Asana's concurrent-read limit).
	MaxConcurrent int

	// HideInactive leaves is_active=false memberships out of the workspace
	// listing, as an Asana engineer once described it; by default they are
	// listed, as the spec's is_active field implies.
	HideInactive bool

	// Scopes give a token the workspaces its user belongs to, by gid: GET
	// /workspaces lists those alone, and a request about any other
	// workspace, its memberships or its audit log is answered as for a
	// workspace that does not exist. A token without an entry sees every
	// workspace. A service account belongs to one organisation, so two
	// organisations served by one API give each service account's token
	// the gids of its own.
	Scopes map[string][]string
}

// API is the simulated Asana API as an http.Handler.
type API struct {
	cfg    Config
	signer offsetSigner

	// clockOff is what Advance added to the clock, in nanoseconds: read
	// with and without mu, so atomic.
	clockOff atomic.Int64

	mu     sync.Mutex
	org    *Org
	faults []*Fault
	log    []Request
	tokens map[string]*tokenUse
	oauth  oauthState
}

type tokenUse struct {
	kind        TokenKind
	scope       []string // the workspace gids the token sees; nil for every one
	revoked     bool
	expires     time.Time // OAuth access tokens only
	requests    int
	recent      []time.Time // request times inside the rate window
	inFlight    int
	maxInFlight int
	limited     int
}

// Request is one logged request. The token itself is never logged.
type Request struct {
	Time       time.Time
	Method     string
	Path       string // without the /api/1.0 prefix
	Route      string // template such as asana.EndpointWorkspaceMemberships; "" if none matched
	Query      url.Values
	Page       int // 1-based page of a listing, 0 for other routes
	Status     int // 0 when the connection was dropped
	UserAgent  string
	Authorized bool
	// Served is how long the server took, from the request's arrival to
	// its answer written, injected latency included.
	Served time.Duration
	// Bytes is the length of the response body.
	Bytes int
}

// NewAPI returns the handler; most tests want NewServer.
func NewAPI(org *Org, cfg Config) *API {
	if len(cfg.Tokens) == 0 {
		cfg.Tokens = map[string]TokenKind{DefaultToken: ServiceAccount}
	}
	if cfg.OffsetTTL <= 0 {
		cfg.OffsetTTL = 15 * time.Minute
	}
	if cfg.RequestsPerWindow <= 0 {
		cfg.RequestsPerWindow = 1500
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = time.Minute
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 50
	}
	a := &API{cfg: cfg, signer: newOffsetSigner(), org: org, tokens: map[string]*tokenUse{}}
	a.oauth = oauthState{codes: map[string]grant{}, refreshTokens: map[string]*grant{}}
	for tok, kind := range cfg.Tokens {
		a.tokens[tok] = &tokenUse{kind: kind, scope: cfg.Scopes[tok]}
	}
	return a
}

// Server is an API listening on a loopback port, or in memory.
type Server struct {
	*API
	*httptest.Server
	BaseURL string // URL + "/api/1.0", what a client's base URL should be
	// Transport reaches the server, as a client's base transport (the
	// base of asana.BearerToken, say): nil, for net/http's default, on a
	// loopback port.
	Transport http.RoundTripper
}

// NewServer starts an API on a loopback port. Close it when done.
func NewServer(org *Org, cfg Config) *Server {
	api := NewAPI(org, cfg)
	ts := httptest.NewServer(api)
	return &Server{API: api, Server: ts, BaseURL: ts.URL + apiPrefix}
}

const apiPrefix = "/api/1.0"

// RouteWorkspace is GET /workspaces/{workspace_gid}: the simulator serves it
// as Asana does, though the exporter never calls it.
const RouteWorkspace = "/workspaces/{workspace_gid}"

// routes are the routes served, by method and by the path's shape: the
// segments after /api/1.0, "*" standing for a gid (or, for a user, "me"
// or an email).
var routes = []routeShape{
	{http.MethodGet, asana.EndpointWorkspaces, []string{"workspaces"}},
	{http.MethodGet, RouteWorkspace, []string{"workspaces", "*"}},
	{http.MethodGet, asana.EndpointWorkspaceMemberships, []string{"workspaces", "*", "workspace_memberships"}},
	{http.MethodGet, asana.EndpointAuditLogEvents, []string{"workspaces", "*", "audit_log_events"}},
	{http.MethodPost, asana.EndpointRemoveUser, []string{"workspaces", "*", "removeUser"}},
	{http.MethodPost, asana.EndpointAddUser, []string{"workspaces", "*", "addUser"}},
	{http.MethodGet, asana.EndpointWorkspaceMembership, []string{"workspace_memberships", "*"}},
	{http.MethodGet, asana.EndpointUser, []string{"users", "*"}},
}

type routeShape struct {
	method, route string
	segments      []string
}

// listings are the routes that paginate: a request without an offset asks
// for their first page.
var listings = []string{asana.EndpointWorkspaces, asana.EndpointWorkspaceMemberships, asana.EndpointAuditLogEvents}

// fullPermissionsOnly are the routes no granular OAuth scope covers.
var fullPermissionsOnly = []string{asana.EndpointWorkspaceMemberships, asana.EndpointAuditLogEvents,
	asana.EndpointWorkspaceMembership, asana.EndpointRemoveUser, asana.EndpointAddUser}

// Mutate changes the organisation under the server's lock, for drift.
func (a *API) Mutate(f func(*Org)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a.org)
}

// WorkspaceGIDs returns the organisation's workspace gids, in order.
func (a *API) WorkspaceGIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	gids := make([]string, len(a.org.Workspaces))
	for i, w := range a.org.Workspaces {
		gids[i] = w.GID
	}
	return gids
}

// sees reports whether the token sees workspace gid.
func (u *tokenUse) sees(gid string) bool {
	return u.scope == nil || slices.Contains(u.scope, gid)
}

// visible are the workspaces the token sees, in order; the caller holds
// a.mu.
func (a *API) visible(use *tokenUse) []*Workspace {
	if use.scope == nil {
		return a.org.Workspaces
	}
	var ws []*Workspace
	for _, w := range a.org.Workspaces {
		if use.sees(w.GID) {
			ws = append(ws, w)
		}
	}
	return ws
}

// Advance moves the server's clock, to expire offsets without waiting.
func (a *API) Advance(d time.Duration) { a.clockOff.Add(int64(d)) }

func (a *API) now() time.Time { return time.Now().Add(time.Duration(a.clockOff.Load())) }

// Requests returns a copy of the request log.
func (a *API) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.log)
}

// ResetRequests empties the request log.
func (a *API) ResetRequests() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = nil
}

// TokenStats is what one token did to the limits.
type TokenStats struct {
	Requests    int // requests it sent, rejected ones included
	MaxInFlight int // most requests it had in flight at once
	RateLimited int // requests answered 429 by the server's own limits
}

// Stats reports a token's use of the limits.
func (a *API) Stats(token string) TokenStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.tokens[token]; u != nil {
		return TokenStats{Requests: u.requests, MaxInFlight: u.maxInFlight, RateLimited: u.limited}
	}
	return TokenStats{}
}

// call is one request on its way through the handler. Its response is
// built under the API's lock and written after the lock is released, so a
// slow client or a slow-body fault never stalls other requests.
type call struct {
	r      *http.Request
	entry  Request
	pretty bool

	status   int
	header   http.Header
	body     []byte
	declared int           // Content-Length to declare when it differs from len(body)
	slow     time.Duration // spread the body over this long
	dropped  bool
	reset    bool      // send half the body, then RST
	in       []byte    // a POST's body, up to maxRequestBody+1 bytes
	inErr    error     // why it could not be read whole
	use      *tokenUse // the request's token
	gid      string    // the workspace in the path, if any
	release  func()    // ends the request's in-flight slot, after the write
}

func (c *call) reply(status int, header http.Header, body []byte) {
	c.status, c.header, c.body = status, header, body
	c.entry.Status = status
}

func (c *call) fail(status int, msg string, header http.Header) {
	c.reply(status, header, errorBody(status, msg))
}

func (c *call) ok(v any) {
	var body []byte
	if c.pretty {
		body, _ = json.MarshalIndent(v, "", "  ")
	} else {
		body, _ = json.Marshal(v)
	}
	c.reply(http.StatusOK, nil, body)
}

func (c *call) write(w http.ResponseWriter) {
	if c.dropped {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if c.declared > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(c.declared))
	}
	if c.reset {
		w.Header().Set("Content-Length", strconv.Itoa(len(c.body)))
		w.WriteHeader(c.status)
		w.Write(c.body[:len(c.body)/2])
		http.NewResponseController(w).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				tcp.SetLinger(0) // close with RST, not FIN
			}
			conn.Close()
		}
		return
	}
	w.WriteHeader(c.status)
	if c.slow > 0 {
		writeSlowly(c.r.Context(), w, c.body, c.slow)
		return
	}
	w.Write(c.body)
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.serveOAuth(w, r) {
		return
	}
	arrived := time.Now()
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	c := &call{r: r, entry: Request{
		Time: a.now(), Method: r.Method, Path: path, Query: r.URL.Query(), UserAgent: r.UserAgent(),
	}}
	_, c.pretty = c.entry.Query["opt_pretty"]
	defer func() {
		c.write(w)
		c.entry.Served, c.entry.Bytes = time.Since(arrived), len(c.body)
		if c.release != nil {
			c.release()
		}
		a.mu.Lock()
		a.log = append(a.log, c.entry)
		a.mu.Unlock()
	}()

	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	// The token's fields change under the lock (GrantToken, a Revoke
	// fault), so they are read under it too.
	a.mu.Lock()
	use := a.tokens[tok]
	revoked := use != nil && use.revoked
	expired := use != nil && !use.expires.IsZero() && !time.Now().Before(use.expires)
	granular := use != nil && use.kind == GranularScopes
	a.mu.Unlock()
	c.use = use
	switch {
	case use == nil || revoked:
		c.fail(http.StatusUnauthorized, msgNotAuthorized, nil)
		return
	case expired:
		c.fail(http.StatusUnauthorized, msgTokenExpired, nil)
		return
	}
	c.entry.Authorized = true

	route, gid := matchRoute(r.Method, r.URL.Path)
	c.entry.Route = route
	if route == "" {
		c.fail(http.StatusNotFound, msgNoRoute, nil)
		return
	}
	if granular && slices.Contains(fullPermissionsOnly, route) {
		c.fail(http.StatusForbidden, msgFullPermissions, nil)
		return
	}
	if c.release = a.admit(c, use); c.release != nil {
		a.serveRoute(c, route, gid)
	}
}

// matchRoute returns the route template and the gid in the path, if any.
func matchRoute(method, path string) (route, gid string) {
	rest, ok := strings.CutPrefix(path, apiPrefix+"/")
	if !ok {
		return "", ""
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for _, r := range routes {
		if gid, ok := r.match(method, parts); ok {
			return r.route, gid
		}
	}
	return "", ""
}

// match reports whether a request's method and path segments are the
// route's, and the gid they hold.
func (r routeShape) match(method string, parts []string) (gid string, ok bool) {
	if r.method != method || len(r.segments) != len(parts) {
		return "", false
	}
	for i, seg := range r.segments {
		switch {
		case seg == "*" && parts[i] != "":
			gid = parts[i]
		case seg != parts[i]:
			return "", false
		}
	}
	return gid, true
}

// admit applies the token's rate and concurrency limits. It returns nil
// when the request was answered 429, and otherwise the function that ends
// the request's in-flight slot.
func (a *API) admit(c *call, use *tokenUse) (release func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now() // limits run on real time, not the offset clock
	cut := now.Add(-a.cfg.RateWindow)
	i := 0
	for i < len(use.recent) && !use.recent[i].After(cut) {
		i++
	}
	use.recent = append(use.recent[i:], now) // rejected requests count too
	use.requests++
	if len(use.recent) > a.cfg.RequestsPerWindow {
		use.limited++
		wait := use.recent[len(use.recent)-a.cfg.RequestsPerWindow-1].Add(a.cfg.RateWindow).Sub(now)
		c.fail(http.StatusTooManyRequests, msgRateLimited, http.Header{"Retry-After": {retryAfterSeconds(wait)}})
		return nil
	}
	if use.inFlight >= a.cfg.MaxConcurrent {
		use.limited++
		c.fail(http.StatusTooManyRequests, msgRateLimited, http.Header{"Retry-After": {"1"}})
		return nil
	}
	use.inFlight++
	use.maxInFlight = max(use.maxInFlight, use.inFlight)
	return func() {
		a.mu.Lock()
		use.inFlight--
		a.mu.Unlock()
	}
}

func (a *API) serveRoute(c *call, route, gid string) {
	if strings.HasPrefix(route, RouteWorkspace) {
		c.gid = gid
	}
	q := c.entry.Query
	var (
		claims    offsetClaims
		offsetErr error
	)
	if off := q.Get("offset"); off != "" {
		claims, offsetErr = a.signer.verify(off, c.entry.Path, a.now())
		c.entry.Page = claims.Page
	} else if slices.Contains(listings, route) {
		c.entry.Page = 1
	}
	if c.r.Method == http.MethodPost {
		// Read before the lock is taken: a client may send it slowly.
		c.in, c.inErr = io.ReadAll(io.LimitReader(c.r.Body, maxRequestBody+1))
	}

	a.mu.Lock()
	fault, faulty := a.matchFault(route, c.entry.Page, q.Has("offset"))
	a.mu.Unlock()
	if faulty && !fault.Late && a.applyFault(c, fault) {
		return
	}
	if offsetErr != nil {
		c.fail(http.StatusBadRequest, offsetErr.Error(), nil)
		return
	}
	a.answer(c, route, gid, claims)
	if faulty && fault.Late {
		a.applyFault(c, fault)
	}
}

// maxRequestBody bounds a POST's body: removeUser and addUser take one
// user's gid or email, well under 1 KiB.
const maxRequestBody = 64 << 10

// answer serves the route, under the lock.
func (a *API) answer(c *call, route, gid string, claims offsetClaims) {
	q := c.entry.Query
	a.mu.Lock()
	defer a.mu.Unlock()
	var w *Workspace
	if c.gid != "" {
		// GUESS: a workspace the token's user does not belong to is
		// answered as one that does not exist, revealing nothing of it.
		if w = a.org.Workspace(gid); w == nil || !c.use.sees(gid) {
			c.fail(http.StatusNotFound, "workspace: Not a recognized ID: "+gid, nil)
			return
		}
	}
	fields := parseFields(q.Get("opt_fields"))
	switch route {
	case RouteWorkspace:
		full := workspaceRecord(w)
		if fields != nil {
			full = project(full, fields)
		}
		c.ok(map[string]any{"data": full})
	case asana.EndpointWorkspaces:
		ws := a.visible(c.use)
		a.list(c, claims, len(ws), func(i int) string { return ws[i].GID }, func(i int) record {
			full := workspaceRecord(ws[i])
			if fields == nil {
				return compactOf(full)
			}
			return project(full, fields)
		})
	case asana.EndpointAuditLogEvents:
		a.serveAuditLog(c, w, claims)
	case asana.EndpointWorkspaceMemberships:
		ms := w.Memberships
		a.list(c, claims, len(ms), func(i int) string { return ms[i].GID }, func(i int) record {
			if a.cfg.HideInactive && !ms[i].IsActive {
				return nil
			}
			full := membershipRecord(w, ms[i])
			if fields == nil {
				return membershipCompact(full)
			}
			return project(full, fields)
		})
	case asana.EndpointWorkspaceMembership:
		a.serveMembership(c, gid, fields)
	case asana.EndpointUser:
		a.serveUser(c, gid, fields)
	case asana.EndpointRemoveUser:
		a.removeUser(c, w)
	case asana.EndpointAddUser:
		a.addUser(c, w, fields)
	}
}

// unpaginatedCap is where Asana cuts a list requested without limit.
const unpaginatedCap = 1000

// list serves one page of a gid-ordered collection of n items. gidAt gives
// an item's gid; render gives its JSON, or nil for an item not listed.
func (a *API) list(c *call, from offsetClaims, n int, gidAt func(int) string, render func(int) record) {
	q := c.entry.Query
	limit, paginated := unpaginatedCap, q.Has("limit")
	if paginated {
		l, err := strconv.Atoi(q.Get("limit"))
		if err != nil || l < 1 || l > asana.PageLimit {
			c.fail(http.StatusBadRequest, fmt.Sprintf("limit: The value must be between 1 and %d.", asana.PageLimit), nil)
			return
		}
		limit = l
	}
	data := []record{}
	last, more := "", false
	// Keyset pagination: resume after the last gid served, so members who
	// join or leave between pages never shift the rest.
	for i := sort.Search(n, func(i int) bool { return gidAt(i) > from.After }); i < n; i++ {
		rec := render(i)
		if rec == nil {
			continue
		}
		if len(data) == limit {
			more = true
			break
		}
		data = append(data, rec)
		last = gidAt(i)
	}
	if !paginated {
		c.ok(map[string]any{"data": data})
		return
	}
	var next any // JSON null on the last page
	if more {
		now := a.now()
		page := max(from.Page, 1) + 1
		off := a.signer.sign(offsetClaims{Path: c.entry.Path, After: last, Page: page, IAT: now.Unix(), EXP: now.Add(a.cfg.OffsetTTL).Unix()})
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("offset", off)
		path := c.entry.Path + "?" + nq.Encode()
		next = map[string]string{"offset": off, "path": path, "uri": "http://" + c.r.Host + apiPrefix + path}
	}
	c.ok(map[string]any{"data": data, "next_page": next})
}

// applyFault acts out a fault. It reports whether the response is decided.
func (a *API) applyFault(c *call, f Fault) bool {
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-c.r.Context().Done():
		}
	}
	c.slow, c.reset = f.SlowBody, f.Reset
	switch {
	case f.Drop:
		c.dropped = true
		c.entry.Status = 0
	case f.ExpireOffset:
		c.fail(http.StatusBadRequest, errOffsetExpired.Error(), nil)
	case f.Revoke:
		a.mu.Lock()
		c.use.revoked = true
		a.mu.Unlock()
		c.fail(http.StatusUnauthorized, msgNotAuthorized, nil)
	case f.Delete && c.gid != "":
		a.mu.Lock()
		a.org.Workspaces = slices.DeleteFunc(a.org.Workspaces, func(w *Workspace) bool { return w.GID == c.gid })
		a.mu.Unlock()
		c.fail(http.StatusNotFound, "workspace: Not a recognized ID: "+c.gid, nil)
	case f.Status != 0:
		msg := f.Message
		if msg == "" {
			msg = defaultMessage(f.Status)
		}
		var h http.Header
		if f.RetryAfter != "" {
			h = http.Header{"Retry-After": {f.RetryAfter}}
		}
		c.fail(f.Status, msg, h)
	case f.Malformed:
		c.reply(http.StatusOK, nil, []byte(`{"data": [{"gid": "1", "is_active": tru`))
	case f.WrongTypes:
		c.reply(http.StatusOK, nil, []byte(`{"data":[{"gid":"1200000000000001","is_active":"yes","is_guest":0}],"next_page":null}`))
	case f.Truncate:
		body := []byte(`{"data":[{"gid":"1200000000000001","is_active":true,"is_guest":false}],"next_page":null}`)
		c.reply(http.StatusOK, nil, body[:len(body)/2])
		c.declared = len(body)
	default:
		return false // latency, a slow body or a reset on an otherwise normal answer
	}
	return true
}
