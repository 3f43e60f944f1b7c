package asana

import (
	"bytes"
	"context"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"
)

// The audit log event types a seat's use shows in. Only these are read, one
// stream each: the rest of an organisation's audit log is never fetched.
const (
	EventLoginSucceeded   = "user_login_succeeded"
	EventInvited          = "user_invited"
	EventDeprovisioned    = "user_deprovisioned"
	EventReprovisioned    = "user_reprovisioned"
	EventBillingPaused    = "domain_user_billing_paused"
	EventBillingUnpaused  = "domain_user_billing_unpaused"
	EventAdminRoleChanged = "user_workspace_admin_role_changed"
)

// SeatEventTypes are the audit streams the exporter reads, in the order it
// polls them.
var SeatEventTypes = []string{
	EventLoginSucceeded, EventBillingPaused, EventBillingUnpaused,
	EventInvited, EventDeprovisioned, EventReprovisioned, EventAdminRoleChanged,
}

// AuditEvent is the part of an AuditLogEvent the exporter reads. Asana
// returns the whole event (the endpoint takes no opt_fields); actor,
// context and the user's name and email are not decoded.
type AuditEvent struct {
	GID       string    `json:"gid"`
	CreatedAt EventTime `json:"created_at"`
	EventType string    `json:"event_type"`
	Resource  struct {
		GID          string `json:"gid"`
		ResourceType string `json:"resource_type"`
	} `json:"resource"`
	Details struct {
		NewValue *string `json:"new_value"`
	} `json:"details"`
}

// EventTime is an event's created_at. The spec says ISO 8601
// ("2021-01-01T00:00:00.000Z"); events quoted by third parties also show
// "2022-12-16 19:32:22.377", which is read as UTC.
type EventTime struct{ time.Time }

var eventTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

// UnmarshalJSON never quotes the value in its error, which may be any
// text. The error is an *json.UnmarshalTypeError, which the decoder
// prefixes with the field's path: a string is not an ISO 8601 time, or
// the value is not a string.
func (t *EventTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: kindOf(b), Type: reflect.TypeFor[EventTime]()}
	}
	for _, layout := range eventTimeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[EventTime]()}
}

// AuditQuery is one request of an audit stream. A stream's first request
// (no Offset) starts at StartAt, inclusive; each later one carries the
// Offset Asana gave last and the same StartAt again, since next_page.path
// keeps the original query with the offset. A zero StartAt is left out.
type AuditQuery struct {
	EventType string
	StartAt   time.Time
	Offset    string
	// ActorGID, when set, asks only for the events that user did (such
	// as one member's logins).
	ActorGID string
}

// AuditPage is one page of an audit stream. Next is the offset to poll
// with next time; "" when Asana sent none (no event matched yet).
type AuditPage struct {
	Events []AuditEvent
	Next   string
}

// AuditLogPage makes one request of GET /workspaces/{gid}/audit_log_events
// with limit=100. The caller owns the stream: an empty page means it has
// caught up, and a refused offset means it must start over without it.
func (c *Client) AuditLogPage(ctx context.Context, workspaceGID string, q AuditQuery) (AuditPage, error) {
	query := url.Values{"limit": {strconv.Itoa(PageLimit)}, "event_type": {q.EventType}}
	if !q.StartAt.IsZero() {
		query.Set("start_at", q.StartAt.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	if q.Offset != "" {
		query.Set("offset", q.Offset)
	}
	if q.ActorGID != "" {
		query.Set("actor_gid", q.ActorGID)
	}
	var page listPage[AuditEvent]
	path := "/workspaces/" + url.PathEscape(workspaceGID) + "/audit_log_events"
	if err := c.get(ctx, EndpointAuditLogEvents, path, query, &page); err != nil {
		return AuditPage{}, err
	}
	out := AuditPage{Events: page.Data}
	if page.NextPage != nil {
		out.Next = page.NextPage.Offset
	}
	return out, nil
}
