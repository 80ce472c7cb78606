package sampleservice

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/monitoring"
	"github.com/platform-eng/lke-platform/quota"
)

const promtool = "/usr/bin/promtool"

var environments = []string{"development", "staging", "production", "system"}

func testArgs(env string) *Args {
	issuer := "letsencrypt-staging"
	if env == "production" {
		issuer = "letsencrypt-production"
	}
	return &Args{
		Environment: env,
		Namespace:   env + "-apps",
		Labels: map[string]string{
			"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "lke-platform",
			"platform.lke/environment": env,
		},
		Image:         "ghcr.io/platform-eng/sample-service:1.0.0",
		Host:          "sample-service." + env + ".example.net",
		IngressClass:  "nginx",
		ClusterIssuer: issuer,
		SecretName:    "sample-service-secrets",
		Resources: quota.Profile{
			CPURequest: resource.MustParse("100m"), CPULimit: resource.MustParse("500m"),
			MemoryRequest: resource.MustParse("128Mi"), MemoryLimit: resource.MustParse("256Mi"),
			MinReplicas: 2, MaxReplicas: 5,
		},
	}
}

// run deploys the component as the lead does: production passes protect, which every child inherits.
func run(t *testing.T, args *Args) *mocks.Recorder {
	t.Helper()
	rec, err := mocks.Run(t, args.Environment, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "sample-service", args, pulumi.Protect(args.Environment == "production"))
		return err
	})
	require.NoError(t, err)
	return rec
}

const (
	deploymentType     = "kubernetes:apps/v1:Deployment"
	serviceType        = "kubernetes:core/v1:Service"
	ingressType        = "kubernetes:networking.k8s.io/v1:Ingress"
	hpaType            = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	pdbType            = "kubernetes:policy/v1:PodDisruptionBudget"
	serviceMonitorType = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
	ruleType           = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
)

func inputs(t *testing.T, rec *mocks.Recorder, token string) map[string]any {
	t.Helper()
	return rec.One(t, token, "sample-service").Inputs.Mappable()
}

func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "not an object at %v", p)
			v = m[k]
		case int:
			l, ok := v.([]any)
			require.True(t, ok, "not a list at %v", p)
			require.Greater(t, len(l), k)
			v = l[k]
		}
	}
	return v
}

func TestEveryObjectIsNamedLabelledAndInTheNamespace(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			rec := run(t, testArgs(env))
			wantLabels := map[string]any{
				"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "lke-platform",
				"platform.lke/environment": env, "app.kubernetes.io/name": "sample-service",
			}
			for _, token := range []string{deploymentType, serviceType, ingressType, hpaType, pdbType, serviceMonitorType, ruleType} {
				r := rec.One(t, token, "sample-service")
				meta := at(t, r.Inputs.Mappable(), "metadata")
				assert.Equal(t, "sample-service", at(t, meta, "name"), token)
				assert.Equal(t, env+"-apps", at(t, meta, "namespace"), token)
				assert.Equal(t, wantLabels, at(t, meta, "labels"), token)
				assert.Contains(t, r.Parent, "platform:sampleservice:SampleService::sample-service", token)
				assert.Equal(t, env == "production", r.Protect, "%s protect", token)
			}
			assert.Len(t, rec.Resources(), 8, "the component and its seven objects")
		})
	}
}

