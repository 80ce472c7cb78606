package observability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/monitoring"
)

func TestPlatformRulesCarryEnvironmentSeverityAndRunbook(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			groups := PlatformRules(env)
			require.NotEmpty(t, groups)
			alerts := map[string]bool{}
			for _, g := range groups {
				assert.True(t, strings.HasPrefix(g.Name, "platform-"+env+"-"), g.Name)
				for _, r := range g.Rules {
					alerts[r.Alert] = true
					assert.Equal(t, env, r.Labels["environment"], r.Alert)
					assert.Contains(t, []string{SeverityWarning, SeverityCritical}, r.Labels["severity"], r.Alert)
					assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
					assert.NotEmpty(t, r.Annotations["description"], r.Alert)
					assert.Equal(t, monitoring.RunbookURL(r.Alert), r.Annotations["runbook_url"], r.Alert)
					assert.NotEmpty(t, r.For, "%s: a rule without for pages on a single bad scrape", r.Alert)
					// Every rule is scoped to this environment's namespaces or Argo CD project.
					assert.True(t, strings.Contains(r.Expr, `namespace=~"`+env+`-.+"`) ||
						strings.Contains(r.Expr, `project="platform-`+env+`"`), r.Expr)
				}
			}
			for _, a := range []string{AlertPodCrashLooping, AlertQuotaNearlyFull, AlertTargetDown, AlertArgoCDOutOfSync, AlertArgoCDAppUnhealthy} {
				assert.True(t, alerts[a], a)
			}
		})
	}
}

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on PATH (Debian: apt-get install prometheus)")
	}
	return p
}

func writeRules(t *testing.T, env string) string {
	t.Helper()
	raw, err := monitoring.RulesFile(PlatformRules(env))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	return file
}

func TestPlatformRulesPassPromtool(t *testing.T) {
	bin := promtool(t)
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			out, err := exec.Command(bin, "check", "rules", writeRules(t, env)).CombinedOutput()
			require.NoError(t, err, "promtool check rules:\n%s", out)
			assert.Contains(t, string(out), "SUCCESS")
		})
	}
}

// A promtool rule unit test file (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/).
type (
	ruleTestFile struct {
		RuleFiles          []string       `yaml:"rule_files"`
		EvaluationInterval string         `yaml:"evaluation_interval"`
		Tests              []ruleTestCase `yaml:"tests"`
	}
	ruleTestCase struct {
		Interval       string      `yaml:"interval"`
		InputSeries    []series    `yaml:"input_series"`
		AlertRuleTests []alertTest `yaml:"alert_rule_test"`
	}
	series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	alertTest struct {
		EvalTime  string     `yaml:"eval_time"`
		Alertname string     `yaml:"alertname"`
		ExpAlerts []expAlert `yaml:"exp_alerts"`
	}
	expAlert struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	}
)

