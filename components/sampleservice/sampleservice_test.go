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

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/internal/helmrender"
	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/internal/names"
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
		ArgoCDNamespace: "argocd",
		RepoURL:         "https://github.com/platform-eng/lke-platform.git",
		Revision:        "main",
		AutoSync:        env != "production",
	}
}

// run deploys the component as the lead does: production passes protect.
func run(t *testing.T, args *Args) (*mocks.Recorder, *SampleService) {
	t.Helper()
	var s *SampleService
	rec, err := mocks.Run(t, args.Environment, nil, func(ctx *pulumi.Context) error {
		var err error
		s, err = New(ctx, "sample-service", args, pulumi.Protect(args.Environment == "production"))
		return err
	})
	require.NoError(t, err)
	return rec, s
}

const componentType = "platform:sampleservice:SampleService"

// Kinds of the chart's objects, as apiVersion:kind.
const (
	deploymentKind     = "apps/v1:Deployment"
	serviceKind        = "v1:Service"
	ingressKind        = "networking.k8s.io/v1:Ingress"
	hpaKind            = "autoscaling/v2:HorizontalPodAutoscaler"
	pdbKind            = "policy/v1:PodDisruptionBudget"
	serviceMonitorKind = "monitoring.coreos.com/v1:ServiceMonitor"
	ruleKind           = "monitoring.coreos.com/v1:PrometheusRule"
)

var chartKinds = []string{deploymentKind, serviceKind, ingressKind, hpaKind, pdbKind, serviceMonitorKind, ruleKind}

// render renders charts/sample-service with Helm's SDK as Argo CD does for the component's Application: its
// release name, its destination namespace and its values. Objects come back by apiVersion:kind, as JSON data.
func render(t *testing.T, args *Args) map[string]map[string]any {
	t.Helper()
	app := Application(args)
	rendered, err := helmrender.Render(chartDir,
		helmrender.Release{Name: app.Spec.Source.Helm.ReleaseName, Namespace: app.Spec.Destination.Namespace},
		app.Spec.Source.Helm.ValuesObject)
	require.NoError(t, err)
	out := map[string]map[string]any{}
	for _, obj := range rendered {
		key := obj.GetAPIVersion() + ":" + obj.GetKind()
		require.NotContains(t, out, key, "the chart renders one object per kind")
		out[key] = normalize(t, obj.Object)
	}
	return out
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

// TestTheComponentIsTheApplication: the component registers nothing but itself (protected on production) and
// builds one object, the Application that renders charts/sample-service from the platform repository with
// Values, synced by Argo CD on its own outside production and by an operator on production, and retried as every
// child of the root Application is.
func TestTheComponentIsTheApplication(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			args := testArgs(env)
			rec, s := run(t, args)
			require.Len(t, rec.Resources(), 1, "the component only: its Application is data for the root Application")
			c := rec.One(t, componentType, "sample-service")
			assert.Equal(t, env == "production", c.Protect, "protect")

			assert.Equal(t, Application(args), s.Application)
			app := manifest.Untyped(s.Application)
			assert.Equal(t, "argoproj.io/v1alpha1", app["apiVersion"])
			assert.Equal(t, "Application", app["kind"])
			assert.Equal(t, "platform-"+env+"-sample-service", at(t, app, "metadata", "name"))
			assert.Equal(t, "argocd", at(t, app, "metadata", "namespace"))
			assert.Equal(t, "sample-service", at(t, app, "metadata", "labels", "app.kubernetes.io/name"))
			assert.Equal(t, env, at(t, app, "metadata", "labels", "platform.lke/environment"))
			spec := at(t, app, "spec").(map[string]any)
			assert.Equal(t, "platform-"+env, spec["project"])
			assert.Equal(t, map[string]any{
				"repoURL": args.RepoURL, "path": "charts/sample-service", "targetRevision": "main",
				"helm": map[string]any{"releaseName": "sample-service", "valuesObject": normalize(t, args.Values())},
			}, spec["source"])
			assert.Equal(t, map[string]any{"server": "https://kubernetes.default.svc", "namespace": env + "-apps"}, spec["destination"])
			policy := spec["syncPolicy"].(map[string]any)
			assert.Equal(t, []any{"CreateNamespace=false", "ServerSideApply=true"}, policy["syncOptions"])
			assert.Equal(t, manifest.Untyped(gitops.ChildRetry), policy["retry"])
			if env == "production" {
				assert.NotContains(t, policy, "automated", "production syncs only by hand")
			} else {
				assert.Equal(t, map[string]any{"prune": true, "selfHeal": true}, policy["automated"])
			}
		})
	}
}

func TestEveryObjectIsNamedLabelledAndInTheNamespace(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			objs := render(t, testArgs(env))
			wantLabels := map[string]any{
				"app.kubernetes.io/managed-by": "argocd", "app.kubernetes.io/part-of": "lke-platform",
				"platform.lke/environment": env, "app.kubernetes.io/name": "sample-service",
			}
			require.Len(t, objs, len(chartKinds))
			for _, kind := range chartKinds {
				require.Contains(t, objs, kind)
				meta := at(t, objs[kind], "metadata")
				assert.Equal(t, "sample-service", at(t, meta, "name"), kind)
				assert.Equal(t, env+"-apps", at(t, meta, "namespace"), kind)
				assert.Equal(t, wantLabels, at(t, meta, "labels"), kind)
			}
		})
	}
}