func TestDeployment(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			rec := run(t, testArgs(env))
			dep := inputs(t, rec, deploymentType)
			spec := at(t, dep, "spec").(map[string]any)
			assert.NotContains(t, spec, "replicas", "the HPA owns the replica count")
			assert.Equal(t, map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "sample-service"}}, spec["selector"])
			assert.Equal(t, map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxUnavailable": 0.0, "maxSurge": 1.0}}, spec["strategy"])
			assert.Equal(t, env, at(t, spec, "template", "metadata", "labels", "platform.lke/environment"))
			assert.Equal(t, "sample-service", at(t, spec, "template", "metadata", "labels", "app.kubernetes.io/name"))

			pod := at(t, spec, "template", "spec").(map[string]any)
			assert.Equal(t, false, pod["automountServiceAccountToken"])
			assert.Equal(t, map[string]any{
				"runAsNonRoot": true, "runAsUser": 65532.0, "runAsGroup": 65532.0, "fsGroup": 65532.0,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"},
			}, pod["securityContext"])
			assert.Equal(t, []any{map[string]any{
				"name": "secrets", "secret": map[string]any{"secretName": "sample-service-secrets", "defaultMode": 288.0},
			}}, pod["volumes"])

			containers := pod["containers"].([]any)
			require.Len(t, containers, 1)
			c := containers[0].(map[string]any)
			assert.Equal(t, "ghcr.io/platform-eng/sample-service:1.0.0", c["image"])
			assert.Equal(t, []any{map[string]any{"name": "http", "containerPort": 8080.0, "protocol": "TCP"}}, c["ports"])
			probe := map[string]any{"path": "/healthz", "port": "http"}
			assert.Equal(t, probe, at(t, c, "livenessProbe", "httpGet"))
			assert.Equal(t, probe, at(t, c, "readinessProbe", "httpGet"))
			assert.Equal(t, map[string]any{
				"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
				"limits":   map[string]any{"cpu": "500m", "memory": "256Mi"},
			}, c["resources"])
			assert.Equal(t, map[string]any{
				"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 65532.0,
				"capabilities":   map[string]any{"drop": []any{"ALL"}},
				"seccompProfile": map[string]any{"type": "RuntimeDefault"},
			}, c["securityContext"])
			assert.Equal(t, []any{map[string]any{"name": "secrets", "mountPath": "/etc/sample-service/secrets", "readOnly": true}}, c["volumeMounts"])
			assert.Contains(t, c["env"], map[string]any{"name": "SECRETS_DIR", "value": "/etc/sample-service/secrets"})
			assert.Contains(t, c["env"], map[string]any{"name": "LISTEN_ADDR", "value": ":8080"})

			// Nothing may turn the provider's await off: `up` returns only once the Deployment is Available.
			assert.Nil(t, at(t, dep, "metadata", "annotations"))
			assert.Empty(t, rec.One(t, deploymentType, "sample-service").IgnoreChanges)
		})
	}
}

func TestServiceAndIngress(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			args := testArgs(env)
			rec := run(t, args)
			assert.Equal(t, map[string]any{
				"type":     "ClusterIP",
				"selector": map[string]any{"app.kubernetes.io/name": "sample-service"},
				"ports":    []any{map[string]any{"name": "http", "port": 80.0, "targetPort": "http", "protocol": "TCP"}},
			}, at(t, inputs(t, rec, serviceType), "spec"))

			ing := inputs(t, rec, ingressType)
			assert.Equal(t, map[string]any{
				"cert-manager.io/cluster-issuer": args.ClusterIssuer,
				"pulumi.com/skipAwait":           "true",
			}, at(t, ing, "metadata", "annotations"))
			host := "sample-service." + env + ".example.net"
			assert.Equal(t, map[string]any{
				"ingressClassName": "nginx",
				"tls":              []any{map[string]any{"hosts": []any{host}, "secretName": "sample-service-tls"}},
				"rules": []any{map[string]any{"host": host, "http": map[string]any{"paths": []any{map[string]any{
					"path": "/", "pathType": "Prefix",
					"backend": map[string]any{"service": map[string]any{"name": "sample-service", "port": map[string]any{"name": "http"}}},
				}}}}},
			}, at(t, ing, "spec"))
		})
	}
	prod := at(t, inputs(t, run(t, testArgs("production")), ingressType), "metadata", "annotations", "cert-manager.io/cluster-issuer")
	assert.Equal(t, "letsencrypt-production", prod)
}

func TestAutoscalingAndDisruptionBudget(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			rec := run(t, testArgs(env))
			assert.Equal(t, map[string]any{
				"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "sample-service"},
				"minReplicas":    2.0, "maxReplicas": 5.0,
				"metrics": []any{map[string]any{"type": "Resource", "resource": map[string]any{
					"name": "cpu", "target": map[string]any{"type": "Utilization", "averageUtilization": 70.0},
				}}},
			}, at(t, inputs(t, rec, hpaType), "spec"))
			assert.Equal(t, map[string]any{
				"maxUnavailable":             1.0,
				"selector":                   map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "sample-service"}},
				"unhealthyPodEvictionPolicy": "AlwaysAllow",
			}, at(t, inputs(t, rec, pdbType), "spec"))
		})
	}
}

func TestMonitoring(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			rec := run(t, testArgs(env))
			assert.Equal(t, map[string]any{
				"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "sample-service"}},
				"endpoints": []any{map[string]any{"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}},
			}, at(t, inputs(t, rec, serviceMonitorType), "spec"))

			rule := at(t, inputs(t, rec, ruleType), "spec", "groups", 0, "rules", 0).(map[string]any)
			ns := env + "-apps"
			assert.Equal(t, "SampleServiceDown", rule["alert"])
			assert.Equal(t, `absent(sample_service_up{namespace="`+ns+`"}) or sample_service_up{namespace="`+ns+`"} == 0`, rule["expr"])
			assert.Equal(t, "1m", rule["for"])
			assert.Equal(t, map[string]any{"severity": "critical", "environment": env}, rule["labels"])
			assert.Equal(t, monitoring.RunbookURL(AlertName), at(t, rule, "annotations", "runbook_url"))
			assert.NotEmpty(t, at(t, rule, "annotations", "summary"))
			assert.NotEmpty(t, at(t, rule, "annotations", "description"))
		})
	}
}

