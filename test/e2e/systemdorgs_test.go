package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// systemdUnits are examples/asana_exporter.service as its comment block
// makes it: for one organisation, as written, without the comment
// paragraph on several organisations (whose install lines are not its);
// and for two, with that paragraph's LoadCredential= lines in place of
// the unit's and no --asana.token-file, which comes with the paragraph's
// install lines (after the unit's own).
func systemdUnits(t *testing.T) (single, several string) {
	t.Helper()
	unit := string(readRepoFile(t, "examples", "asana_exporter.service"))
	m := regexp.MustCompile(`(?s)\n#\n(# Several organisations.*?\n)\[Unit\]`).FindStringSubmatchIndex(unit)
	if m == nil {
		t.Fatal("examples/asana_exporter.service has no comment paragraph \"# Several organisations\" before [Unit]")
	}
	paragraph := unit[m[2]:m[3]]
	single = unit[:m[0]+1] + unit[m[3]:]
	var creds []string
	for _, c := range regexp.MustCompile(`(?m)^#\s+(LoadCredential=\S+)$`).FindAllStringSubmatch(paragraph, -1) {
		creds = append(creds, c[1])
	}
	if len(creds) != 2 {
		t.Fatalf("the paragraph on several organisations gives %d LoadCredential= lines, want 2", len(creds))
	}
	load := regexp.MustCompile(`(?m)^LoadCredential=.*$`)
	flag := regexp.MustCompile(`(?m)^\s*--asana\.token-file=\S+ \\\n`)
	if len(load.FindAllString(single, -1)) != 1 || !flag.MatchString(single) {
		t.Fatal("the unit has not one LoadCredential= line and an --asana.token-file line in ExecStart to replace")
	}
	several = flag.ReplaceAllString(load.ReplaceAllString(single, strings.Join(creds, "\n")), "")
	return single, single[:strings.Index(single, "[Unit]")] + paragraph + several[strings.Index(several, "[Unit]"):]
}

// TestNonRootSystemdOrganizations: over the files the unit's install
// comments create, then its paragraph on several organisations (their
// tokens and examples/asana_exporter-organizations.yml), the unit as that
// paragraph makes it runs the exporter as an unprivileged user, which
// reads each organisation's token credential where the config names it
// and counts both organisations exactly, each with its own token.
func TestNonRootSystemdOrganizations(t *testing.T) {
	needRoot(t)
	_, unit := systemdUnits(t)
	cred := imageUser(t)
	o := newOrganizations(t)
	host := installAll(t, unit)
	bin, args := systemdService(t, host, unit, cred)

	// The example's workspaces are the simulator's, and its credentials
	// directory the host's.
	file := filepath.Join(host, "etc", "asana_exporter", "asana.yml")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	example, err := config.Parse(raw)
	if err != nil || len(example.Organizations) != 2 {
		t.Fatalf("the installed config is not the example's two organisations: %v\n%s", err, raw)
	}
	text := string(raw)
	for i, org := range example.Organizations {
		if want := "/run/credentials/asana_exporter.service/" + org.Name + "-token"; org.TokenFile != want {
			t.Errorf("organisation %s's token_file is %s, want the credential %s", org.Name, org.TokenFile, want)
		}
		text = strings.ReplaceAll(text, `"`+org.Workspaces[0].GID+`"`, `"`+o.gids[i]+`"`)
	}
	text = strings.ReplaceAll(text, " /run/credentials/", " "+filepath.Join(host, "run", "credentials")+"/")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	e := launchExporterAs(t, cred, bin, nil, append(args, "--asana.url="+o.srv.BaseURL)...)
	e.waitFor(t, "/-/ready")
	_, families := until(t, e, "both organisations counted", func(f exposition.Families) bool {
		acme, _ := f.Sample("asana_up", "organization=acme")
		globex, _ := f.Sample("asana_up", "organization=globex")
		return acme == 1 && globex == 1
	})
	for i, org := range example.Organizations {
		checkSeats(t, families, o.gids[i], o.truth[i], float64(*org.Workspaces[0].SeatsPurchased))
	}
	for _, token := range []string{acmeToken, globexToken} {
		if o.srv.Stats(token).Requests == 0 {
			t.Errorf("token %s sent no request", token[:6])
		}
	}
}
