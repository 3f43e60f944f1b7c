package asanatest

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// ConsoleExport writes the members list that Asana's Admin Console would
// export for workspace gid, with the differences from the API that people
// meet (the forum post's):
//   - pending invitees are left out (the Members tab does not show them);
//   - members whose email is outside the domain, and whom the API calls
//     licensed, are guests in the console;
//   - a re-added user appears once, inactive memberships not at all;
//   - one former contractor, a guest removed after the export, is still in
//     it;
//   - some emails differ in case.
//
// The real export's columns are not documented (GUESS: a name, an email, a
// licence type and a date, UTF-8 with a byte-order mark as spreadsheets
// write it).
func (a *API) ConsoleExport(gid string, out io.Writer) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.org.Workspace(gid)
	if w == nil {
		return fmt.Errorf("asanatest: no workspace %s", gid)
	}
	io.WriteString(out, "\ufeff")
	cw := csv.NewWriter(out)
	cw.Write([]string{"Name", "Email address", "License type", "Date added"})
	for i, m := range w.Memberships {
		if !m.IsActive || m.Pending {
			continue
		}
		email := m.User.Email
		if i%10 == 0 {
			email = strings.ToUpper(email[:1]) + email[1:]
		}
		cw.Write([]string{m.User.Name, email, consoleType(m), m.CreatedAt.Format("2006-01-02")})
	}
	cw.Write([]string{"Former Contractor", "former.contractor@" + OutsideDomain, "Guest", "2024-03-01"})
	cw.Flush()
	return cw.Error()
}

func consoleType(m *Membership) string {
	switch {
	case m.IsGuest || m.outside:
		return "Guest"
	case m.IsViewOnly:
		return "View only"
	case m.IsAdmin:
		return "Admin"
	}
	return "Member"
}
