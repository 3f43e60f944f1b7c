package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/asana-exporter/asana_exporter/config"
)

var chartDir = repoPath("charts", "asana-exporter")

// chartCases are the value sets every chart test renders: the least that
// runs (a token), the demo, every option on, and two organisations.
var chartCases = map[string][]string{
	"token":         {"--set", "token.value=2/1204000000000042:chart-test-token"},
	"demo":          {"--set", "demo=true"},
	"all on":        {"--values", repoPath("test", "e2e", "testdata", "chart-all-on.yaml")},
	"oauth":         {"--set", "oauth.enabled=true,oauth.clientSecret=s,oauth.refreshToken=r", "--set-string", "oauth.clientID=1"},
	"audit set":     {"--set", "token.existingSecret=asana,auditLog.value=2/1:audit,persistence.enabled=true,persistence.existingClaim=state"},
	"organizations": {"--values", repoPath("test", "e2e", "testdata", "chart-organizations.yaml")},
}

// rendered is one object of a rendered chart, decoded strictly into its
// Go type.
type rendered struct {
	kind, name string
	labels     map[string]string
	obj        any
}

// renderChart renders the chart as the release "asana", as renderRelease.
func renderChart(t *testing.T, helm string, args ...string) []rendered {
	t.Helper()
	return renderRelease(t, helm, "asana", args...)
}

// renderRelease runs helm lint and helm template with args, and decodes
// every object strictly into its Kubernetes or Prometheus Operator type: a
// field the type does not have, a typo in a template, fails.
func renderRelease(t *testing.T, helm, release string, args ...string) []rendered {
	t.Helper()
	if out, err := exec.Command(helm, append([]string{"lint", "--strict", chartDir}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	out, err := exec.Command(helm, append([]string{"template", release, chartDir, "--namespace", "monitoring"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	return decodeObjects(t, out)
}

// decodeObjects decodes helm template's output, every object strictly
// into its Kubernetes or Prometheus Operator type.
func decodeObjects(t *testing.T, out []byte) []rendered {
	t.Helper()
	var objs []rendered
	// Split at the document markers, leaving each document its last line
	// break: a block scalar's value ends with it.
	for _, doc := range regexp.MustCompile(`(?m)^---$\n?`).Split(string(out), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		raw, err := sigsyaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		var meta struct {
			Kind     string
			Metadata struct {
				Name   string
				Labels map[string]string
			}
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		obj, ok := map[string]any{
			"Deployment": &appsv1.Deployment{}, "Service": &corev1.Service{}, "ServiceAccount": &corev1.ServiceAccount{},
			"ConfigMap": &corev1.ConfigMap{}, "Secret": &corev1.Secret{}, "PersistentVolumeClaim": &corev1.PersistentVolumeClaim{},
			"NetworkPolicy": &networkingv1.NetworkPolicy{}, "ServiceMonitor": &monitoringv1.ServiceMonitor{}, "PrometheusRule": &monitoringv1.PrometheusRule{},
		}[meta.Kind]
		if !ok {
			t.Fatalf("the chart renders a %s, which no test decodes", meta.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			t.Fatalf("%s %s does not decode strictly: %v\n%s", meta.Kind, meta.Metadata.Name, err, doc)
		}
		objs = append(objs, rendered{meta.Kind, meta.Metadata.Name, meta.Metadata.Labels, obj})
	}
	return objs
}

func find[T any](objs []rendered) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// TestChart renders the chart with each value set and checks what a
// cluster would run: one replica, recreated; a hardened pod; arguments the
// exporter's own flag parser accepts; every file the arguments name
// mounted; the rules and dashboards the same as the repository's.
func TestChart(t *testing.T) {
	helm := needTool(t, "helm")
	promtool := needTool(t, "promtool")
	for name, args := range chartCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs := renderChart(t, helm, args...)
			deployments := find[*appsv1.Deployment](objs)
			if len(deployments) != 1 {
				t.Fatalf("%d Deployments", len(deployments))
			}
			d := deployments[0]
			if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("replicas %d, strategy %s: want one replica, recreated (one token, one budget)", *d.Spec.Replicas, d.Spec.Strategy.Type)
			}
			checkHardened(t, d)
			c := d.Spec.Template.Spec.Containers[0]
			checkArgsParse(t, c.Args)
			checkMountedFiles(t, d, c)

			for _, r := range find[*monitoringv1.PrometheusRule](objs) {
				checkRules(t, promtool, r)
			}
			checkDashboards(t, find[*corev1.ConfigMap](objs), name == "all on")
			if name == "all on" {
				if len(find[*monitoringv1.ServiceMonitor](objs)) != 1 || len(find[*monitoringv1.PrometheusRule](objs)) != 1 ||
					len(find[*networkingv1.NetworkPolicy](objs)) != 1 || len(find[*corev1.PersistentVolumeClaim](objs)) != 1 {
					t.Errorf("every option on, but not every object rendered: %v", kinds(objs))
				}
				sm := find[*monitoringv1.ServiceMonitor](objs)[0]
				if e := sm.Spec.Endpoints[0]; e.Scheme == nil || *e.Scheme != "https" || e.BasicAuth == nil || e.TLSConfig == nil {
					t.Errorf("the ServiceMonitor does not scrape with the web config's TLS and basic auth: %+v", e)
				}
			}
		})
	}
}

func kinds(objs []rendered) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.kind)
	}
	return out
}

