package asana

// Endpoints are route templates, not raw paths: they are used as metric label
// values, so they must never carry a gid.
const (
	EndpointWorkspaces           = "/workspaces"
	EndpointWorkspaceMemberships = "/workspaces/{workspace_gid}/workspace_memberships"
	EndpointAuditLogEvents       = "/workspaces/{workspace_gid}/audit_log_events"
	// EndpointUser reads one user: the client asks only for the token's
	// own (GET /users/me).
	EndpointUser = "/users/{user_gid}"
	// EndpointWorkspaceMembership reads one membership, wherever it is.
	EndpointWorkspaceMembership = "/workspace_memberships/{workspace_membership_gid}"
	// EndpointRemoveUser and EndpointAddUser change a workspace's members
	// (POST): the only requests of the client that act on Asana.
	EndpointRemoveUser = "/workspaces/{workspace_gid}/removeUser"
	EndpointAddUser    = "/workspaces/{workspace_gid}/addUser"
	// EndpointOAuthToken is Asana's OAuth token endpoint, on the API's
	// host but outside /api/1.0 (POST).
	EndpointOAuthToken = "/-/oauth_token"
)

// DefaultBaseURL is Asana's production API root.
const DefaultBaseURL = "https://app.asana.com/api/1.0"

// PageLimit is the largest page Asana serves, and the one this client always asks for.
const PageLimit = 100