// TestPlatformRulesFireOnTheirSymptomsOnly runs the staging rules against synthetic series with promtool: each
// alert fires on its symptom in the environment's namespaces and project, and not on another environment's.
func TestPlatformRulesFireOnTheirSymptomsOnly(t *testing.T) {
	bin := promtool(t)
	rules := writeRules(t, "staging")

	labels := func(severity string, kv ...string) map[string]string {
		m := map[string]string{"severity": severity, "environment": "staging"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	annotations := func(alert, summary, description string) map[string]string {
		return map[string]string{"summary": summary, "description": description, "runbook_url": monitoring.RunbookURL(alert)}
	}
	quota := func(ns, resource, kind string) string {
		return `kube_resourcequota{job="kube-state-metrics", namespace="` + ns + `", resourcequota="environment-quota", resource="` + resource + `", type="` + kind + `"}`
	}
	quotaLabels := func(severity, resource string) map[string]string {
		return labels(severity, "alertname", AlertQuotaNearlyFull, "job", "kube-state-metrics", "namespace", "staging-apps",
			"resourcequota", "environment-quota", "resource", resource)
	}
	nearlyFull := "More than 90% of the namespace's %s quota is in use; new pods and rolling updates will soon be refused."
	exhausted := "The namespace's %s quota is (nearly) exhausted: new pods, scale-ups and rolling updates are being refused."
	targetDown := "Prometheus has failed to scrape the target for 10 minutes in environment staging."

	test := ruleTestFile{
		RuleFiles:          []string{rules},
		EvaluationInterval: "1m",
		Tests: []ruleTestCase{{
			Interval: "1m",
			InputSeries: []series{
				{quota("staging-apps", "requests.cpu", "used"), "95x60"},
				{quota("staging-apps", "requests.cpu", "hard"), "100x60"},
				{quota("staging-apps", "pods", "used"), "100x60"},
				{quota("staging-apps", "pods", "hard"), "100x60"},
				{quota("staging-apps", "services.loadbalancers", "used"), "0x60"},
				{quota("staging-apps", "services.loadbalancers", "hard"), "0x60"},
				{quota("production-apps", "pods", "used"), "100x60"}, // another environment's
				{quota("production-apps", "pods", "hard"), "100x60"},
				{`kube_pod_container_status_waiting_reason{namespace="staging-apps", pod="web-1", container="web", reason="CrashLoopBackOff"}`, "1x60"},
				{`kube_pod_container_status_waiting_reason{namespace="production-apps", pod="web-1", container="web", reason="CrashLoopBackOff"}`, "1x60"},
				{`up{namespace="staging-apps", job="web", instance="10.0.0.1:8080"}`, "0x60"},
				{`up{namespace="staging-apps", job="web", instance="10.0.0.2:8080"}`, "1x60"},
				{`up{namespace="staging-apps", job="worker", instance="10.0.0.3:8080"}`, "0x60"},
				{`argocd_app_info{project="platform-staging", name="platform-staging-loki", sync_status="OutOfSync", health_status="Healthy"}`, "1x60"},
				{`argocd_app_info{project="platform-staging", name="platform-staging-web", sync_status="Synced", health_status="Degraded"}`, "1x60"},
				{`argocd_app_info{project="platform-production", name="platform-production-web", sync_status="OutOfSync", health_status="Degraded"}`, "1x60"},
			},
			AlertRuleTests: []alertTest{
				{EvalTime: "20m", Alertname: AlertQuotaNearlyFull, ExpAlerts: []expAlert{
					{quotaLabels(SeverityWarning, "requests.cpu"), annotations(AlertQuotaNearlyFull,
						"Quota requests.cpu of staging-apps is 95% used", strings.Replace(nearlyFull, "%s", "requests.cpu", 1))},
					{quotaLabels(SeverityWarning, "pods"), annotations(AlertQuotaNearlyFull,
						"Quota pods of staging-apps is 100% used", strings.Replace(nearlyFull, "%s", "pods", 1))},
					{quotaLabels(SeverityCritical, "pods"), annotations(AlertQuotaNearlyFull,
						"Quota pods of staging-apps is exhausted (100%)", strings.Replace(exhausted, "%s", "pods", 1))},
				}},
				{EvalTime: "10m", Alertname: AlertPodCrashLooping}, // not for 15 minutes yet
				{EvalTime: "20m", Alertname: AlertPodCrashLooping, ExpAlerts: []expAlert{{
					labels(SeverityWarning, "alertname", AlertPodCrashLooping, "namespace", "staging-apps", "pod", "web-1",
						"container", "web", "reason", "CrashLoopBackOff"),
					annotations(AlertPodCrashLooping, "Container web of staging-apps/web-1 is crash looping",
						"The container has been in CrashLoopBackOff for 15 minutes in environment staging."),
				}}},
				{EvalTime: "20m", Alertname: AlertTargetDown, ExpAlerts: []expAlert{
					{labels(SeverityWarning, "alertname", AlertTargetDown, "namespace", "staging-apps", "job", "web", "instance", "10.0.0.1:8080"),
						annotations(AlertTargetDown, "Target web 10.0.0.1:8080 in staging-apps is down", targetDown)},
					{labels(SeverityWarning, "alertname", AlertTargetDown, "namespace", "staging-apps", "job", "worker", "instance", "10.0.0.3:8080"),
						annotations(AlertTargetDown, "Target worker 10.0.0.3:8080 in staging-apps is down", targetDown)},
					{labels(SeverityCritical, "alertname", AlertTargetDown, "namespace", "staging-apps", "job", "worker"),
						annotations(AlertTargetDown, "Every target of worker in staging-apps is down",
							"No target of the job has been scraped for 10 minutes: the service is down or unreachable from Prometheus.")},
				}},
				{EvalTime: "40m", Alertname: AlertArgoCDOutOfSync, ExpAlerts: []expAlert{{
					labels(SeverityWarning, "alertname", AlertArgoCDOutOfSync, "project", "platform-staging",
						"name", "platform-staging-loki", "sync_status", "OutOfSync", "health_status", "Healthy"),
					annotations(AlertArgoCDOutOfSync, "Argo CD application platform-staging-loki is OutOfSync",
						"The application has not matched its Git revision for 30 minutes: a failed sync or a manual change in the cluster (drift)."),
				}}},
				{EvalTime: "40m", Alertname: AlertArgoCDAppUnhealthy, ExpAlerts: []expAlert{{
					labels(SeverityWarning, "alertname", AlertArgoCDAppUnhealthy, "project", "platform-staging",
						"name", "platform-staging-web", "sync_status", "Synced", "health_status", "Degraded"),
					annotations(AlertArgoCDAppUnhealthy, "Argo CD application platform-staging-web is Degraded",
						"The application's resources have not been healthy for 15 minutes."),
				}}},
			},
		}},
	}
	raw, err := yaml.Marshal(test)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "rules_test.yml")
	require.NoError(t, os.WriteFile(file, raw, 0o600))

	out, err := exec.Command(bin, "test", "rules", file).CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s", out)
}
