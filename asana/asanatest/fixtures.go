package asanatest

// Acme and Globex are the workspaces most tests count. Acme is the forum
// post's organisation: 182 memberships, 27 licensed seats in the Admin
// Console (30 with its pending invites). Globex has 600 memberships in 6
// pages, so a fault on page 3 hits it and spares Acme's 2.
var (
	Acme   = WorkspaceSpec{Name: "Acme Corp", IsOrganization: true, Licensed: 27, Admins: 2, Pending: 3, LicensedOutside: 4, ViewOnly: 6, Guests: 131, Inactive: 18, Readded: 2}
	Globex = WorkspaceSpec{Name: "Globex", IsOrganization: true, Licensed: 412, Admins: 5, ViewOnly: 40, Guests: 85, Inactive: 63}
)