func checkHardened(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	sc, psc := c.SecurityContext, pod.SecurityContext
	switch {
	case psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Error("the pod may run as root")
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("no RuntimeDefault seccomp profile")
	case sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation is allowed")
	case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}):
		t.Error("capabilities are not all dropped")
	case c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero():
		t.Error("no memory request or limit")
	case c.LivenessProbe == nil || c.ReadinessProbe == nil:
		t.Error("no liveness or readiness probe")
	case c.LivenessProbe.HTTPGet == nil && c.LivenessProbe.TCPSocket == nil:
		t.Error("the liveness probe probes nothing")
	case c.LivenessProbe.HTTPGet != nil && (c.LivenessProbe.HTTPGet.Path != "/-/healthy" || c.ReadinessProbe.HTTPGet.Path != "/-/ready"):
		t.Error("liveness is not /-/healthy or readiness not /-/ready")
	case pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken:
		t.Error("the pod mounts a Kubernetes API token it does not need")
	}
}

// checkArgsParse: the exporter takes the container's arguments, and the
// check can fail: an unknown flag, or a value the flag refuses, fails it.
func checkArgsParse(t *testing.T, args []string) {
	t.Helper()
	if ok, out := exporterParses(t, args); !ok {
		t.Errorf("the exporter refuses the chart's arguments %q:\n%s", args, out)
	}
	for _, bad := range []string{"--no-such-flag", "--runtime.gomaxprocs=many"} {
		if ok, _ := exporterParses(t, append(slices.Clone(args), bad)); ok {
			t.Errorf("%s passed too: the check checks nothing", bad)
		}
	}
}

// exporterParses runs the exporter with args and --storage.path set to a
// directory that does not exist, and reports whether its flag parser took
// every flag and value, with its output. The first thing the exporter
// checks once they have parsed is that directory: its complaint about it,
// and nothing else, says so. (kingpin's --version would exit before it
// sets the values, so a bad one would pass.)
func exporterParses(t *testing.T, args []string) (bool, string) {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "missing")
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "--storage.path=") })
	out, _ := exec.Command(exporterBinary(t), append(args, "--storage.path="+missing)...).CombinedOutput()
	return strings.Contains(string(out), "--storage.path: "+missing+" does not exist"), string(out)
}

// checkMountedFiles: every file an argument names is in a mounted volume.
func checkMountedFiles(t *testing.T, d *appsv1.Deployment, c corev1.Container) {
	t.Helper()
	for _, a := range c.Args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || !(strings.HasSuffix(name, "-file") || name == "--config.file" || name == "--storage.path") {
			continue
		}
		mounted := false
		for _, m := range c.VolumeMounts {
			mounted = mounted || strings.HasPrefix(value, m.MountPath+"/") || value == m.MountPath
		}
		if !mounted {
			t.Errorf("%s names %s, which no volume mounts", name, value)
		}
	}
}

// checkRules: the PrometheusRule carries alerts/asana_rules.yml's groups,
// and promtool accepts them.
func checkRules(t *testing.T, promtool string, r *monitoringv1.PrometheusRule) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"groups": r.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(file, raw, 0o600); err != nil { // JSON is YAML
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the PrometheusRule: %v\n%s", err, out)
	}
	want, got := rulesGroups(t, readRepoFile(t, "alerts", "asana_rules.yml")), rulesGroups(t, raw)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the PrometheusRule's groups differ from alerts/asana_rules.yml: run make chart")
	}
}

func rulesGroups(t *testing.T, raw []byte) any {
	t.Helper()
	var doc struct{ Groups any }
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Groups
}

func readRepoFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	raw, err := os.ReadFile(repoPath(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// checkDashboards: the dashboard ConfigMaps hold dashboards/*.json byte for
// byte, with the label Grafana's sidecar watches.
func checkDashboards(t *testing.T, maps []*corev1.ConfigMap, want bool) {
	t.Helper()
	files, _ := filepath.Glob(repoPath("dashboards", "*.json"))
	found := 0
	for _, m := range maps {
		for key, data := range m.Data {
			if !strings.HasSuffix(key, ".json") {
				continue
			}
			found++
			if m.Labels["grafana_dashboard"] != "1" {
				t.Errorf("ConfigMap %s lacks the label grafana_dashboard: \"1\"", m.Name)
			}
			if data != string(readRepoFile(t, "dashboards", key)) {
				t.Errorf("ConfigMap %s's %s differs from dashboards/%s: run make chart", m.Name, key, key)
			}
		}
	}
	if want && found != len(files) {
		t.Errorf("%d dashboards in ConfigMaps, want the %d of dashboards/", found, len(files))
	}
}

// TestChartRefusesNoToken: without a token, a Secret or demo=true, helm
// says what to set.
func TestChartRefusesNoToken(t *testing.T) {
	helm := needTool(t, "helm")
	out, err := exec.Command(helm, "template", "asana", chartDir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "token.value or token.existingSecret is required (or organizations, or demo=true)") {
		t.Errorf("helm template with no token: %v\n%s", err, out)
	}
}

// TestChartFilesAreTheRepositorys: the chart's copies of the rules and the
// dashboards are the repository's (make chart copies them).
func TestChartFilesAreTheRepositorys(t *testing.T) {
	pairs := map[string]string{filepath.Join("alerts", "asana_rules.yml"): filepath.Join("files", "asana_rules.yml")}
	files, _ := filepath.Glob(repoPath("dashboards", "*.json"))
	for _, f := range files {
		pairs[filepath.Join("dashboards", filepath.Base(f))] = filepath.Join("files", "dashboards", filepath.Base(f))
	}
	for src, copy := range pairs {
		if !bytes.Equal(readRepoFile(t, src), readRepoFile(t, "charts", "asana-exporter", copy)) {
			t.Errorf("charts/asana-exporter/%s differs from %s: run make chart", copy, src)
		}
	}
}

// TestChartValuesAreDocumented: every key of values.yaml is in the chart
// README's table, and the table names no key values.yaml lacks. A map or a
// list whose default is empty, and the security contexts and resources,
// are documented whole.
func TestChartValuesAreDocumented(t *testing.T) {
	var values map[string]any
	if err := yaml.Unmarshal(readRepoFile(t, "charts", "asana-exporter", "values.yaml"), &values); err != nil {
		t.Fatal(err)
	}
	whole := map[string]bool{"podSecurityContext": true, "securityContext": true, "resources": true}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 && !whole[prefix] {
			for k, sub := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), sub)
			}
			return
		}
		keys = append(keys, prefix)
	}
	walk("", values)
	readme := string(readRepoFile(t, "charts", "asana-exporter", "README.md"))
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Za-z.]+)` \\|").FindAllStringSubmatch(readme, -1) {
		documented[m[1]] = true
	}
	for _, k := range keys {
		if !documented[k] {
			t.Errorf("values.yaml's %s is not in the chart README's table", k)
		}
		delete(documented, k)
	}
	for k := range documented {
		t.Errorf("the chart README documents %s, which values.yaml lacks", k)
	}
	if len(keys) < 40 {
		t.Errorf("read only %d keys from values.yaml", len(keys))
	}
}

// chartMeta is what Chart.yaml says of the chart.
func chartMeta(t *testing.T) (version, appVersion string) {
	t.Helper()
	var c struct {
		Version    string `yaml:"version"`
		AppVersion string `yaml:"appVersion"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "charts", "asana-exporter", "Chart.yaml"), &c); err != nil {
		t.Fatal(err)
	}
	return c.Version, c.AppVersion
}

