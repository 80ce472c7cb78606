package gitops

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

const repoURL = "https://github.com/platform-eng/lke-platform.git"

// retention is typed values inside a chart's values: marshalled by its json tags.
type retention struct {
	Days  int    `json:"days"`
	Class string `json:"storageClass,omitempty"`
}

func testCharts() []Chart {
	return []Chart{
		{
			Name: "ingress-nginx", Namespace: "ingress-nginx", RepoURL: "https://kubernetes.github.io/ingress-nginx",
			Chart: "ingress-nginx", Version: "4.12.1",
			Values: map[string]any{"controller": map[string]any{"replicaCount": 2, "ingressClass": "nginx"}},
		},
		{
			Name: "cert-manager", Namespace: "cert-manager", RepoURL: "https://charts.jetstack.io",
			Chart: "cert-manager", Version: "v1.21.2",
			Values: map[string]any{"crds": map[string]any{"enabled": false}},
		},
		{
			Name: "loki", Namespace: "monitoring", RepoURL: "https://grafana.github.io/helm-charts",
			Chart: "loki", Version: "6.30.0",
			Values: map[string]any{"retention": retention{Days: 14}, "limits": map[string]any{"ingestionBytes": 1000000}},
		},
		{
			Name: "promtail", Namespace: "monitoring", RepoURL: "https://grafana.github.io/helm-charts",
			Chart: "promtail", Version: "6.16.6",
		},
	}
}

func infraArgs(env string) *InfrastructureArgs {
	return &InfrastructureArgs{
		Environment: env, Namespace: env + "-argocd", Labels: labelsFor(env),
		RepoURL: repoURL, Revision: "main", AutoSync: env != "production", Charts: testCharts(),
	}
}

func runInfrastructure(t *testing.T, env string) (*monitor, *Infrastructure) {
	t.Helper()
	var inf *Infrastructure
	m := run(t, env, func(ctx *pulumi.Context) error {
		var err error
		inf, err = NewInfrastructure(ctx, env, infraArgs(env))
		return err
	})
	return m, inf
}

const (
	customResourceType = "kubernetes:argoproj.io/v1alpha1:"
	secretType         = "kubernetes:core/v1:Secret"
)

func TestInfrastructureObjectsAreNamedAndLabelledForTheEnvironment(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, inf := runInfrastructure(t, env)
			project := m.One(t, customResourceType+"AppProject", "platform-"+env)
			appSet := m.One(t, customResourceType+"ApplicationSet", "platform-"+env+"-infrastructure")
			secret := m.One(t, secretType, "platform-"+env+"-repository")
			for _, r := range []mocks.Resource{project, appSet, secret} {
				md := meta(r)
				assert.Equal(t, r.Name, md["name"])
				assert.Equal(t, env+"-argocd", md["namespace"], r.Name)
				for k, v := range labelsFor(env) {
					assert.Equal(t, v, md["labels"].(map[string]any)[k], "%s label %s", r.Name, k)
				}
				assert.Contains(t, r.Parent, "platform:gitops:Infrastructure::"+env)
			}
			assert.Equal(t, "argoproj.io/v1alpha1", appSet.Inputs.Mappable()["apiVersion"])
			assert.Equal(t, map[string]any{RevisionAnnotation: "main"}, meta(appSet)["annotations"])
			assert.Equal(t, []string{
				"platform-" + env + "-ingress-nginx", "platform-" + env + "-cert-manager",
				"platform-" + env + "-loki", "platform-" + env + "-promtail",
			}, inf.Applications)

			// The ApplicationSet waits for the project its Applications belong to.
			var deps []string
			for _, urn := range m.dependsOn(appSet) {
				deps = append(deps, urnName(urn))
			}
			assert.Equal(t, []string{"platform-" + env}, deps)
		})
	}
}

func TestRepositoryIsRegisteredWithoutCredentials(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, _ := runInfrastructure(t, env)
			r := m.One(t, secretType, "platform-"+env+"-repository")
			assert.Equal(t, "repository", meta(r)["labels"].(map[string]any)["argocd.argoproj.io/secret-type"])
			// The SDK marks a Secret's stringData secret whatever it holds; here it is only the URL and project.
			stringData := r.Inputs["stringData"]
			require.True(t, stringData.IsSecret())
			assert.Equal(t, map[string]any{"type": "git", "url": repoURL, "project": "platform-" + env},
				stringData.SecretValue().Element.ObjectValue().Mappable())
			assert.NotContains(t, r.Inputs, "data")
		})
	}
}

