package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/mocks"
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

func TestCustomResources(t *testing.T) {
	labels := map[string]string{"platform.lke/environment": "staging"}
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		if _, err := NewPrometheusRule(ctx, "example", "staging-apps", labels, sampleGroups()); err != nil {
			return err
		}
		_, err := NewServiceMonitor(ctx, "example", &ServiceMonitorArgs{
			Namespace: "staging-apps", Labels: labels,
			Selector:  map[string]string{"app.kubernetes.io/name": "example"},
			Endpoints: []Endpoint{{Port: "http", Path: "/metrics", Interval: "30s", ScrapeTimeout: "10s"}},
		})
		return err
	})
	require.NoError(t, err)
	// The provider's type token for a custom object is "kubernetes:<apiVersion>:<kind>".
	crs := append(rec.OfType("kubernetes:monitoring.coreos.com/v1:PrometheusRule"),
		rec.OfType("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")...)
	require.Len(t, crs, 2)
	byKind := map[string]map[string]any{}
	for _, cr := range crs {
		in := cr.Inputs.Mappable()
		assert.Equal(t, "monitoring.coreos.com/v1", in["apiVersion"])
		assert.Equal(t, map[string]any{"name": "example", "namespace": "staging-apps", "labels": map[string]any{"platform.lke/environment": "staging"}}, in["metadata"])
		byKind[in["kind"].(string)] = in["spec"].(map[string]any)
	}
	assert.Equal(t, map[string]any{
		"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "example"}},
		"endpoints": []any{map[string]any{"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}},
	}, byKind["ServiceMonitor"])
	groups := byKind["PrometheusRule"]["groups"].([]any)
	require.Len(t, groups, 1)
	rules := groups[0].(map[string]any)["rules"].([]any)
	assert.Equal(t, map[string]any{"record": "job:up:sum", "expr": "sum by (job) (up)"}, rules[0])
	assert.Equal(t, "ExampleDown", rules[1].(map[string]any)["alert"])
}

func TestServiceMonitorRefusesAnEmptySelector(t *testing.T) {
	_, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		_, err := NewServiceMonitor(ctx, "example", &ServiceMonitorArgs{Namespace: "x", Endpoints: []Endpoint{{Port: "http"}}})
		return err
	})
	assert.ErrorContains(t, err, "empty selector")
}