// TestChartNames: the objects are named as `helm create`'s charts name
// theirs (the release name alone when it holds the chart's name,
// release-chart otherwise, or fullnameOverride; nameOverride for the
// chart's name), carry Helm's recommended labels, and select one another
// by them.
func TestChartNames(t *testing.T) {
	helm := needTool(t, "helm")
	version, appVersion := chartMeta(t)
	every := []string{"--set", "demo=true,dashboards.enabled=true,serviceMonitor.enabled=true,prometheusRule.enabled=true," +
		"networkPolicy.enabled=true,persistence.enabled=true"}
	longest := strings.Repeat("a", 53) // Helm's longest release name
	for _, c := range []struct {
		release        string
		args           []string
		fullname, name string
	}{
		{"asana", nil, "asana-asana-exporter", "asana-exporter"},
		{"asana-exporter", nil, "asana-exporter", "asana-exporter"},
		{"prod-asana-exporter", nil, "prod-asana-exporter", "asana-exporter"},
		{"asana", []string{"--set", "fullnameOverride=seats"}, "seats", "asana-exporter"},
		{"asana", []string{"--set", "nameOverride=asana"}, "asana", "asana"},
		{"finance", []string{"--set", "nameOverride=asana"}, "finance-asana", "asana"},
		{longest, nil, (longest + "-asana-exporter")[:63], "asana-exporter"},
	} {
		t.Run(c.release+" "+strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			objs := renderRelease(t, helm, c.release, append(slices.Clone(every), c.args...)...)
			want := map[string]string{
				"app.kubernetes.io/name": c.name, "app.kubernetes.io/instance": c.release, "app.kubernetes.io/version": appVersion,
				"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "asana-exporter-" + version,
			}
			names := map[string]bool{}
			for _, o := range objs {
				wantName := c.fullname
				if m, ok := o.obj.(*corev1.ConfigMap); ok {
					for key := range m.Data {
						if dashboard, ok := strings.CutSuffix(key, ".json"); ok {
							wantName += "-dashboard-" + strings.TrimPrefix(dashboard, "asana-")
						}
					}
				}
				if o.name != wantName {
					t.Errorf("%s %s, want %s", o.kind, o.name, wantName)
				}
				if names[o.kind+"/"+o.name] {
					t.Errorf("two %ss named %s", o.kind, o.name)
				}
				names[o.kind+"/"+o.name] = true
				for k, v := range want {
					if o.labels[k] != v {
						t.Errorf("%s %s: label %s is %q, want %q", o.kind, o.name, k, o.labels[k], v)
					}
				}
			}
			if len(names) != 10 {
				t.Errorf("%d objects, want 10 with every option on: %v", len(names), kinds(objs))
			}
			selector := map[string]string{"app.kubernetes.io/name": c.name, "app.kubernetes.io/instance": c.release}
			d := find[*appsv1.Deployment](objs)[0]
			svc := find[*corev1.Service](objs)[0]
			if !reflect.DeepEqual(d.Spec.Selector.MatchLabels, selector) || !reflect.DeepEqual(svc.Spec.Selector, selector) {
				t.Errorf("the Deployment selects %v and the Service %v, want %v", d.Spec.Selector.MatchLabels, svc.Spec.Selector, selector)
			}
			if !selects(selector, d.Spec.Template.Labels) {
				t.Errorf("the Deployment's selector %v does not select its pods %v", selector, d.Spec.Template.Labels)
			}
			if sm := find[*monitoringv1.ServiceMonitor](objs)[0]; !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
				t.Errorf("the ServiceMonitor's selector %v does not select the Service %v", sm.Spec.Selector.MatchLabels, svc.Labels)
			}
			if np := find[*networkingv1.NetworkPolicy](objs)[0]; !selects(np.Spec.PodSelector.MatchLabels, d.Spec.Template.Labels) {
				t.Errorf("the NetworkPolicy's selector %v does not select the pods %v", np.Spec.PodSelector.MatchLabels, d.Spec.Template.Labels)
			}
			if sa := find[*corev1.ServiceAccount](objs)[0]; d.Spec.Template.Spec.ServiceAccountName != sa.Name {
				t.Errorf("the pod runs as ServiceAccount %s, the chart makes %s", d.Spec.Template.Spec.ServiceAccountName, sa.Name)
			}
		})
	}
}

// selects reports whether a matchLabels selector selects labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// TestChartImageIsMakeDockers: the chart's default image is the one `make
// docker` builds and tags: the Makefile's IMAGE, with the VERSION file's
// version, which is the chart's appVersion.
func TestChartImageIsMakeDockers(t *testing.T) {
	helm := needTool(t, "helm")
	version := strings.TrimSpace(string(readRepoFile(t, "VERSION")))
	if _, appVersion := chartMeta(t); appVersion != version {
		t.Errorf("Chart.yaml's appVersion is %q, VERSION %q: make them the same", appVersion, version)
	}
	m := regexp.MustCompile(`(?m)^IMAGE\s*\?=\s*(\S+:\$\(VERSION\))$`).FindSubmatch(readRepoFile(t, "Makefile"))
	if m == nil {
		t.Fatal("the Makefile has no IMAGE ?= NAME:$(VERSION)")
	}
	want := strings.Replace(string(m[1]), "$(VERSION)", version, 1)
	d := find[*appsv1.Deployment](renderChart(t, helm, chartCases["token"]...))[0]
	if got := d.Spec.Template.Spec.Containers[0].Image; got != want {
		t.Errorf("the chart's default image is %s, make docker tags %s", got, want)
	}
}

