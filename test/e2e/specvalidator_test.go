package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specSlicePath is an excerpt of Asana's official OpenAPI spec; see
// testdata/openapi/SOURCE.md.
const specSlicePath = "testdata/openapi/asana-openapi-slice.yaml"

// specServerURL is the spec's only server. Validate prefixes it to the path it
// is given, so paths are written as in Asana's docs, without /api/1.0.
const specServerURL = "https://app.asana.com/api/1.0"

var specSlice struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// specValidator checks one HTTP exchange against the spec slice.
//
// On top of kin-openapi's response validation it is strict where the spec is
// loose: the spec never says additionalProperties: false, so kin-openapi
// accepts any undeclared property; specValidator rejects them. Because a list
// endpoint declares compact items (e.g. WorkspaceMembershipCompact) but
// returns fields of the full record when asked with opt_fields, a property of
// an object whose schema is a named FooCompact is declared if FooCompact or
// FooResponse declares it (allOf flattened), at any depth; such extra
// properties are type-checked against FooResponse.
type specValidator struct {
	doc           *openapi3.T
	router        routers.Router
	errorResponse *openapi3.SchemaRef
}

// newSpecValidator loads the spec slice (once per test binary) and fails t
// if it does not load, validate or route.
func newSpecValidator(t testing.TB) *specValidator {
	t.Helper()
	specSlice.once.Do(func() {
		specSlice.doc, specSlice.router, specSlice.err = loadSpecSlice()
	})
	if specSlice.err != nil {
		t.Fatalf("spec slice %s: %v", specSlicePath, specSlice.err)
	}
	return &specValidator{
		doc:           specSlice.doc,
		router:        specSlice.router,
		errorResponse: specSlice.doc.Components.Schemas["ErrorResponse"],
	}
}

func loadSpecSlice() (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specSlicePath)
	if err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, nil, fmt.Errorf("validate: %w", err)
	}
	if doc.Components == nil || doc.Components.Schemas["ErrorResponse"] == nil {
		return nil, nil, errors.New("no #/components/schemas/ErrorResponse")
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("router: %w", err)
	}
	return doc, router, nil
}

// Validate checks the response to a GET of path (without the /api/1.0
// prefix, e.g. "/workspaces/123/workspace_memberships") sent with query. It
// returns nil if the response conforms, or an error listing every violation
// with a JSON pointer into the body. A nil header stands for
// "Content-Type: application/json".
//
// Checks:
//   - the operation is found by path template in the spec slice;
//   - a declared status is validated by openapi3filter.ValidateResponse
//     (Content-Type, body schema); an undeclared status >= 400 must carry a
//     JSON body matching #/components/schemas/ErrorResponse; an undeclared
//     status < 400 is a violation;
//   - every property of every object in the body is declared (see
//     specValidator), so the envelope has only data and next_page (lists),
//     data (one object) or errors (errors);
//   - 2xx bodies have data; error bodies have a non-empty errors array whose
//     items all have a non-empty string message;
//   - next_page, per the NextPage schema's description, is present exactly
//     when limit was sent; when non-null it has a non-empty string offset, a
//     path that starts with "/" but not with "/api/1.0", is the requested path,
//     and carries offset and the request's other query parameters, and a uri
//     that is an absolute URL ending with path.
func (v *specValidator) Validate(path string, query url.Values, status int, header http.Header, body []byte) error {
	where := fmt.Sprintf("GET %s", path)
	if len(query) > 0 {
		q := query.Encode()
		if uq, err := url.QueryUnescape(q); err == nil {
			q = uq // readable: opt_fields=a,b rather than a%2Cb
		}
		where += "?" + q
	}
	where = fmt.Sprintf("%s -> %d", where, status)

	if path == "/api/1.0" || strings.HasPrefix(path, "/api/1.0/") {
		return fmt.Errorf("%s: path must not include the /api/1.0 prefix", where)
	}
	u := specServerURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	route, pathParams, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s: no GET operation in the spec slice: %w", where, err)
	}
	where += " (" + route.Operation.OperationID + ")"

	if header == nil {
		header = http.Header{"Content-Type": {"application/json"}}
	}
	var value any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&value); err != nil {
		return fmt.Errorf("%s: body is not JSON: %w", where, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: body has data after the JSON value", where)
	}

	var errs []error
	var schema *openapi3.SchemaRef
	if resp := route.Operation.Responses.Status(status); resp != nil {
		input := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request:    req,
				PathParams: pathParams,
				Route:      route,
			},
			Status:  status,
			Header:  header,
			Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
		}
		input.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
			errs = append(errs, flattenSchemaErrors("", err)...)
		}
		if resp.Value != nil {
			if mt := resp.Value.Content.Get("application/json"); mt != nil {
				schema = mt.Schema
			}
		}
	} else if status >= 400 {
		// Asana answers every error with an ErrorResponse body, declared or not.
		schema = v.errorResponse
		if mt, _, err := mime.ParseMediaType(header.Get("Content-Type")); err != nil || mt != "application/json" {
			errs = append(errs, fmt.Errorf("Content-Type %q is not application/json", header.Get("Content-Type")))
		}
		if err := schema.Value.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
			errs = append(errs, flattenSchemaErrors("", err)...)
		}
	} else {
		errs = append(errs, fmt.Errorf("status %d is not declared by the operation", status))
	}

	if schema != nil {
		v.strict(value, schema, "", &errs)
	}
	obj, _ := value.(map[string]any)
	switch {
	case obj == nil:
		errs = append(errs, errors.New("/: body is not a JSON object"))
	case status >= 400:
		checkErrorsArray(obj, &errs)
	case status >= 200 && status < 300:
		if _, ok := obj["data"]; !ok {
			errs = append(errs, errors.New("/data: missing"))
		}
		if schema != nil && schema.Value != nil && collectProperties(schema)["next_page"] != nil {
			checkNextPage(path, query, obj, &errs)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s does not conform to the Asana spec:\n%w", where, errors.Join(errs...))
	}
	return nil
}

