package observability

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/components/gitops"
)

func chartArgs(env string, tracing bool) ChartArgs {
	return ChartArgs{
		Environment: env, Namespace: env + "-monitoring", Tracing: tracing,
		EnvironmentNamespaces: []string{env + "-apps", env + "-ingress"},
	}
}

func byName(charts []gitops.Chart) map[string]gitops.Chart {
	out := map[string]gitops.Chart{}
	for _, c := range charts {
		out[c.Name] = c
	}
	return out
}

// at walks nested values: at(values, "a", "b") is values["a"]["b"].
func at(t *testing.T, values map[string]any, path ...string) any {
	t.Helper()
	var v any = values
	for _, p := range path {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s: not a map at %q", strings.Join(path, "."), p)
		v, ok = m[p]
		require.True(t, ok, "%s: no %q", strings.Join(path, "."), p)
	}
	return v
}

func TestTracingAddsTempo(t *testing.T) {
	names := func(charts []gitops.Chart) []string {
		var out []string
		for _, c := range charts {
			out = append(out, c.Name)
		}
		return out
	}
	for _, env := range environments {
		assert.Equal(t, []string{"kube-prometheus-stack", "loki", "promtail"}, names(Charts(chartArgs(env, false))), env)
		assert.Equal(t, []string{"kube-prometheus-stack", "loki", "promtail", "tempo"}, names(Charts(chartArgs(env, true))), env)
	}
}

var exactVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

func TestChartsArePinnedAndInstalledInTheMonitoringNamespace(t *testing.T) {
	for _, c := range Charts(chartArgs("staging", true)) {
		assert.Regexp(t, exactVersion, c.Version, c.Name)
		assert.Equal(t, "staging-monitoring", c.Namespace, c.Name)
		assert.True(t, strings.HasPrefix(c.RepoURL, "https://"), c.Name)
		assert.Equal(t, c.Name, c.Chart)
		_, err := yaml.Marshal(c.Values)
		assert.NoError(t, err, "values marshal to YAML for Argo CD")
	}
	charts := byName(Charts(chartArgs("staging", true)))
	assert.Equal(t, "77.14.0", charts["kube-prometheus-stack"].Version, "the 77.x series runs prometheus-operator v0.85.0")
	assert.Equal(t, PrometheusCommunityRepo, charts["kube-prometheus-stack"].RepoURL)
	for _, name := range []string{"loki", "promtail", "tempo"} {
		assert.Equal(t, GrafanaRepo, charts[name].RepoURL, name)
	}
}

func TestKubePrometheusStackValues(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			for _, tracing := range []bool{false, true} {
				v := KubePrometheusStack(chartArgs(env, tracing)).Values
				assert.Equal(t, false, at(t, v, "crds", "enabled"), "CRDs come from the CRDs Application")

				spec := at(t, v, "prometheus", "prometheusSpec").(map[string]any)
				assert.Equal(t, map[string]any{"environment": env}, spec["externalLabels"])
				for _, k := range []string{"serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues", "ruleSelectorNilUsesHelmValues"} {
					assert.Equal(t, false, spec[k], k)
				}
				assert.Equal(t, RetentionFor(env).Metrics, spec["retention"])
				assert.Equal(t, RetentionFor(env).MetricsSize, spec["retentionSize"])
				assert.NotEmpty(t, at(t, spec, "resources", "limits"))
				sel := at(t, spec, "ruleNamespaceSelector", "matchExpressions").([]any)[0].(map[string]any)
				assert.Equal(t, []any{env + "-monitoring", env + "-apps", env + "-ingress"}, sel["values"])

				assert.Equal(t, AlertmanagerConfig(env).Values(), at(t, v, "alertmanager", "config"))
				assert.Equal(t, []any{"alertmanager-slack"}, at(t, v, "alertmanager", "alertmanagerSpec", "secrets"))
				assert.Equal(t, false, at(t, v, "alertmanager", "tplConfig"))

				dash := at(t, v, "grafana", "sidecar", "dashboards").(map[string]any)
				assert.Equal(t, true, dash["enabled"])
				assert.Equal(t, "grafana_dashboard", dash["label"])
				assert.Equal(t, "1", dash["labelValue"])
				assert.Equal(t, []any{env + "-monitoring", env + "-apps", env + "-ingress"}, dash["searchNamespace"])
				assert.Equal(t, map[string]any{"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
					at(t, v, "grafana", "admin"), "the admin's password is the sealed one, never the chart's default")

				sources := map[string]map[string]any{}
				for _, s := range at(t, v, "grafana", "additionalDataSources").([]any) {
					sources[s.(map[string]any)["name"].(string)] = s.(map[string]any)
				}
				require.Contains(t, sources, "Loki")
				assert.Equal(t, "http://loki-gateway."+env+"-monitoring.svc", sources["Loki"]["url"])
				assert.Equal(t, "X-Scope-OrgID", at(t, sources["Loki"], "jsonData", "httpHeaderName1"))
				assert.Equal(t, env, at(t, sources["Loki"], "secureJsonData", "httpHeaderValue1"))
				if tracing {
					require.Contains(t, sources, "Tempo")
					assert.Equal(t, "http://tempo."+env+"-monitoring.svc:3200", sources["Tempo"]["url"])
				} else {
					assert.NotContains(t, sources, "Tempo")
				}
			}
		})
	}
}