// helmTemplate runs helm template on the chart with a token and args, and
// returns its output and whether it succeeded.
func helmTemplate(t *testing.T, helm string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(helm, append([]string{"template", "asana", chartDir, "--set", "token.value=2/1:chart-test-token"}, args...)...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return string(out), err == nil
}

// TestChartRefusesBadValues: helm template (so install, upgrade and lint)
// refuses what would crash-loop in the pod, or silently not apply, and
// names the value: values.schema.json.
func TestChartRefusesBadValues(t *testing.T) {
	helm := needTool(t, "helm")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "serviceMonitor.enable=true"}, "at '/serviceMonitor': additional properties 'enable' not allowed"},
		{[]string{"--set", "refreshInterval=5"}, "at '/refreshInterval': got number, want string"},
		{[]string{"--set", "refreshInterval=5min"}, "at '/refreshInterval': '5min' does not match pattern"},
		{[]string{"--set", "refreshInterval=1y"}, "at '/refreshInterval': '1y' does not match pattern"},
		{[]string{"--set-json", `config={"workspaces":[{"gid":"1200000000000001","seat_purchased":30}]}`},
			"at '/config/workspaces/0': additional properties 'seat_purchased' not allowed"},
		{[]string{"--set-json", `config={"audit_logs":{"enabled":true}}`}, "at '/config': additional properties 'audit_logs' not allowed"},
		{[]string{"--set-json", `config={"workspaces":[{"gid":1200000000000001}]}`}, "at '/config/workspaces/0/gid': got number, want string"},
		{[]string{"--set-json", `config={"workspaces":[{"gid":"1","seats_purchased":"30"}]}`},
			"at '/config/workspaces/0/seats_purchased': got string, want integer"},
		{[]string{"--set", "serviceMonitor.labels.release=true"}, "at '/serviceMonitor/labels/release': got boolean, want string"},
		{[]string{"--set", "serviceMonitor.interval=60"}, "at '/serviceMonitor/interval': got number, want string"},
		{[]string{"--set", "log.level=verbose"}, "at '/log/level': value must be one of"},
		{[]string{"--set", "oauth.enabled=true,oauth.clientID=1204000000000001"}, "at '/oauth/clientID': got number, want string"},
		{[]string{"--set", "extraArgs[0]=asana.timeout-offset=1s"}, "at '/extraArgs/0': 'asana.timeout-offset=1s' does not match pattern"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			out, ok := helmTemplate(t, helm, c.args...)
			if ok || !strings.Contains(out, c.want) {
				t.Errorf("helm template %s: succeeded %v, want it refused with %q:\n%s", strings.Join(c.args, " "), ok, c.want, out)
			}
		})
	}
}

