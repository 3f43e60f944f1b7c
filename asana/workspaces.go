package asana

import "context"

// Workspace is a workspace or organization the token's user belongs to.
type Workspace struct {
	GID            string   `json:"gid"`
	Name           string   `json:"name"`
	IsOrganization bool     `json:"is_organization"`
	EmailDomains   []string `json:"email_domains"`
}

// workspaceFields asks the list for what the single GET returns, which saves
// one request per workspace.
const workspaceFields = "name,is_organization,email_domains"

// Workspaces lists every workspace the token can see, each once. A token
// sees a handful, so the result is returned whole.
func (c *Client) Workspaces(ctx context.Context) ([]Workspace, error) {
	var all []Workspace
	l := listing[Workspace, Workspace]{
		endpoint:  EndpointWorkspaces,
		path:      "/workspaces",
		optFields: workspaceFields,
		check: func(w, item *Workspace) (string, *recordError) {
			*item = *w
			return w.GID, nil
		},
	}
	_, err := eachPage(ctx, c, l, func() error {
		all = all[:0]
		return nil
	}, func(_ int, page []Workspace) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}