// flattenSchemaErrors turns kin-openapi errors into one error per leaf
// violation, each prefixed with its JSON pointer under base.
func flattenSchemaErrors(base string, err error) []error {
	var out []error
	var walk func(error)
	walk = func(err error) {
		var re *openapi3filter.ResponseError
		var se *openapi3.SchemaError
		var me openapi3.MultiError
		switch {
		case errors.As(err, &re) && re.Err != nil:
			walk(re.Err)
		case errors.As(err, &re):
			out = append(out, fmt.Errorf("%s: %s", pointer(base, nil), re.Reason))
		case isMultiError(err, &me):
			for _, e := range me {
				walk(e)
			}
		case errors.As(err, &se):
			var nested openapi3.MultiError
			if se.Origin != nil && errors.As(se.Origin, &nested) {
				for _, e := range nested {
					walk(e)
				}
				return
			}
			reason := se.Reason
			if reason == "" && se.Origin != nil {
				reason = se.Origin.Error()
			}
			out = append(out, fmt.Errorf("%s: %s", pointer(base, se.JSONPointer()), reason))
		default:
			out = append(out, fmt.Errorf("%s: %v", pointer(base, nil), err))
		}
	}
	walk(err)
	return out
}

// isMultiError reports whether err itself (not something it wraps) is an
// openapi3.MultiError.
func isMultiError(err error, me *openapi3.MultiError) bool {
	m, ok := err.(openapi3.MultiError)
	if ok {
		*me = m
	}
	return ok
}

func pointer(base string, parts []string) string {
	p := base
	for _, part := range parts {
		p += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(part)
	}
	if p == "" {
		return "/"
	}
	return p
}

// strict reports properties that no schema declares. narrow is the schema the
// value has already been validated against (by ValidateResponse or VisitJSON).
func (v *specValidator) strict(value any, narrow *openapi3.SchemaRef, at string, errs *[]error) {
	if narrow == nil || narrow.Value == nil || value == nil {
		return
	}
	switch value := value.(type) {
	case map[string]any:
		if isOpenObject(narrow) {
			return
		}
		declared := collectProperties(narrow)
		wide, wideName := v.widen(narrow)
		keys := make([]string, 0, len(value))
		for k := range value {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			loc := pointer(at, []string{k})
			if p := declared[k]; p != nil {
				v.strict(value[k], p, loc, errs)
				continue
			}
			p := wide[k]
			if p == nil {
				*errs = append(*errs, fmt.Errorf("%s: property %q is not declared by %s", loc, k, describe(narrow, wide, wideName)))
				continue
			}
			// Declared only by the full record: type-check it here, since
			// ValidateResponse saw the compact schema.
			if err := p.Value.VisitJSON(value[k], openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
				*errs = append(*errs, flattenSchemaErrors(loc, err)...)
			}
			v.strict(value[k], p, loc, errs)
		}
	case []any:
		items := collectItems(narrow)
		for i, item := range value {
			v.strict(item, items, pointer(at, []string{fmt.Sprint(i)}), errs)
		}
	}
}

