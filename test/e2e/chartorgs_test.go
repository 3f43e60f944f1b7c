package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// chartOrganizationsValues are two organisations as the chart README
// gives them, on the simulator's workspaces gids: Acme with its token and
// its audit token in one Secret, Globex with its token under a key of its
// own.
const chartOrganizationsValues = `organizations:
  - name: acme
    token:
      existingSecret: asana-acme
    auditLog:
      existingSecret: asana-acme
      key: audit-token
    config:
      workspaces:
        - gid: %q
          seats_purchased: 30
  - name: globex
    token:
      existingSecret: asana-globex
      key: service-account-token
    config:
      workspaces:
        - gid: %q
          seats_purchased: 400
config:
  audit_log:
    enabled: true
`

// TestChartOrganizations: with two organisations the pod runs with no
// credential flag (the exporter refuses them beside organizations:), the
// Deployment mounts both organisations' Secrets, the config file names
// each token where its Secret's key is mounted, and the exporter's config
// parser takes it. Then the exporter runs on that config, over the files
// the Secrets hold where the pod would see them, against the simulator
// serving the two organisations with separate tokens, and counts both
// exactly, each with its own tokens.
func TestChartOrganizations(t *testing.T) {
	helm := needTool(t, "helm")
	o := newOrganizations(t)
	secrets := map[string]map[string]string{
		"asana-acme":   {"token": acmeToken, "audit-token": acmeAuditToken},
		"asana-globex": {"service-account-token": globexToken},
	}
	values := writeTemp(t, "values-*.yaml", fmt.Sprintf(chartOrganizationsValues, o.gids[0], o.gids[1]))
	objs := renderChart(t, helm, "--values", values)
	d := find[*appsv1.Deployment](objs)[0]
	c := d.Spec.Template.Spec.Containers[0]
	checkArgsParse(t, c.Args)
	checkMountedFiles(t, d, c)
	for _, a := range c.Args {
		if flag, _, _ := strings.Cut(a, "="); slices.Contains(asanaFlags, flag) && flag != "--config.file" && flag != "--storage.path" {
			t.Errorf("the pod runs with %s beside organizations:, which the exporter refuses", a)
		}
	}

	// The pod's files, under root: the Secrets' keys where the volumes
	// mount them.
	root := t.TempDir()
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			t.Fatalf("the container mounts the volume %s, which the pod lacks", m.Name)
		}
		if v := d.Spec.Template.Spec.Volumes[i]; v.Projected != nil {
			for _, s := range v.Projected.Sources {
				for _, item := range s.Secret.Items {
					token, ok := secrets[s.Secret.Name][item.Key]
					if !ok {
						t.Errorf("the pod mounts the key %s of the Secret %s, which the values do not name", item.Key, s.Secret.Name)
						continue
					}
					mounted[s.Secret.Name+"/"+item.Key] = true
					file := filepath.Join(root, m.MountPath, item.Path)
					if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
						t.Fatal(err)
					}
					writeFile(t, file, token+"\n")
				}
			}
		}
	}
	if len(mounted) != 3 {
		t.Errorf("the pod mounts %v, want the three keys of the two organisations' Secrets", mounted)
	}

	var text string
	for _, cm := range find[*corev1.ConfigMap](objs) {
		text += cm.Data["config.yml"]
	}
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatalf("the exporter refuses the chart's config file: %v\n%s", err, text)
	}
	want := map[string][2]string{"acme": {acmeToken, acmeAuditToken}, "globex": {globexToken, ""}}
	if len(cfg.Organizations) != len(want) {
		t.Fatalf("the config file has %d organisations, want 2:\n%s", len(cfg.Organizations), text)
	}
	for _, org := range cfg.Organizations {
		for i, file := range []string{org.TokenFile, org.AuditTokenFile} {
			if file == "" && want[org.Name][i] == "" {
				continue
			}
			if raw, err := os.ReadFile(filepath.Join(root, file)); err != nil || strings.TrimSpace(string(raw)) != want[org.Name][i] {
				t.Errorf("organisation %s: the config names %q, which in the pod holds %.6q (%v), want its Secret's token %.6q", org.Name, file, raw, err, want[org.Name][i])
			}
		}
	}

	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, strings.ReplaceAll(text, " /etc/asana_exporter/", " "+filepath.Join(root, "etc", "asana_exporter")+"/"))
	e := startExporter(t, nil, "--asana.url="+o.srv.BaseURL, "--config.file="+file, "--storage.path="+t.TempDir(), "--asana.refresh-interval=0")
	e.waitFor(t, "/-/ready")
	_, families := until(t, e, "both organisations counted and Acme's audit log read", func(f exposition.Families) bool {
		acme, _ := f.Sample("asana_up", "organization=acme")
		globex, _ := f.Sample("asana_up", "organization=globex")
		audit, _ := f.Sample("asana_audit_log_up", "organization=acme")
		return acme == 1 && globex == 1 && audit == 1
	})
	for i, purchased := range []float64{30, 400} {
		checkSeats(t, families, o.gids[i], o.truth[i], purchased)
	}
	for _, token := range []string{acmeToken, acmeAuditToken, globexToken} {
		if o.srv.Stats(token).Requests == 0 {
			t.Errorf("token %s sent no request", token[:6])
		}
	}
}

