package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/manifest"
)

const promtool = "/usr/bin/promtool"

func sampleGroups() []RuleGroup {
	return []RuleGroup{{
		Name:     "example",
		Interval: "30s",
		Rules: []Rule{
			{Record: "job:up:sum", Expr: `sum by (job) (up)`},
			{
				Alert:       "ExampleDown",
				Expr:        `absent(up{namespace="staging-apps"}) or up{namespace="staging-apps"} == 0`,
				For:         "1m",
				Labels:      map[string]string{"severity": "critical", "environment": "staging"},
				Annotations: map[string]string{"summary": "it is down", "description": `{{ $labels.job }} is "down"`},
			},
		},
	}}
}

func TestRulesFileIsAPrometheusRuleFile(t *testing.T) {
	out, err := RulesFile(sampleGroups())
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, yaml.Unmarshal(out, &got))
	assert.Equal(t, map[string]any{"groups": []any{map[string]any{
		"name": "example", "interval": "30s",
		"rules": []any{
			map[string]any{"record": "job:up:sum", "expr": "sum by (job) (up)"},
			map[string]any{
				"alert":  "ExampleDown",
				"expr":   `absent(up{namespace="staging-apps"}) or up{namespace="staging-apps"} == 0`,
				"for":    "1m",
				"labels": map[string]any{"severity": "critical", "environment": "staging"},
				"annotations": map[string]any{
					"summary": "it is down", "description": `{{ $labels.job }} is "down"`,
				},
			},
		},
	}}}, got)
}

func TestPromtoolAcceptsTheRulesFile(t *testing.T) {
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed", promtool)
	}
	out, err := RulesFile(sampleGroups())
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	res, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	require.NoError(t, err, "%s\n%s", res, out)
	assert.Contains(t, string(res), "SUCCESS: 2 rules found")
}

func TestPromtoolRejectsABrokenRule(t *testing.T) {
	// Guards the test above: promtool really parses what RulesFile writes.
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed", promtool)
	}
	out, err := RulesFile([]RuleGroup{{Name: "broken", Rules: []Rule{{Alert: "Broken", Expr: "up ==="}}}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	_, err = exec.Command(promtool, "check", "rules", path).CombinedOutput()
	assert.Error(t, err)
}

func TestScrapeConfigCarriesTheEndpointSettings(t *testing.T) {
	ep := Endpoint{Port: "http", Path: "/metrics", Interval: "30s", ScrapeTimeout: "10s"}
	job := ScrapeConfig("sample-service", ep, []string{"127.0.0.1:8080"}, map[string]string{"namespace": "staging-apps"})
	assert.Equal(t, ScrapeJob{
		JobName: "sample-service", MetricsPath: "/metrics", ScrapeInterval: "30s", ScrapeTimeout: "10s",
		StaticConfigs: []StaticConfig{{Targets: []string{"127.0.0.1:8080"}, Labels: map[string]string{"namespace": "staging-apps"}}},
	}, job)

	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed", promtool)
	}
	dir := t.TempDir()
	rules, err := RulesFile(sampleGroups())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o600))
	cfg, err := PrometheusConfig{
		Global:        GlobalConfig{EvaluationInterval: "15s", ExternalLabels: map[string]string{"environment": "staging"}},
		RuleFiles:     []string{"rules.yaml"},
		ScrapeConfigs: []ScrapeJob{job},
	}.YAML()
	require.NoError(t, err)
	path := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(path, cfg, 0o600))
	res, err := exec.Command(promtool, "check", "config", path).CombinedOutput()
	require.NoError(t, err, "%s\n%s", res, cfg)
}

func TestEndpointDecodesFromARenderedServiceMonitor(t *testing.T) {
	var ep Endpoint
	require.NoError(t, yaml.Unmarshal([]byte("port: http\npath: /metrics\ninterval: 30s\nscrapeTimeout: 10s\n"), &ep))
	assert.Equal(t, Endpoint{Port: "http", Path: "/metrics", Interval: "30s", ScrapeTimeout: "10s"}, ep)
}

func TestPrometheusRuleIsTheGroupsAsAnObject(t *testing.T) {
	labels := map[string]string{"platform.lke/environment": "staging"}
	obj, err := PrometheusRule("example", "staging-apps", labels, sampleGroups())
	require.NoError(t, err)
	in := manifest.Untyped(obj)
	assert.Equal(t, "monitoring.coreos.com/v1", in["apiVersion"])
	assert.Equal(t, "PrometheusRule", in["kind"])
	assert.Equal(t, map[string]any{"name": "example", "namespace": "staging-apps", "labels": map[string]any{"platform.lke/environment": "staging"}}, in["metadata"])
	groups := in["spec"].(map[string]any)["groups"].([]any)
	require.Len(t, groups, 1)
	rules := groups[0].(map[string]any)["rules"].([]any)
	assert.Equal(t, map[string]any{"record": "job:up:sum", "expr": "sum by (job) (up)"}, rules[0])
	assert.Equal(t, "ExampleDown", rules[1].(map[string]any)["alert"])

	_, err = PrometheusRule("example", "staging-apps", labels, nil)
	assert.ErrorContains(t, err, "no rule groups")
}
