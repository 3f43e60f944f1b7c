package asana

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/segmentio/encoding/json"
)

// userFields are what the client asks of a user record: its gid comes
// anyway.
const userFields = "email,name"

// Me is the token's own user: GET /users/me?opt_fields=email,name.
func (c *Client) Me(ctx context.Context) (User, error) {
	var a userAnswer
	if err := c.get(ctx, EndpointUser, "/users/me", url.Values{"opt_fields": {userFields}}, &a); err != nil {
		return User{}, err
	}
	return *a.Data, nil
}

// WorkspaceMembership reads one membership, the full record, with
// detail's opt_fields plus workspace, and returns the gid of the workspace
// the record names: whoever gave the membership gid may be wrong about it.
// The answer must be the membership asked for, with its flags, its
// workspace, and its user when detail asks for one.
func (c *Client) WorkspaceMembership(ctx context.Context, membershipGID string, detail Detail) (Membership, string, error) {
	if membershipGID == "" {
		return Membership{}, "", errors.New("asana: WorkspaceMembership: no membership gid")
	}
	a := membershipAnswer{gid: membershipGID, user: detail&(WithUser|WithEmail) != 0}
	query := url.Values{"opt_fields": {detail.optFields() + ",workspace"}}
	if err := c.get(ctx, EndpointWorkspaceMembership, "/workspace_memberships/"+url.PathEscape(membershipGID), query, &a); err != nil {
		return Membership{}, "", err
	}
	return a.membership, a.Data.Workspace.GID, nil
}

// RemoveUser removes a user from a workspace: POST
// /workspaces/{workspaceGID}/removeUser with {"data":{"user":user}}, user
// being a gid or an email. Asana then deprovisions the membership (it
// turns inactive) and, for a personal access token, hands the user's
// resources to the token's user. An error of kind ErrOutcomeUnknown means
// Asana may have acted: re-read the membership to learn whether it did.
func (c *Client) RemoveUser(ctx context.Context, workspaceGID, user string) error {
	var a emptyAnswer
	return c.change(ctx, EndpointRemoveUser, workspaceGID, "removeUser", user, nil, &a)
}

// AddUser adds a user to a workspace, by gid or email: POST
// /workspaces/{workspaceGID}/addUser with {"data":{"user":user}}. In an
// organisation that is an invitation, which the membership shows as
// active. It returns the user record Asana answers with. An error of kind
// ErrOutcomeUnknown means Asana may have acted: re-read the member to
// learn whether it did.
func (c *Client) AddUser(ctx context.Context, workspaceGID, user string) (User, error) {
	var a userAnswer
	if err := c.change(ctx, EndpointAddUser, workspaceGID, "addUser", user, url.Values{"opt_fields": {userFields}}, &a); err != nil {
		return User{}, err
	}
	return *a.Data, nil
}

// change POSTs {"data":{"user":user}} to one of a workspace's
// membership-changing endpoints. Asana's messages may quote the user it was
// given, an email or a user gid, so an error never does: they are cut out.
func (c *Client) change(ctx context.Context, endpoint, workspaceGID, action, user string, query url.Values, out any) error {
	if workspaceGID == "" || user == "" {
		return fmt.Errorf("asana: %s needs a workspace gid and a user (a gid or an email)", action)
	}
	var body struct {
		Data struct {
			User string `json:"user"`
		} `json:"data"`
	}
	body.Data.User = user
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("asana: %s: %w", action, err)
	}
	err = c.post(ctx, endpoint, "/workspaces/"+url.PathEscape(workspaceGID)+"/"+action, query, raw, out)
	var e *Error
	if errors.As(err, &e) {
		for i := range e.Messages {
			m := &e.Messages[i]
			m.Message, m.Help, m.Phrase = redact(m.Message, user), redact(m.Help, user), redact(m.Phrase, user)
		}
	}
	return err
}

// redacted stands for the user in a message of Asana's.
const redacted = "<user>"

// redact replaces every occurrence of secret in s, ignoring ASCII case as
// Asana does in emails, with redacted.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if end := i + len(secret); end <= len(s) && strings.EqualFold(s[i:end], secret) {
			b.WriteString(redacted)
			i = end
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// The answers of the endpoints that return one record, {"data":{…}}, and
// what each must hold.

// userAnswer is a user record: it must have its gid.
type userAnswer struct {
	Data *User `json:"data"`
}

func (a *userAnswer) reset() { a.Data = nil }

func (a *userAnswer) check() *Error {
	switch {
	case a.Data == nil:
		return singleFailure(&recordError{field: "data", absent: true}, false)
	case a.Data.GID == "":
		return singleFailure(&recordError{field: "gid", absent: true}, false)
	}
	return nil
}

// emptyAnswer is removeUser's {"data":{}}: data must be an object.
type emptyAnswer struct {
	Data *emptyRecord `json:"data"`
}

// emptyRecord is Asana's EmptyResponse, named so that a decode error
// names it.
type emptyRecord struct{}

func (a *emptyAnswer) reset() { a.Data = nil }

func (a *emptyAnswer) check() *Error {
	if a.Data == nil {
		return singleFailure(&recordError{field: "data", absent: true}, false)
	}
	return nil
}

// membershipAnswer is one membership: it must be the one asked for (gid),
// with its flags, its workspace, and its user's gid when user is set.
type membershipAnswer struct {
	Data       *membershipInWorkspace `json:"data"`
	gid        string
	user       bool
	membership Membership // the checked record
}

// membershipInWorkspace is a membership record that names its workspace.
// Its types are named so that a decode error names them.
type membershipInWorkspace struct {
	membershipRecord
	Workspace workspaceRef `json:"workspace"`
}

type workspaceRef struct {
	GID string `json:"gid"`
}

func (a *membershipAnswer) reset() { a.Data, a.membership = nil, Membership{} }

func (a *membershipAnswer) check() *Error {
	if a.Data == nil {
		return singleFailure(&recordError{field: "data", absent: true}, true)
	}
	gid, err := a.Data.check(&a.membership)
	switch {
	case err != nil:
	case gid == "":
		err = &recordError{field: "gid", absent: true}
	case a.Data.Workspace.GID == "":
		err = &recordError{field: "workspace.gid", absent: true}
	case a.user && a.membership.User.GID == "":
		err = &recordError{field: "user.gid", absent: true}
	}
	if err != nil {
		return singleFailure(err, true)
	}
	if gid != a.gid {
		return &Error{Kind: ErrMalformedResponse, Err: errors.New("the answer is the record of another membership"), Hint: hintServer}
	}
	return nil
}

// singleFailure is the error for a single record that cannot be used.
// withFields says the request named its fields in opt_fields, which a
// record without one of them did not honour.
func singleFailure(e *recordError, withFields bool) *Error {
	what := "the record"
	if e.field == "data" {
		what = "the answer"
	}
	err := fmt.Errorf("%s %w", what, e)
	switch {
	case !e.absent:
		return &Error{Kind: ErrMalformedResponse, Err: err, Hint: hintServer}
	case withFields && e.field != "data" && e.field != "gid":
		return &Error{Kind: ErrIncompleteRecord, Err: err, Hint: "opt_fields was not honoured: the request asked for the field and got a record " +
			"without it. Check that no proxy between the exporter and Asana drops or rewrites the query string"}
	}
	return &Error{Kind: ErrIncompleteRecord, Err: err, Hint: hintServer}
}
