package asanatest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// record is a resource as JSON: the full representation, from which compact
// and opt_fields views are cut.
type record = map[string]any

func compactOf(r record) record {
	return record{"gid": r["gid"], "resource_type": r["resource_type"], "name": r["name"]}
}

func workspaceRecord(w *Workspace) record {
	domains := w.EmailDomains
	if domains == nil {
		domains = []string{}
	}
	return record{"gid": w.GID, "resource_type": "workspace", "name": w.Name,
		"email_domains": domains, "is_organization": w.IsOrganization}
}

func userRecord(u User) record {
	return record{"gid": u.GID, "resource_type": "user", "name": u.Name, "email": u.Email}
}

// userBaseRecord is UserBaseResponse: the user with their photo, which
// the simulated users do not have.
func userBaseRecord(u User) record {
	r := userRecord(u)
	r["photo"] = nil
	return r
}

func membershipRecord(w *Workspace, m *Membership) record {
	ws := compactOf(workspaceRecord(w))
	user := userRecord(m.User)
	return record{
		"gid": m.GID, "resource_type": "workspace_membership",
		"user": user, "workspace": ws,
		"user_task_list": record{
			"gid": "9" + m.GID[1:], "resource_type": "user_task_list",
			"name": "My Tasks in " + w.Name, "owner": compactOf(user), "workspace": ws,
		},
		"is_active": m.IsActive, "is_admin": m.IsAdmin, "is_guest": m.IsGuest, "is_view_only": m.IsViewOnly,
		"vacation_dates": nil,
		"created_at":     m.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}

// membershipCompact is WorkspaceMembershipCompact: the nested user and
// workspace are compact too (no email).
func membershipCompact(full record) record {
	return record{"gid": full["gid"], "resource_type": full["resource_type"],
		"user": compactOf(full["user"].(record)), "workspace": full["workspace"]}
}

// project applies opt_fields: only gid plus the listed dotted paths come
// back. A path naming a nested object on its own yields just its gid, the
// one field Asana always returns. Unknown fields are ignored.
func project(full record, fields []string) record {
	out := record{"gid": full["gid"]}
	for _, f := range fields {
		head, rest, nested := strings.Cut(f, ".")
		v, ok := full[head]
		if !ok {
			continue
		}
		sub, isObj := v.(record)
		switch {
		case !isObj:
			out[head] = v
		case !nested:
			if _, seen := out[head]; !seen {
				out[head] = record{"gid": sub["gid"]}
			}
		default:
			prev, _ := out[head].(record)
			merged := project(sub, []string{rest})
			for k, val := range prev {
				merged[k] = val
			}
			out[head] = merged
		}
	}
	return out
}

func parseFields(raw string) []string {
	if raw == "" {
		return nil
	}
	fields := strings.Split(raw, ",")
	for i := range fields {
		fields[i] = strings.TrimPrefix(strings.TrimSpace(fields[i]), "this.")
	}
	return fields
}

// errorHelp is the help text real 2024 responses carry.
const errorHelp = "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"

// Messages Asana uses, as its error docs (https://developers.asana.com/docs/errors)
// and observed responses give them.
const (
	msgNotAuthorized   = "Not Authorized"
	msgFullPermissions = "Full permissions are required to use this endpoint."
	msgNoRoute         = "No matching route for request"
	msgRateLimited     = "You've made too many requests and hit a rate limit. Please retry after the given amount of time."
	msgServerError     = "Server Error"
)

type apiErr struct {
	Message string `json:"message"`
	Help    string `json:"help"`
	Phrase  string `json:"phrase,omitempty"`
}

func errorBody(status int, msg string) []byte {
	e := apiErr{Message: msg, Help: errorHelp}
	if status >= 500 {
		e.Phrase = phrase()
	}
	b, _ := json.Marshal(map[string][]apiErr{"errors": {e}})
	return b
}

// defaultMessage is the message for a status when a fault names none.
func defaultMessage(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return msgNotAuthorized
	case http.StatusForbidden:
		return msgFullPermissions
	case http.StatusNotFound:
		return msgNoRoute
	case http.StatusTooManyRequests:
		return msgRateLimited
	case http.StatusPaymentRequired:
		return "This feature is only available to premium organizations and workspaces."
	case http.StatusUnavailableForLegalReasons:
		return "This request is blocked for legal reasons."
	}
	if status >= 500 {
		return msgServerError
	}
	return http.StatusText(status)
}

// phrase imitates node-asana-phrase, which names each 500 for support.
func phrase() string {
	adj := []string{"sad", "happy", "sleepy", "brave", "quiet", "fuzzy"}
	noun := []string{"squid", "otters", "badgers", "herons", "moles", "yaks"}
	verb := []string{"snuggle", "wander", "juggle", "whistle", "ponder", "dance"}
	adv := []string{"softly", "boldly", "slowly", "wildly", "gently", "oddly"}
	pick := func(s []string) string { return s[rand.N(len(s))] }
	return fmt.Sprintf("%d %s %s %s %s", 2+rand.N(20), pick(adj), pick(noun), pick(verb), pick(adv))
}

func retryAfterSeconds(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	return fmt.Sprint(max(secs, 1))
}