func TestDeployment(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			dep := render(t, testArgs(env))[deploymentKind]
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

			assert.Nil(t, at(t, dep, "metadata", "annotations"))
		})
	}
}

func TestServiceAndIngress(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			args := testArgs(env)
			objs := render(t, args)
			assert.Equal(t, map[string]any{
				"type":     "ClusterIP",
				"selector": map[string]any{"app.kubernetes.io/name": "sample-service"},
				"ports":    []any{map[string]any{"name": "http", "port": 80.0, "targetPort": "http", "protocol": "TCP"}},
			}, at(t, objs[serviceKind], "spec"))

			ing := objs[ingressKind]
			assert.Equal(t, map[string]any{"cert-manager.io/cluster-issuer": args.ClusterIssuer}, at(t, ing, "metadata", "annotations"))
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
	prod := at(t, render(t, testArgs("production"))[ingressKind], "metadata", "annotations", "cert-manager.io/cluster-issuer")
	assert.Equal(t, "letsencrypt-production", prod)
}

func TestAutoscalingAndDisruptionBudget(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			objs := render(t, testArgs(env))
			assert.Equal(t, map[string]any{
				"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "sample-service"},
				"minReplicas":    2.0, "maxReplicas": 5.0,
				"metrics": []any{map[string]any{"type": "Resource", "resource": map[string]any{
					"name": "cpu", "target": map[string]any{"type": "Utilization", "averageUtilization": 70.0},
				}}},
			}, at(t, objs[hpaKind], "spec"))
			assert.Equal(t, map[string]any{
				"maxUnavailable":             1.0,
				"selector":                   map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "sample-service"}},
				"unhealthyPodEvictionPolicy": "AlwaysAllow",
			}, at(t, objs[pdbKind], "spec"))
		})
	}
}

func TestMonitoring(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			objs := render(t, testArgs(env))
			assert.Equal(t, map[string]any{
				"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "sample-service"}},
				"endpoints": []any{map[string]any{"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}},
			}, at(t, objs[serviceMonitorKind], "spec"))

			rule := at(t, objs[ruleKind], "spec", "groups", 0, "rules", 0).(map[string]any)
			ns := env + "-apps"
			assert.Equal(t, "SampleServiceDown", rule["alert"])
			up := names.SampleServiceUpMetric + `{namespace="` + ns + `"}`
			assert.Equal(t, "absent("+up+") or "+up+" == 0", rule["expr"])
			assert.Equal(t, "1m", rule["for"])
			assert.Equal(t, map[string]any{"severity": "critical", "environment": env}, rule["labels"])
			assert.Equal(t, monitoring.RunbookURL(AlertName), at(t, rule, "annotations", "runbook_url"))
			assert.NotEmpty(t, at(t, rule, "annotations", "summary"))
			assert.NotEmpty(t, at(t, rule, "annotations", "description"))
		})
	}
}

// TestEnvironmentsDifferOnlyInTheirOwnValues: given the same namespace, host and issuer, the Application and
// every object of every environment (production included) are the same once the environment's name is blanked
// out of the values: the environments differ only in those inputs, in protect and in production's manual sync,
// which the tests above check.
func TestEnvironmentsDifferOnlyInTheirOwnValues(t *testing.T) {
	render := func(env string) map[string]any {
		args := testArgs(env)
		args.Namespace, args.Host, args.ClusterIssuer = "apps", "sample-service.example.net", "issuer"
		out := map[string]any{}
		for kind, obj := range render(t, args) {
			out[kind] = blank(obj, env)
		}
		rec, s := run(t, args)
		for _, r := range rec.Resources() {
			out[r.Type] = blank(r.Inputs.Mappable(), env)
		}
		out["Application"] = blank(manifest.Untyped(s.Application), env)
		// The one thing that differs by design: production waits for an operator's sync.
		delete(at(t, out["Application"], "spec", "syncPolicy").(map[string]any), "automated")
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
	args.Image, args.SecretName, args.RepoURL = "", "", ""
	args.Resources.MaxReplicas = 1
	_, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "sample-service", args)
		return err
	})
	require.Error(t, err)
	for _, want := range []string{"Image is empty", "SecretName is empty", "RepoURL is empty", "replicas 2..1"} {
		assert.ErrorContains(t, err, want)
	}
}

// writeRules writes the groups of the chart's PrometheusRule, rendered for env, as a Prometheus rule file, and
// returns the alert's annotations.
func writeRules(t *testing.T, dir, env string) map[string]any {
	t.Helper()
	rule := render(t, testArgs(env))[ruleKind]
	out, err := yaml.Marshal(map[string]any{"groups": at(t, rule, "spec", "groups")})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), out, 0o600))
	return at(t, rule, "spec", "groups", 0, "rules", 0, "annotations").(map[string]any)
}

func TestPromtoolChecksTheAlertRules(t *testing.T) {
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("%s not installed", promtool)
	}
	for _, env := range environments {
		dir := t.TempDir()
		writeRules(t, dir, env)
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
	annotations := writeRules(t, dir, env)
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