func TestAppProjectAllowsTheChartsAndNothingElse(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, _ := runInfrastructure(t, env)
			spec := m.One(t, customResourceType+"AppProject", "platform-"+env).Inputs.Mappable()["spec"].(map[string]any)
			assert.Equal(t, []any{
				"https://charts.jetstack.io", repoURL, "https://grafana.github.io/helm-charts",
				"https://kubernetes.github.io/ingress-nginx",
			}, spec["sourceRepos"])
			dest := func(ns string) map[string]any {
				return map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns}
			}
			assert.Equal(t, []any{dest("cert-manager"), dest("ingress-nginx"), dest("monitoring")}, spec["destinations"])
			assert.NotContains(t, spec["clusterResourceWhitelist"], map[string]any{"group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition"})
			assert.Contains(t, spec["clusterResourceWhitelist"], map[string]any{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"})
			assert.Equal(t, []any{
				map[string]any{"group": "", "kind": "ResourceQuota"}, map[string]any{"group": "", "kind": "LimitRange"},
			}, spec["namespaceResourceBlacklist"])
		})
	}
}

func TestApplicationSetHasOneElementPerChart(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, _ := runInfrastructure(t, env)
			spec := m.One(t, customResourceType+"ApplicationSet", "platform-"+env+"-infrastructure").Inputs.Mappable()["spec"].(map[string]any)
			assert.Equal(t, true, spec["goTemplate"])
			assert.Equal(t, []any{"missingkey=error"}, spec["goTemplateOptions"])
			generators := spec["generators"].([]any)
			require.Len(t, generators, 1)
			elements := generators[0].(map[string]any)["list"].(map[string]any)["elements"].([]any)
			require.Len(t, elements, len(testCharts()))
			for i, c := range testCharts() {
				values, err := ChartValuesYAML(c)
				require.NoError(t, err)
				assert.Equal(t, map[string]any{
					"name": c.Name, "namespace": c.Namespace, "repoURL": c.RepoURL, "chart": c.Chart,
					"version": c.Version, "values": values,
				}, elements[i])
			}

			template := spec["template"].(map[string]any)
			assert.Equal(t, "platform-"+env+"-{{.name}}", template["metadata"].(map[string]any)["name"])
			assert.Equal(t, "{{.name}}", template["metadata"].(map[string]any)["labels"].(map[string]any)["app.kubernetes.io/name"])
			assert.Equal(t, env, template["metadata"].(map[string]any)["labels"].(map[string]any)["platform.lke/environment"])
			app := template["spec"].(map[string]any)
			assert.Equal(t, "platform-"+env, app["project"])
			assert.Equal(t, map[string]any{
				"repoURL": "{{.repoURL}}", "chart": "{{.chart}}", "targetRevision": "{{.version}}",
				"helm": map[string]any{"releaseName": "{{.name}}", "skipCrds": true, "values": "{{.values}}"},
			}, app["source"])
			assert.Equal(t, map[string]any{"server": "https://kubernetes.default.svc", "namespace": "{{.namespace}}"}, app["destination"])
		})
	}
}

func TestProductionSyncsByHandEverythingElseAutomatically(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, _ := runInfrastructure(t, env)
			spec := m.One(t, customResourceType+"ApplicationSet", "platform-"+env+"-infrastructure").Inputs.Mappable()["spec"].(map[string]any)
			sync := spec["template"].(map[string]any)["spec"].(map[string]any)["syncPolicy"].(map[string]any)
			assert.Equal(t, []any{"CreateNamespace=false", "ServerSideApply=true"}, sync["syncOptions"])
			if env == "production" {
				assert.NotContains(t, sync, "automated", "production syncs only on `argocd app sync`")
				assert.Equal(t, map[string]any{"preserveResourcesOnDeletion": true}, spec["syncPolicy"])
			} else {
				assert.Equal(t, map[string]any{"prune": true, "selfHeal": true}, sync["automated"])
				assert.NotContains(t, spec, "syncPolicy")
			}
		})
	}
}

func TestChartValuesYAML(t *testing.T) {
	for name, tc := range map[string]struct {
		values map[string]any
		want   string
	}{
		"none":  {nil, "{}\n"},
		"empty": {map[string]any{}, "{}\n"},
		"keys sorted, integers kept": {
			map[string]any{"z": 1, "a": map[string]any{"y": true, "b": 1000000, "f": 0.5}, "m": []any{"x", 2}},
			"a:\n  b: 1000000\n  f: 0.5\n  \"y\": true\nm:\n  - x\n  - 2\nz: 1\n",
		},
		"typed values use json tags": {
			map[string]any{"retention": retention{Days: 7}},
			"retention:\n  days: 7\n",
		},
		"strings that look like other types stay strings": {
			map[string]any{"a": "true", "b": "0755", "c": "1.0", "d": ""},
			"a: \"true\"\nb: \"0755\"\nc: \"1.0\"\nd: \"\"\n",
		},
		"multi-line text": {
			map[string]any{"config": "line one\nline two\n"},
			"config: |\n  line one\n  line two\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ChartValuesYAML(Chart{Values: tc.values})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			var back any
			require.NoError(t, yaml.Unmarshal([]byte(got), &back), "the text is YAML")
		})
	}

	_, err := ChartValuesYAML(Chart{Values: map[string]any{"f": func() {}}})
	assert.ErrorContains(t, err, "values do not marshal")
}

