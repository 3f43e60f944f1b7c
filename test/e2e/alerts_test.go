package e2e

// The alerting and recording rules in alerts/ and the example Alertmanager
// configuration, run through the real promtool and amtool.

import (
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Errorf("%s %v: %v\n%s", bin, args, err, out)
	}
}

func TestRulesAreValid(t *testing.T) {
	run(t, needTool(t, "promtool"), "check", "rules", repoPath("alerts", "asana_rules.yml"))
}

// TestRulesFireAsSpecified runs asana_rules_test.yml: each alert fires when
// and with the labels and annotations it should, and stays quiet otherwise;
// and asana_rules_peaks_test.yml: the seat peaks are recorded as they should.
func TestRulesFireAsSpecified(t *testing.T) {
	run(t, needTool(t, "promtool"), "test", "rules", repoPath("alerts", "asana_rules_test.yml"), repoPath("alerts", "asana_rules_peaks_test.yml"))
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func alertRules(t *testing.T) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, repoPath("alerts", "asana_rules.yml"), &f)
	var alerts []rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r)
			}
		}
	}
	if len(alerts) < 10 {
		t.Fatalf("found %d alerts", len(alerts))
	}
	return alerts
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestEveryAlertIsTestedBothWays: asana_rules_test.yml has, for every
// alert, a case where it fires and one where it must stay quiet.
func TestEveryAlertIsTestedBothWays(t *testing.T) {
	var f struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, repoPath("alerts", "asana_rules_test.yml"), &f)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, r := range alertRules(t) {
		if !fires[r.Alert] {
			t.Errorf("%s: no test where it fires", r.Alert)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s: no test where it stays quiet", r.Alert)
		}
	}
}

// categoryReceiver is the routing alertmanager.yml promises.
var categoryReceiver = map[string]string{"seats": "asana-admins", "security": "security", "exporter": "sre"}

// TestAlertsAreWrittenForHumans: every alert has a severity, a category to
// route on, a summary and a description, and alerts about a workspace
// name it.
func TestAlertsAreWrittenForHumans(t *testing.T) {
	for _, r := range alertRules(t) {
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q", r.Alert, s)
		}
		if _, ok := categoryReceiver[r.Labels["category"]]; !ok {
			t.Errorf("%s: category %q is not routed by alertmanager.yml", r.Alert, r.Labels["category"])
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: needs a summary and a description", r.Alert)
		}
		perWorkspace := strings.Contains(r.Expr, "asana_workspace_") || strings.Contains(r.Expr, "asana_collection_")
		if perWorkspace && (!strings.Contains(r.Expr, "group_left (workspace_name) asana_workspace_info") ||
			!strings.Contains(r.Annotations["summary"], "$labels.workspace_name")) {
			t.Errorf("%s: is about a workspace but does not name it", r.Alert)
		}
	}
}

func TestAlertmanagerExampleIsValid(t *testing.T) {
	run(t, needTool(t, "amtool"), "check-config", repoPath("alerts", "alertmanager.yml"))
}

// TestAlertmanagerExampleRoutesEveryAlert asks amtool where each alert,
// with its labels, is routed.
func TestAlertmanagerExampleRoutesEveryAlert(t *testing.T) {
	amtool := needTool(t, "amtool")
	for _, r := range alertRules(t) {
		args := []string{"config", "routes", "test", "--config.file=" + repoPath("alerts", "alertmanager.yml"),
			"--verify.receivers=" + categoryReceiver[r.Labels["category"]], "alertname=" + r.Alert}
		for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
			args = append(args, k+"="+r.Labels[k])
		}
		run(t, amtool, args...)
	}
}