// widen returns the properties allowed on an object validated against s:
// those of s, plus, if s is #/components/schemas/FooCompact, those of
// FooResponse.
func (v *specValidator) widen(s *openapi3.SchemaRef) (map[string]*openapi3.SchemaRef, string) {
	props := collectProperties(s)
	name := schemaName(s)
	base, ok := strings.CutSuffix(name, "Compact")
	if !ok {
		return props, ""
	}
	full := v.doc.Components.Schemas[base+"Response"]
	if full == nil {
		return props, ""
	}
	wide := collectProperties(full)
	for k, p := range props {
		if wide[k] == nil {
			wide[k] = p
		}
	}
	return wide, base + "Response"
}

func describe(s *openapi3.SchemaRef, props map[string]*openapi3.SchemaRef, wideName string) string {
	name := schemaName(s)
	switch {
	case name == "":
		name = "the inline schema"
	case wideName != "":
		name += " or " + wideName
	}
	names := slices.Sorted(maps.Keys(props))
	return fmt.Sprintf("%s (declared: %s)", name, strings.Join(names, ", "))
}

func schemaName(s *openapi3.SchemaRef) string {
	name, _ := strings.CutPrefix(s.Ref, "#/components/schemas/")
	if name == s.Ref {
		return ""
	}
	return name
}

// collectProperties returns the properties of s, with allOf, oneOf and anyOf
// flattened (a union: lenient for oneOf/anyOf, which these schemas do not
// use for records).
func collectProperties(s *openapi3.SchemaRef) map[string]*openapi3.SchemaRef {
	props := map[string]*openapi3.SchemaRef{}
	var walk func(*openapi3.SchemaRef, int)
	walk = func(s *openapi3.SchemaRef, depth int) {
		if s == nil || s.Value == nil || depth > 32 {
			return
		}
		for k, p := range s.Value.Properties {
			if props[k] == nil {
				props[k] = p
			}
		}
		for _, list := range []openapi3.SchemaRefs{s.Value.AllOf, s.Value.OneOf, s.Value.AnyOf} {
			for _, sub := range list {
				walk(sub, depth+1)
			}
		}
	}
	walk(s, 0)
	return props
}

// collectItems returns the items schema of an array schema, looking into allOf.
func collectItems(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s == nil || s.Value == nil {
		return nil
	}
	if s.Value.Items != nil {
		return s.Value.Items
	}
	for _, sub := range s.Value.AllOf {
		if items := collectItems(sub); items != nil {
			return items
		}
	}
	return nil
}

// isOpenObject reports whether s allows arbitrary properties: it declares
// additionalProperties, or no properties at all.
func isOpenObject(s *openapi3.SchemaRef) bool {
	open := false
	var walk func(*openapi3.SchemaRef, int)
	walk = func(s *openapi3.SchemaRef, depth int) {
		if s == nil || s.Value == nil || depth > 32 {
			return
		}
		ap := s.Value.AdditionalProperties
		if ap.Schema != nil || (ap.Has != nil && *ap.Has) {
			open = true
		}
		for _, sub := range s.Value.AllOf {
			walk(sub, depth+1)
		}
	}
	walk(s, 0)
	return open || len(collectProperties(s)) == 0
}

func checkErrorsArray(obj map[string]any, errs *[]error) {
	raw, ok := obj["errors"]
	if !ok {
		*errs = append(*errs, errors.New("/errors: missing"))
		return
	}
	list, ok := raw.([]any)
	if !ok {
		*errs = append(*errs, errors.New("/errors: not an array"))
		return
	}
	if len(list) == 0 {
		*errs = append(*errs, errors.New("/errors: empty; Asana sends at least one error"))
	}
	for i, item := range list {
		m, _ := item.(map[string]any)
		if msg, ok := m["message"].(string); !ok || msg == "" {
			*errs = append(*errs, fmt.Errorf("/errors/%d/message: missing or not a non-empty string", i))
		}
	}
}

