package asanatest

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
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
// Its last activity is the member's last login in the simulated audit log,
// "Never" without one, so that idle seats judged from the export are those
// the audit log gives.
//
// The real export's columns are not documented (GUESS: a name, an email, a
// licence type, the date joined and the last activity as Asana's 2016
// announcement lists them, dates as 2006-01-02 as Asana's
// deprovision_inactive_guests script reads them, UTF-8 with a byte-order
// mark as spreadsheets write it).
func (a *API) ConsoleExport(gid string, out io.Writer) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.org.Workspace(gid)
	if w == nil {
		return fmt.Errorf("asanatest: no workspace %s", gid)
	}
	lastLogin := map[string]time.Time{} // by user gid
	for _, e := range w.audit[asana.EventLoginSucceeded] {
		if e.CreatedAt.After(lastLogin[e.User.GID]) {
			lastLogin[e.User.GID] = e.CreatedAt
		}
	}
	io.WriteString(out, "\ufeff")
	cw := csv.NewWriter(out)
	cw.Write([]string{"Name", "Email address", "License type", "Date joined", "Last activity"})
	for i, m := range w.Memberships {
		if !m.IsActive || m.Pending {
			continue
		}
		email := m.User.Email
		if i%10 == 0 {
			email = strings.ToUpper(email[:1]) + email[1:]
		}
		cw.Write([]string{m.User.Name, email, consoleType(m), consoleDate(m.CreatedAt), consoleDate(lastLogin[m.User.GID])})
	}
	cw.Write([]string{"Former Contractor", "former.contractor@" + OutsideDomain, "Guest", "2024-03-01", "2024-11-15"})
	cw.Flush()
	return cw.Error()
}

// consoleDate is a date of the export: the UTC day, or "Never".
func consoleDate(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return t.UTC().Format("2006-01-02")
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
