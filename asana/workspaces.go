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

// Workspaces lists every workspace the token can see. A token sees a handful,
// so the result is returned whole.
func (c *Client) Workspaces(ctx context.Context) ([]Workspace, error) {
	var all []Workspace
	_, err := eachPage(ctx, c, EndpointWorkspaces, "/workspaces", workspaceFields, func(index int, page []Workspace) error {
		if index == 0 {
			all = all[:0]
		}
		all = append(all, page...)
		return nil
	})
	return all, err
}
