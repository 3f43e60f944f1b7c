package asana

// Endpoints are route templates, not raw paths: they are used as metric label
// values, so they must never carry a gid.
const (
	EndpointWorkspaces           = "/workspaces"
	EndpointWorkspaceMemberships = "/workspaces/{workspace_gid}/workspace_memberships"
)

// DefaultBaseURL is Asana's production API root.
const DefaultBaseURL = "https://app.asana.com/api/1.0"

// PageLimit is the largest page Asana serves, and the one this client always asks for.
const PageLimit = 100