// TestChartRefusesMixedOrganizations: organizations beside what it
// replaces (the single token, OAuth, the audit token, the demo, the config
// keys that are each organisation's) fails helm template with a message
// naming both values; so does a name given twice, and an organisation
// without its Secret's name.
func TestChartRefusesMixedOrganizations(t *testing.T) {
	helm := needTool(t, "helm")
	orgs := []string{"--set-json", `organizations=[{"name":"acme","token":{"existingSecret":"asana-acme"}}]`}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "token.existingSecret=asana"}, "organizations and token.existingSecret exclude each other"},
		{[]string{"--set", "token.value=2/1:chart-test-token"}, "organizations and token.value exclude each other"},
		{[]string{"--set", "oauth.enabled=true"}, "organizations and oauth.enabled exclude each other"},
		{[]string{"--set", "auditLog.existingSecret=asana-audit"}, "organizations and auditLog.existingSecret exclude each other"},
		{[]string{"--set", "auditLog.value=2/1:audit"}, "organizations and auditLog.value exclude each other"},
		{[]string{"--set", "demo=true"}, "organizations and demo exclude each other"},
		{[]string{"--set-json", `config={"workspaces":[{"gid":"1"}]}`},
			"organizations and config.workspaces exclude each other: give it for each organisation, as organizations[].config.workspaces"},
		{[]string{"--set", "config.requests_per_minute=100"}, "organizations and config.requests_per_minute exclude each other"},
		{[]string{"--set-json", `config={"organizations":[{"name":"acme","token_file":"/t"}]}`}, "organizations and config.organizations exclude each other"},
		{[]string{"--set-json", `organizations[1]={"name":"acme","token":{"existingSecret":"b"}}`}, "organizations: the name acme is given twice"},
		{[]string{"--set-json", `organizations[0].token={"key":"token"}`}, "at '/organizations/0/token': missing property 'existingSecret'"},
		{[]string{"--set-json", `organizations[0].config={"token_file":"/t"}`}, "at '/organizations/0/config': additional properties 'token_file' not allowed"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(helm, append(append([]string{"template", "asana", chartDir}, orgs...), c.args...)...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("helm template %s: %v, want it refused with %q:\n%s", strings.Join(c.args, " "), err, c.want, out)
			}
		})
	}
	// The organisations alone render: the check can fail.
	if out, err := exec.Command(helm, append([]string{"template", "asana", chartDir}, orgs...)...).CombinedOutput(); err != nil {
		t.Errorf("helm template with organizations alone: %v\n%s", err, out)
	}
}