// TestChartSchemaAgreesWithTheExporter: for each config and refresh
// interval, helm refuses it exactly when the pod would refuse it at start:
// what the chart renders without the schema, given to the exporter's own
// config parser and flag parser. Bar two kinds of exceptions, each
// checked: what only the whole file tells, which the exporter alone
// refuses; and what the exporter would take but not as written, which
// helm alone refuses.
func TestChartSchemaAgreesWithTheExporter(t *testing.T) {
	helm := needTool(t, "helm")
	const (
		taken        = "taken"
		refused      = "refused"
		exporterOnly = "refused by the exporter alone"
	)
	configs := map[string]string{
		`{}`: taken, `{"workspaces":[]}`: taken,
		`{"workspaces":[{"gid":"1111","seats_purchased":1000,"seat_price":24.99,"renewal_date":"2027-03-31"},{"gid":"2222"}],` +
			`"only_listed_workspaces":true,"exclude_workspaces":["3333"],"max_staleness":"1d12h","workspace_concurrency":20,` +
			`"requests_per_minute":1500,"email_domain_check":false,"audit_log":{"enabled":true,"idle_days":[1,30,730]}}`: taken,
		`{"max_staleness":0}`: taken, `{"max_staleness":"0"}`: taken, `{"max_staleness":"90s"}`: taken,
		`{"workspaces":[{"gid":"1","seats_purchased":0,"seat_price":0}]}`: taken,
		`{"workspace_concurrency":1,"requests_per_minute":1}`:             taken,

		`{"workspace":[]}`: refused,
		`{"workspaces":[{"gid":"1","seat_purchased":30}]}`:         refused,
		`{"workspaces":[{"seats_purchased":30}]}`:                  refused,
		`{"workspaces":[{"gid":"12a"}]}`:                           refused,
		`{"workspaces":[{"gid":-1}]}`:                              refused,
		`{"workspaces":[{"gid":"1","seats_purchased":"30"}]}`:      refused,
		`{"workspaces":[{"gid":"1","seats_purchased":-1}]}`:        refused,
		`{"workspaces":[{"gid":"1","seat_price":-1}]}`:             refused,
		`{"workspaces":[{"gid":"1","seat_price":1e9}]}`:            refused,
		`{"workspaces":[{"gid":"1","seat_price":"24.99"}]}`:        refused,
		`{"workspaces":[{"gid":"1","renewal_date":"2027-13-01"}]}`: refused,
		`{"workspaces":[{"gid":"1","renewal_date":"31/03/2027"}]}`: refused,
		`{"workspaces":[{"gid":"1","renewal_date":"2100-01-01"}]}`: refused,
		`{"workspaces":{"gid":"1"}}`:                               refused,
		`{"exclude_workspaces":"3333"}`:                            refused,
		`{"exclude_workspaces":["abc"]}`:                           refused,
		`{"max_staleness":5}`:                                      refused,
		`{"max_staleness":"5"}`:                                    refused,
		`{"max_staleness":"1h30"}`:                                 refused,
		`{"max_staleness":"30m1h"}`:                                refused,
		`{"workspace_concurrency":0}`:                              refused,
		`{"workspace_concurrency":21}`:                             refused,
		`{"requests_per_minute":1501}`:                             refused,
		`{"email_domain_check":"maybe"}`:                           refused,
		`{"only_listed_workspaces":"true"}`:                        refused,
		`{"audit_log":{"enable":true}}`:                            refused,
		`{"audit_log":{"idle_days":[0]}}`:                          refused,
		`{"audit_log":{"idle_days":[731]}}`:                        refused,
		`{"audit_log":{"idle_days":[30,30]}}`:                      refused,
		`{"audit_log":{"idle_days":"30"}}`:                         refused,
		`{"workspaces":[{"gid":"1","seats_purchased":1.5}]}`:       refused,
		`{"audit_log":{"idle_days":[30.5]}}`:                       refused,

		`{"audit_log":{"idle_days":[60,30]}}`:                                              exporterOnly,
		`{"workspaces":[{"gid":"1","renewal_date":"2027-02-30"}]}`:                         exporterOnly,
		`{"only_listed_workspaces":true}`:                                                  exporterOnly,
		`{"workspaces":[{"gid":"1","seats_purchased":1},{"gid":"1","seats_purchased":2}]}`: exporterOnly,
		`{"workspaces":[{"gid":"1"}],"exclude_workspaces":["1"]}`:                          exporterOnly,
	}
	// Taken by the exporter, but not as written: helm alone refuses them.
	altered := map[string]func(*config.Config) bool{
		// A gid as a number passes through a float64 in Helm: beyond 2^53
		// it becomes another workspace's gid.
		`{"workspaces":[{"gid":9007199254740993}]}`: func(c *config.Config) bool { return c.Workspaces[0].GID != "9007199254740993" },
	}
	render := func(t *testing.T, doc string) (helmTakes bool, out string, c *config.Config, err error) {
		args := []string{"--values", writeTemp(t, "values-*.json", `{"config":`+doc+`}`), "--show-only", "templates/configmap.yaml"}
		out, helmTakes = helmTemplate(t, helm, args...)
		unchecked, ok := helmTemplate(t, helm, append(args, "--skip-schema-validation")...)
		if !ok {
			t.Fatalf("helm template --skip-schema-validation:\n%s", unchecked)
		}
		var cm corev1.ConfigMap
		if err := sigsyaml.Unmarshal([]byte(unchecked), &cm); err != nil {
			t.Fatal(err)
		}
		c, err = config.Parse([]byte(cm.Data["config.yml"]))
		return helmTakes, out, c, err
	}
	for doc, want := range configs {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			helmTakes, out, _, err := render(t, doc)
			exporterTakes := err == nil
			if want == exporterOnly && (!helmTakes || exporterTakes) || want != exporterOnly && (helmTakes != exporterTakes || helmTakes != (want == taken)) {
				t.Errorf("helm takes it: %v, the exporter: %v (%v); want %s\n%s", helmTakes, exporterTakes, err, want, out)
			}
		})
	}
	for doc, changed := range altered {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			helmTakes, out, c, err := render(t, doc)
			if helmTakes || err != nil || !changed(c) {
				t.Errorf("helm takes it: %v; the exporter: %v, %+v; want the exporter to take it altered, and helm to refuse it\n%s", helmTakes, err, c, out)
			}
		})
	}
	intervals := map[string]bool{"5m": true, "1h30m": true, "90s": true, "0": true, "0s": true, "1.5h": true, "500ms": true, "1d": true, "2w": true,
		"5": false, "1y": false, "5min": false, "-5m": false, "5 m": false, "": false}
	for interval, want := range intervals {
		t.Run("refreshInterval="+interval, func(t *testing.T) {
			t.Parallel()
			out, helmTakes := helmTemplate(t, helm, "--set-string", "refreshInterval="+interval, "--show-only", "templates/deployment.yaml")
			exporterTakes, parse := exporterParses(t, []string{"--asana.refresh-interval=" + interval})
			if helmTakes != want || exporterTakes != want {
				t.Errorf("helm takes it: %v (%s), the exporter: %v (%s); want %v", helmTakes, out, exporterTakes, parse, want)
			}
		})
	}
}

