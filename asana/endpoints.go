package asana

// Endpoints are route templates, not raw paths: they are used as metric label
// values, so they must never carry a gid.
const (
	EndpointWorkspaces           = "/workspaces"
	EndpointWorkspaceMemberships = "/workspaces/{workspace_gid}/workspace_memberships"
	EndpointAuditLogEvents       = "/workspaces/{workspace_gid}/audit_log_events"
	// EndpointOAuthToken is Asana's OAuth token endpoint, on the API's
	// host but outside /api/1.0 (POST).
	EndpointOAuthToken = "/-/oauth_token"
)

// DefaultBaseURL is Asana's production API root.
const DefaultBaseURL = "https://app.asana.com/api/1.0"

// PageLimit is the largest page Asana serves, and the one this client always asks for.
const PageLimit = 100