func checkNextPage(path string, query url.Values, obj map[string]any, errs *[]error) {
	raw, present := obj["next_page"]
	limited := query.Has("limit")
	if !present {
		if limited {
			*errs = append(*errs, errors.New("/next_page: missing although limit was sent (NextPage: present when limit is provided, null on the last page)"))
		}
		return
	}
	if !limited {
		*errs = append(*errs, errors.New("/next_page: present although no limit was sent (NextPage: only present when a limit query parameter is provided)"))
	}
	if raw == nil {
		return
	}
	np, ok := raw.(map[string]any)
	if !ok {
		*errs = append(*errs, errors.New("/next_page: not an object or null"))
		return
	}
	offset, ok := np["offset"].(string)
	if !ok || offset == "" {
		*errs = append(*errs, errors.New("/next_page/offset: missing or not a non-empty string"))
	}
	p, ok := np["path"].(string)
	switch {
	case !ok:
		*errs = append(*errs, errors.New("/next_page/path: missing or not a string"))
	case !strings.HasPrefix(p, "/"):
		*errs = append(*errs, fmt.Errorf("/next_page/path: %q is not a relative path starting with /", p))
	case p == "/api/1.0" || strings.HasPrefix(p, "/api/1.0/") || strings.HasPrefix(p, "/api/1.0?"):
		*errs = append(*errs, fmt.Errorf("/next_page/path: %q includes the /api/1.0 prefix", p))
	default:
		pu, err := url.Parse(p)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("/next_page/path: %q: %v", p, err))
			break
		}
		if pu.Path != path {
			*errs = append(*errs, fmt.Errorf("/next_page/path: %q is not a path to the requested %s", p, path))
		}
		pq := pu.Query()
		if offset != "" && pq.Get("offset") != offset {
			*errs = append(*errs, fmt.Errorf("/next_page/path: %q does not carry offset=%s", p, offset))
		}
		for k, vals := range query {
			if k != "offset" && !slices.Equal(pq[k], vals) {
				*errs = append(*errs, fmt.Errorf("/next_page/path: %q does not keep the request's %s=%s", p, k, strings.Join(vals, ",")))
			}
		}
	}
	uri, ok := np["uri"].(string)
	if !ok {
		*errs = append(*errs, errors.New("/next_page/uri: missing or not a string"))
		return
	}
	if uu, err := url.Parse(uri); err != nil || !uu.IsAbs() || uu.Host == "" {
		*errs = append(*errs, fmt.Errorf("/next_page/uri: %q is not an absolute URL", uri))
	}
	if p != "" && !strings.HasSuffix(uri, p) {
		*errs = append(*errs, fmt.Errorf("/next_page/uri: %q does not end with next_page.path %q", uri, p))
	}
}