// writeTemp writes content to a temporary file named after pattern (as
// os.CreateTemp), removed when t ends, and returns its path: one without
// the commas of t's name, which helm's --values would split at.
func writeTemp(t *testing.T, pattern, content string) string {
	t.Helper()
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// renderNotes renders the chart's NOTES.txt, which helm template leaves
// out and helm install prints: a copy of the chart carries it as a file,
// rendered by a ConfigMap template with tpl, as helm install would.
func renderNotes(t *testing.T, helm, release string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "asana-exporter")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "templates", "NOTES.txt"), filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	wrapper := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ tpl (.Files.Get \"notes.txt\") . | toJson }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes.yaml"), []byte(wrapper), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(helm, append([]string{"template", release, dir, "--namespace", "monitoring", "--show-only", "templates/notes.yaml"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm template with NOTES.txt: %v\n%s", err, out)
	}
	var cm corev1.ConfigMap
	if err := sigsyaml.Unmarshal(out, &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["notes"]
}

// inPodCommand is a command NOTES.txt or the chart README gives to run in
// the exporter's pod: kubectl -n NS exec deploy/NAME -- BINARY ARGS > FILE.
var inPodCommand = regexp.MustCompile(`(?m)^ *kubectl -n (\S+) exec deploy/(\S+) -- (\S+) (.+) > \S+$`)

// asanaFlags are the flags that say what the exporter reads from Asana and
// how; a command run in the pod needs every one the Deployment has.
var asanaFlags = []string{"--config.file", "--storage.path", "--demo", "--asana.token-file", "--asana.oauth.client-id",
	"--asana.oauth.client-secret-file", "--asana.oauth.refresh-token-file", "--asana.audit-token-file"}

// TestChartSeatsInThePod: the seats and reclaim plan commands NOTES.txt
// prints, for each value set, run in the Deployment's pod (its name, its
// namespace, the image's binary) with the Asana flags the exporter runs
// with (the same config file, state and credentials, all mounted), and the
// exporter takes them; on the demo they run for real and write the roster
// and the plan to standard output. The chart README's commands are the
// ones NOTES.txt prints for the README's install.
func TestChartSeatsInThePod(t *testing.T) {
	helm := needTool(t, "helm")
	entrypoint := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"`).FindSubmatch(readRepoFile(t, "Dockerfile"))
	if entrypoint == nil {
		t.Fatal("the Dockerfile has no ENTRYPOINT [\"...\"]")
	}
	for name, args := range chartCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := find[*appsv1.Deployment](renderRelease(t, helm, "asana-exporter", args...))[0]
			c := d.Spec.Template.Spec.Containers[0]
			commands := inPodCommand.FindAllStringSubmatch(renderNotes(t, helm, "asana-exporter", args...), -1)
			if len(commands) != 2 {
				t.Fatalf("NOTES.txt gives %d commands to run in the pod, want 2 (seats, reclaim plan)", len(commands))
			}
			for _, m := range commands {
				if m[1] != "monitoring" || m[2] != d.Name || m[3] != string(entrypoint[1]) {
					t.Errorf("NOTES.txt runs %s in deploy/%s of %s, want %s in deploy/%s of monitoring", m[3], m[2], m[1], entrypoint[1], d.Name)
				}
				cmd := strings.Fields(m[4])
				for _, a := range c.Args {
					if flag, _, _ := strings.Cut(a, "="); slices.Contains(asanaFlags, flag) && !slices.Contains(cmd, a) {
						t.Errorf("%s: the exporter runs with %s, the command does not", m[4], a)
					}
				}
				for _, a := range cmd {
					if flag, _, _ := strings.Cut(a, "="); slices.Contains(asanaFlags, flag) && !slices.Contains(c.Args, a) {
						t.Errorf("%s: %s, which the exporter does not run with", m[4], a)
					}
				}
				checkMountedFiles(t, d, corev1.Container{Args: cmd, VolumeMounts: c.VolumeMounts})
				if ok, out := exporterParses(t, cmd); !ok {
					t.Errorf("the exporter refuses %s:\n%s", m[4], out)
				}
				if name == "demo" {
					t.Run(cmd[0], func(t *testing.T) {
						t.Parallel()
						runInPodCommand(t, cmd)
					})
				}
			}
		})
	}
	t.Run("README", func(t *testing.T) {
		t.Parallel()
		notes := inPodCommand.FindAllString(renderNotes(t, helm, "asana-exporter", "--set", "token.existingSecret=asana-token"), -1)
		readme := inPodCommand.FindAllString(strings.ReplaceAll(string(readRepoFile(t, "charts", "asana-exporter", "README.md")), "\\\n", ""), -1)
		for i := range readme {
			readme[i] = strings.Join(strings.Fields(readme[i]), " ")
		}
		for i := range notes {
			notes[i] = strings.Join(strings.Fields(notes[i]), " ")
		}
		if len(notes) == 0 || !reflect.DeepEqual(readme, notes) {
			t.Errorf("the chart README runs in the pod\n%s\nNOTES.txt for its install\n%s", strings.Join(readme, "\n"), strings.Join(notes, "\n"))
		}
	})
}