func TestChartValuesYAMLIsStable(t *testing.T) {
	c := testCharts()[2]
	first, err := ChartValuesYAML(c)
	require.NoError(t, err)
	for range 20 {
		again, err := ChartValuesYAML(c)
		require.NoError(t, err)
		require.Equal(t, first, again)
	}
	assert.Equal(t, "limits:\n  ingestionBytes: 1000000\nretention:\n  days: 14\n", first)
}

func TestInfrastructureRefusesBadArgs(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*InfrastructureArgs)
		want   string
	}{
		"empty RepoURL":   {func(a *InfrastructureArgs) { a.RepoURL = "" }, "RepoURL is empty"},
		"duplicate chart": {func(a *InfrastructureArgs) { a.Charts[3].Name = "loki" }, `Charts[3] ("loki"): Name is also the name of Charts[2]`},
		"empty version":   {func(a *InfrastructureArgs) { a.Charts[1].Version = "" }, `Charts[1] ("cert-manager"): Version is empty`},
		"floating version": {func(a *InfrastructureArgs) { a.Charts[0].Version = "4.12.*" },
			`Charts[0] ("ingress-nginx"): Version "4.12.*" is not an exact version`},
		"range version":        {func(a *InfrastructureArgs) { a.Charts[0].Version = "^4.12.0" }, `Version "^4.12.0" is not an exact version`},
		"empty chart":          {func(a *InfrastructureArgs) { a.Charts[0].Chart = "" }, `Charts[0] ("ingress-nginx"): Chart is empty`},
		"empty repo":           {func(a *InfrastructureArgs) { a.Charts[0].RepoURL = "" }, `Charts[0] ("ingress-nginx"): RepoURL is empty`},
		"no namespace":         {func(a *InfrastructureArgs) { a.Charts[0].Namespace = "" }, `Charts[0] ("ingress-nginx"): Namespace "" is not a valid namespace name`},
		"bad chart name":       {func(a *InfrastructureArgs) { a.Charts[0].Name = "Ingress_NGINX" }, `Name is not a valid Helm release name`},
		"empty name":           {func(a *InfrastructureArgs) { a.Charts[0].Name = "" }, `Charts[0] (""): Name is empty`},
		"bad values":           {func(a *InfrastructureArgs) { a.Charts[0].Values = map[string]any{"c": make(chan int)} }, `Charts[0] ("ingress-nginx"): Values: values do not marshal`},
		"no environment":       {func(a *InfrastructureArgs) { a.Environment = "" }, `Environment "" is not a valid name`},
		"no Argo CD namespace": {func(a *InfrastructureArgs) { a.Namespace = "" }, `Namespace "" is not a valid namespace name`},
	} {
		t.Run(name, func(t *testing.T) {
			args := infraArgs("staging")
			tc.change(args)
			err := args.Validate()
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "gitops: InfrastructureArgs: ")

			_, runErr := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				_, err := NewInfrastructure(ctx, "staging", args)
				return err
			})
			assert.ErrorContains(t, runErr, tc.want, "the component refuses before registering anything")
		})
	}
	assert.NoError(t, infraArgs("staging").Validate())
}

func TestAllProblemsAreReportedAtOnce(t *testing.T) {
	args := infraArgs("development")
	args.RepoURL = ""
	args.Charts[0].Version = ""
	args.Charts[1].Name = "ingress-nginx"
	err := args.Validate()
	require.Error(t, err)
	for _, want := range []string{"RepoURL is empty", `Charts[0] ("ingress-nginx"): Version is empty`, `Charts[1] ("ingress-nginx"): Name is also the name of Charts[0]`} {
		assert.ErrorContains(t, err, want)
	}
}

func TestAnEnvironmentWithoutChartsHasAnEmptyList(t *testing.T) {
	args := infraArgs("system")
	args.Charts = nil
	spec, err := ApplicationSetSpecFor(args)
	require.NoError(t, err)
	assert.NotNil(t, spec.Generators[0].List.Elements, "an empty list, not null: the CRD requires elements")
	assert.Equal(t, []string{repoURL}, AppProjectSpecFor(args).SourceRepos)
	assert.Empty(t, AppProjectSpecFor(args).Destinations)
}