// kube-prometheus-stack runs additionalDataSources, and Promtail its clients, through Helm's tpl: a "{{" in them
// would be evaluated by Helm.
func TestValuesHelmTemplatesWouldEvaluateHoldNoTemplates(t *testing.T) {
	for _, env := range environments {
		a := chartArgs(env, true)
		for _, v := range []any{
			at(t, KubePrometheusStack(a).Values, "grafana", "additionalDataSources"),
			at(t, Promtail(a).Values, "config"),
		} {
			raw, err := yaml.Marshal(v)
			require.NoError(t, err)
			assert.NotContains(t, string(raw), "{{")
		}
	}
}

func TestNodeExporterPortsDifferPerEnvironment(t *testing.T) {
	seen := map[int]string{}
	for _, env := range environments {
		p := NodeExporterPort(env)
		assert.NotContains(t, seen, p, "%s shares its port with %s", env, seen[p])
		seen[p] = env
		v := KubePrometheusStack(chartArgs(env, false)).Values
		assert.Equal(t, p, at(t, v, "prometheus-node-exporter", "service", "port"))
		assert.Equal(t, p, at(t, v, "prometheus-node-exporter", "service", "targetPort"))
	}
}

func TestLokiIsMultiTenantSingleBinary(t *testing.T) {
	for _, env := range environments {
		v := Loki(chartArgs(env, false)).Values
		assert.Equal(t, "SingleBinary", v["deploymentMode"])
		assert.Equal(t, "loki", v["fullnameOverride"], "the gateway Service is loki-gateway")
		assert.Equal(t, true, at(t, v, "loki", "auth_enabled"), "every push and query names its tenant")
		assert.Equal(t, RetentionFor(env).Logs, at(t, v, "loki", "limits_config", "retention_period"))
		assert.Equal(t, true, at(t, v, "loki", "compactor", "retention_enabled"), "retention is applied by the compactor")
		assert.Equal(t, 1, at(t, v, "singleBinary", "replicas"))
		for _, target := range []string{"read", "write", "backend"} {
			assert.Equal(t, 0, at(t, v, target, "replicas"), target)
		}
		assert.Equal(t, true, at(t, v, "rbac", "namespaced"))
	}
	assert.Equal(t, "720h", RetentionFor("production").Logs)
	assert.Equal(t, "168h", RetentionFor("development").Logs)
}

func TestPromtailPushesAsTheEnvironmentsTenant(t *testing.T) {
	for _, env := range environments {
		v := Promtail(chartArgs(env, false)).Values
		clients := at(t, v, "config", "clients").([]any)
		require.Len(t, clients, 1)
		assert.Equal(t, map[string]any{
			"url":             "http://loki-gateway." + env + "-monitoring.svc/loki/api/v1/push",
			"tenant_id":       env,
			"external_labels": map[string]any{"environment": env},
		}, clients[0])
		keep := at(t, v, "config", "snippets", "extraRelabelConfigs").([]any)[0].(map[string]any)
		assert.Equal(t, "keep", keep["action"])
		assert.Equal(t, env+"-monitoring|"+env+"-apps|"+env+"-ingress", keep["regex"])
		assert.Equal(t, "/run/promtail/positions-"+env+".yaml", at(t, v, "config", "positions", "filename"))
	}
}

func TestTempo(t *testing.T) {
	v := Tempo(chartArgs("production", true)).Values
	assert.Equal(t, "tempo", v["fullnameOverride"])
	assert.Equal(t, "168h", at(t, v, "tempo", "retention"))
	assert.Equal(t, true, at(t, v, "persistence", "enabled"))
}