// runInPodCommand runs a command of NOTES.txt for the demo, with the pod's
// --storage.path in a directory of the test's, and checks what it writes
// to standard output, a pipe as kubectl exec's is.
func runInPodCommand(t *testing.T, args []string) {
	t.Helper()
	args = slices.Clone(args)
	for i, a := range args {
		if strings.HasPrefix(a, "--storage.path=") {
			args[i] = "--storage.path=" + t.TempDir()
		}
	}
	out, err := exec.Command(exporterBinary(t), args...).Output()
	header := map[string]string{"seats": "workspace_gid,", "reclaim": "planned_at,"}[args[0]]
	if lines := strings.Count(string(out), "\n"); err != nil || header == "" || !strings.HasPrefix(string(out), header) || lines < 2 {
		t.Errorf("%s: %v; %d lines, want a header %q and rows:\n%.300s", strings.Join(args, " "), err, lines, header, out)
	}
}

// TestChartREADMECommands: the chart README's helm install and upgrade
// commands render (run as helm template, from the repository's root), and
// what they render for the Prometheus Operator carries the release label
// kube-prometheus-stack selects; its console sessions print what they show.
func TestChartREADMECommands(t *testing.T) {
	helm, err := filepath.Abs(needTool(t, "helm"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(readRepoFile(t, "charts", "asana-exporter", "README.md"))
	shell := func(command string) ([]byte, error) {
		cmd := exec.Command("sh", "-c", command)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(helm)+string(os.PathListSeparator)+os.Getenv("PATH"))
		return cmd.CombinedOutput()
	}
	// A values file the README gives ("with `NAME`:" and a YAML block) is
	// written where its commands find it.
	files := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)with `([^`]+\\.yaml)`:\n\n```yaml\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		files[m[1]] = filepath.Join(t.TempDir(), m[1])
		writeFile(t, files[m[1]], m[2])
	}
	installs := 0
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		for _, line := range strings.Split(strings.ReplaceAll(block[1], "\\\n", ""), "\n") {
			rest, ok := strings.CutPrefix(line, "helm install ")
			if !ok {
				rest, ok = strings.CutPrefix(line, "helm upgrade --install ")
			}
			if !ok {
				continue
			}
			installs++
			for name, file := range files {
				rest = strings.ReplaceAll(rest, " "+name, " "+file)
			}
			out, err := shell("helm template " + rest)
			if err != nil {
				t.Errorf("%s: %v\n%s", line, err, out)
				continue
			}
			for _, o := range decodeObjects(t, out) {
				if (o.kind == "ServiceMonitor" || o.kind == "PrometheusRule") && o.labels["release"] != "kube-prometheus-stack" {
					t.Errorf("%s: the %s has no label release: kube-prometheus-stack, which kube-prometheus-stack selects by", line, o.kind)
				}
			}
		}
	}
	if installs < 3 || len(files) == 0 {
		t.Errorf("%d helm install commands and %d values files in the chart README, want the demo's, the token's and the organisations'", installs, len(files))
	}
	sessions := 0
	for _, block := range regexp.MustCompile("(?s)```console\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		for _, session := range strings.Split(block[1], "$ ")[1:] {
			command, want, _ := strings.Cut(session, "\n")
			sessions++
			out, err := shell(command)
			if got := strings.TrimSpace(string(out)); err == nil || got != strings.TrimSpace(want) {
				t.Errorf("$ %s\nexits with %v and prints\n%s\nwhere the README shows it failing with\n%s", command, err, got, want)
			}
		}
	}
	if sessions < 3 {
		t.Errorf("%d console sessions in the chart README, want the 3 refused values", sessions)
	}
}
