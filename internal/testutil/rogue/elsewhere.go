package rogue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// ElsewhereWorkspace is the workspace another host lists: a redirect that
// was followed would have it counted.
const ElsewhereWorkspace = "1777777777777777"

// elsewhereMembers is how many licensed memberships another host lists,
// whatever the workspace.
const elsewhereMembers = 7

// Elsewhere is another host, one the exporter must never send the token
// to. It records the Authorization header of every request and answers
// as Asana would, with a workspace and memberships of its own.
type Elsewhere struct {
	*httptest.Server

	mu     sync.Mutex
	tokens []string // the Authorization headers received
}

// NewElsewhere starts another host on a loopback port (plain HTTP). Close
// it when done.
func NewElsewhere() *Elsewhere {
	e := &Elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Tokens are the Authorization headers it received.
func (e *Elsewhere) Tokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tokens...)
}

func (e *Elsewhere) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	if a := r.Header.Get("Authorization"); a != "" {
		e.tokens = append(e.tokens, a)
	}
	e.mu.Unlock()
	var data []map[string]any
	if strings.HasSuffix(r.URL.Path, "/workspaces") {
		data = append(data, map[string]any{"gid": ElsewhereWorkspace, "resource_type": "workspace", "name": "Elsewhere",
			"is_organization": false, "email_domains": []string{}})
	} else {
		for i := range elsewhereMembers {
			gid := fmt.Sprintf("17777777777780%02d", i)
			data = append(data, map[string]any{"gid": gid, "resource_type": "workspace_membership",
				"is_active": true, "is_admin": false, "is_guest": false, "is_view_only": false,
				"user": map[string]any{"gid": "1777777777779" + gid[13:], "name": "Someone Elsewhere", "email": "someone@elsewhere.example"}})
		}
	}
	body, _ := json.Marshal(map[string]any{"data": data, "next_page": nil})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(body)
}