// TestEnvironmentsDifferOnlyInTheirOwnValues: given the same namespace, host and issuer, every object of every
// environment (production included) is the same once the environment's name is blanked out of the values: the
// environments differ only in those inputs and in protect, which the tests above check.
func TestEnvironmentsDifferOnlyInTheirOwnValues(t *testing.T) {
	render := func(env string) map[string]any {
		args := testArgs(env)
		args.Namespace, args.Host, args.ClusterIssuer = "apps", "sample-service.example.net", "issuer"
		out := map[string]any{}
		for _, r := range run(t, args).Resources() {
			out[r.Type] = blank(r.Inputs.Mappable(), env)
		}
		return out
	}
	want := render("staging")
	for _, env := range environments {
		assert.Equal(t, want, render(env), env)
	}
}

// blank replaces env in every string value (never in keys) with "ENV".
func blank(v any, env string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = blank(e, env)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = blank(e, env)
		}
		return out
	case string:
		return strings.ReplaceAll(x, env, "ENV")
	default:
		return v
	}
}

func TestArgsAreValidated(t *testing.T) {
	args := testArgs("staging")
	args.Image, args.SecretName = "", ""
	args.Resources.MaxReplicas = 1
	_, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "sample-service", args)
		return err
	})
	require.Error(t, err)
	for _, want := range []string{"Image is empty", "SecretName is empty", "replicas 2..1"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestScrapeEndpoint(t *testing.T) {
	assert.Equal(t, monitoring.Endpoint{Port: "http", Path: "/metrics", Interval: "30s", ScrapeTimeout: "10s"}, ScrapeEndpoint())
}

func writeRules(t *testing.T, dir, env, namespace string) {
	t.Helper()
	out, err := monitoring.RulesFile(AlertRules(env, namespace))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), out, 0o600))
}

func TestPromtoolChecksTheAlertRules(t *testing.T) {
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed", promtool)
	}
	for _, env := range environments {
		dir := t.TempDir()
		writeRules(t, dir, env, env+"-apps")
		res, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "rules.yaml")).CombinedOutput()
		require.NoError(t, err, "%s", res)
	}
}

// TestAlertFiresWhenDownOrAbsent runs the rule through `promtool test rules`: it fires a minute after the gauge
// drops to 0, fires when no series of the namespace exists at all, and ignores another environment's series.
func TestAlertFiresWhenDownOrAbsent(t *testing.T) {
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed", promtool)
	}
	const env, ns = "staging", "staging-apps"
	dir := t.TempDir()
	writeRules(t, dir, env, ns)
	annotations := AlertRules(env, ns)[0].Rules[0].Annotations
	alert := func(labels map[string]string) map[string]any {
		return map[string]any{"exp_labels": labels, "exp_annotations": annotations}
	}
	none := []map[string]any{}
	tests := map[string]any{
		"rule_files":          []string{"rules.yaml"},
		"evaluation_interval": "1m",
		"tests": []map[string]any{
			{
				"interval": "1m",
				"input_series": []map[string]any{
					{"series": `sample_service_up{namespace="staging-apps",pod="a"}`, "values": "1 1 0 0 0 0"},
				},
				"alert_rule_test": []map[string]any{
					{"eval_time": "1m", "alertname": AlertName, "exp_alerts": none},
					{"eval_time": "2m", "alertname": AlertName, "exp_alerts": none}, // pending, not yet firing
					{"eval_time": "4m", "alertname": AlertName, "exp_alerts": []map[string]any{alert(map[string]string{
						"severity": "critical", "environment": env, "namespace": ns, "pod": "a",
					})}},
				},
			},
			{
				"interval": "1m",
				"input_series": []map[string]any{
					{"series": `sample_service_up{namespace="production-apps",pod="b"}`, "values": "1 1 1 1"},
				},
				"alert_rule_test": []map[string]any{
					{"eval_time": "2m", "alertname": AlertName, "exp_alerts": []map[string]any{alert(map[string]string{
						"severity": "critical", "environment": env, "namespace": ns,
					})}},
				},
			},
			{
				"interval": "1m",
				"input_series": []map[string]any{
					{"series": `sample_service_up{namespace="staging-apps",pod="a"}`, "values": "1 1 1 1"},
				},
				"alert_rule_test": []map[string]any{{"eval_time": "3m", "alertname": AlertName, "exp_alerts": none}},
			},
		},
	}
	raw, err := yaml.Marshal(tests)
	require.NoError(t, err)
	path := filepath.Join(dir, "tests.yaml")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	res, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
	require.NoError(t, err, "%s\n%s", res, raw)
}