func TestSpecValidatorRejectsBadBodies(t *testing.T) {
	v := newSpecValidator(t)
	const (
		list   = "/workspaces/111/workspace_memberships"
		single = "/workspaces/111"
	)
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=UTF-8"}}
	compactItem := `{"gid":"9001","resource_type":"workspace_membership",` +
		`"user":{"gid":"42","resource_type":"user","name":"Greg Sanchez"},` +
		`"workspace":{"gid":"111","resource_type":"workspace","name":"My Company Workspace"}}`
	goodNextPage := `{"offset":"eyJ0eXAi","path":"/workspaces/111/workspace_memberships?limit=2&offset=eyJ0eXAi",` +
		`"uri":"https://app.asana.com/api/1.0/workspaces/111/workspace_memberships?limit=2&offset=eyJ0eXAi"}`
	optFields := url.Values{"opt_fields": {"is_active,is_guest,is_admin,is_view_only"}}
	limit2 := url.Values{"limit": {"2"}}

	tests := []struct {
		name    string
		path    string
		query   url.Values
		status  int
		header  http.Header
		body    string
		wantErr []string // nil: must pass; else every substring must appear in the error
	}{
		{
			name: "compact list with next_page passes", path: list, query: limit2, status: 200,
			body: `{"data":[` + compactItem + `],"next_page":` + goodNextPage + `}`,
		},
		{
			name: "compact list, last page, passes", path: list, query: limit2, status: 200,
			body: `{"data":[` + compactItem + `],"next_page":null}`,
		},
		{
			name: "compact list without limit passes", path: list, status: 200, header: jsonHeader,
			body: `{"data":[` + compactItem + `]}`,
		},
		{
			name: "opt_fields list passes", path: list, query: optFields, status: 200, header: jsonHeader,
			body: `{"data":[{"gid":"9001","is_active":true,"is_guest":false,"is_admin":false,"is_view_only":false}]}`,
		},
		{
			name: "opt_fields nested user fields pass", path: list,
			query: url.Values{"opt_fields": {"user.email,user.name,created_at,vacation_dates"}}, status: 200,
			body: `{"data":[{"gid":"9001","user":{"gid":"42","name":"Greg","email":"g@example.com"},` +
				`"created_at":"2012-02-22T02:06:58.147Z","vacation_dates":null}]}`,
		},
		{
			name: "undeclared item property fails", path: list, query: optFields, status: 200,
			body:    `{"data":[{"gid":"9001","is_active":true,"is_licensed":true}]}`,
			wantErr: []string{`/data/0/is_licensed: property "is_licensed" is not declared by WorkspaceMembershipCompact or WorkspaceMembershipResponse`},
		},
		{
			name: "undeclared nested property fails", path: list, status: 200,
			body:    `{"data":[{"gid":"9001","user":{"gid":"42","seat":"full"}}]}`,
			wantErr: []string{`/data/0/user/seat: property "seat" is not declared by UserCompact or UserResponse`},
		},
		{
			name: "wrong type of an opt_fields property fails", path: list, query: optFields, status: 200,
			body:    `{"data":[{"gid":"9001","is_active":"yes"}]}`,
			wantErr: []string{"/data/0/is_active: value must be a boolean"},
		},
		{
			name: "wrong type of a compact property fails", path: list, status: 200,
			body:    `{"data":[{"gid":9001}]}`,
			wantErr: []string{"/data/0/gid: value must be a string"},
		},
		{
			name: "bad date-time fails", path: list, query: url.Values{"opt_fields": {"created_at"}}, status: 200,
			body:    `{"data":[{"gid":"9001","created_at":"yesterday"}]}`,
			wantErr: []string{"/data/0/created_at"},
		},
		{
			name: "next_page path with /api/1.0 fails", path: list, query: limit2, status: 200,
			body: `{"data":[` + compactItem + `],"next_page":{"offset":"eyJ0eXAi",` +
				`"path":"/api/1.0/workspaces/111/workspace_memberships?limit=2&offset=eyJ0eXAi",` +
				`"uri":"https://app.asana.com/api/1.0/workspaces/111/workspace_memberships?limit=2&offset=eyJ0eXAi"}}`,
			wantErr: []string{"/next_page/path", "includes the /api/1.0 prefix"},
		},
		{
			name: "next_page with relative uri and no offset fails", path: list, query: limit2, status: 200,
			body: `{"data":[],"next_page":{"path":"/workspaces/111/workspace_memberships?limit=2",` +
				`"uri":"/workspaces/111/workspace_memberships?limit=2"}}`,
			wantErr: []string{"/next_page/offset: missing", "/next_page/uri", "not an absolute URL"},
		},
		{
			name: "next_page that drops limit fails", path: list, query: limit2, status: 200,
			body: `{"data":[],"next_page":{"offset":"x","path":"/workspaces/111/workspace_memberships?offset=x",` +
				`"uri":"https://app.asana.com/api/1.0/workspaces/111/workspace_memberships?offset=x"}}`,
			wantErr: []string{"does not keep the request's limit=2"},
		},
		{
			name: "next_page without limit fails", path: list, status: 200,
			body:    `{"data":[],"next_page":null}`,
			wantErr: []string{"/next_page: present although no limit was sent"},
		},
		{
			name: "missing next_page with limit fails", path: list, query: limit2, status: 200,
			body:    `{"data":[]}`,
			wantErr: []string{"/next_page: missing although limit was sent"},
		},
		{
			name: "extra envelope key fails", path: list, status: 200,
			body:    `{"data":[],"total":0}`,
			wantErr: []string{`/total: property "total" is not declared`},
		},
		{
			name: "missing data fails", path: single, status: 200,
			body:    `{}`,
			wantErr: []string{"/data: missing"},
		},
		{
			name: "empty errors array fails", path: list, status: 401,
			body:    `{"errors":[]}`,
			wantErr: []string{"/errors: empty"},
		},
		{
			name: "error without message fails", path: "/workspaces", status: 404,
			body:    `{"errors":[{"message":""},{"help":"see docs"}]}`,
			wantErr: []string{"/errors/0/message", "/errors/1/message"},
		},
		{
			name: "error with undeclared property fails", path: "/workspaces", status: 400,
			body:    `{"errors":[{"message":"limit: Not a valid number","code":7}]}`,
			wantErr: []string{`/errors/0/code: property "code" is not declared by Error`},
		},
		{
			name: "401 error body passes (undeclared status)", path: list, status: 401, header: jsonHeader,
			body: `{"errors":[{"message":"Not Authorized","help":"For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}]}`,
		},
		{
			name: "401 error body passes (declared status)", path: "/workspaces", status: 401, header: jsonHeader,
			body: `{"errors":[{"message":"Not Authorized"}]}`,
		},
		{
			name: "429 error body passes", path: "/workspaces", status: 429,
			body: `{"errors":[{"message":"You have made too many requests recently. Please, be chill."}]}`,
		},
		{
			name: "500 error body with phrase passes", path: list, status: 500,
			body: `{"errors":[{"message":"Server Error","phrase":"6 sad squid snuggle softly"}]}`,
		},
		{
			name: "error body with non-JSON content type fails", path: list, status: 503,
			header:  http.Header{"Content-Type": {"text/html"}},
			body:    `{"errors":[{"message":"Service Unavailable"}]}`,
			wantErr: []string{`Content-Type "text/html" is not application/json`},
		},
		{
			name: "data on an error status fails", path: list, status: 403,
			body:    `{"data":[]}`,
			wantErr: []string{"/errors: missing", `/data: property "data" is not declared`},
		},
		{
			name: "single workspace passes", path: single, status: 200, header: jsonHeader,
			body: `{"data":{"gid":"111","resource_type":"workspace","name":"My Company Workspace",` +
				`"email_domains":["example.com"],"is_organization":true}}`,
		},
		{
			name: "single workspace with wrong type fails", path: single, status: 200,
			body:    `{"data":{"gid":"111","resource_type":"workspace","is_organization":"yes"}}`,
			wantErr: []string{"/data/is_organization: value must be a boolean"},
		},
		{
			name: "single workspace membership passes", path: "/workspace_memberships/9001", status: 200,
			body: `{"data":{"gid":"9001","resource_type":"workspace_membership",` +
				`"user":{"gid":"42","resource_type":"user","name":"Greg"},` +
				`"workspace":{"gid":"111","resource_type":"workspace","name":"W"},` +
				`"is_active":true,"is_admin":false,"is_guest":false,"is_view_only":false,` +
				`"created_at":"2012-02-22T02:06:58.147Z","vacation_dates":{"start_on":"2022-11-05","end_on":null}}}`,
		},
		{
			name: "user memberships list passes", path: "/users/me/workspace_memberships", status: 200,
			body: `{"data":[` + compactItem + `]}`,
		},
		{
			name: "workspaces list passes", path: "/workspaces", query: url.Values{"limit": {"1"}}, status: 200,
			body: `{"data":[{"gid":"111","resource_type":"workspace","name":"W"}],"next_page":null}`,
		},
		{
			name: "undeclared success status fails", path: list, status: 204,
			body:    `{}`,
			wantErr: []string{"status 204 is not declared"},
		},
		{
			name: "unknown path fails", path: "/workspaces/111/users/42/seats", status: 200,
			body:    `{"data":[]}`,
			wantErr: []string{"no GET operation in the spec slice"},
		},
		{
			name: "path with /api/1.0 prefix fails", path: "/api/1.0/workspaces", status: 200,
			body:    `{"data":[]}`,
			wantErr: []string{"must not include the /api/1.0 prefix"},
		},
		{
			name: "non-JSON body fails", path: list, status: 200,
			body:    `<html></html>`,
			wantErr: []string{"body is not JSON"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.Validate(tc.path, tc.query, tc.status, tc.header, []byte(tc.body))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("want pass, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want failure mentioning %q, got pass", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
			t.Logf("rejected as expected:\n%v", err)
		})
	}
}
