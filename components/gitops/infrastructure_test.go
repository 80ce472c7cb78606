package gitops

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/helmrender"
	"github.com/platform-eng/lke-platform/internal/manifest"
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
	sample := RepoApplication(RepoApplicationArgs{
		Name: "platform-" + env + "-sample", Environment: env, Namespace: env + "-argocd", Labels: labelsFor(env),
		RepoURL: repoURL, Revision: "main", Path: "charts/sample", Destination: env + "-apps", AutoSync: env != "production",
	})
	sample.Spec.SyncPolicy.Retry = nil
	return &InfrastructureArgs{
		Environment: env, Namespace: env + "-argocd", Labels: labelsFor(env),
		RepoURL: repoURL, Revision: "main", AutoSync: env != "production", Charts: testCharts(),
		Folders:      []Folder{{Name: "observability", Destination: "monitoring", Objects: []Object{testObject()}}},
		Applications: []Application{sample},
		Workloads:    []string{env + "-apps"},
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
			root := m.One(t, customResourceType+"Application", "platform-"+env+"-infrastructure")
			secret := m.One(t, secretType, "platform-"+env+"-repository")
			for _, r := range []mocks.Resource{project, root, secret} {
				md := meta(r)
				assert.Equal(t, r.Name, md["name"])
				assert.Equal(t, env+"-argocd", md["namespace"], r.Name)
				for k, v := range labelsFor(env) {
					assert.Equal(t, v, md["labels"].(map[string]any)[k], "%s label %s", r.Name, k)
				}
				assert.Contains(t, r.Parent, "platform:gitops:Infrastructure::"+env)
			}
			assert.Equal(t, "argoproj.io/v1alpha1", root.Inputs.Mappable()["apiVersion"])
			assert.Equal(t, map[string]any{RevisionAnnotation: "main"}, meta(root)["annotations"])
			assert.Equal(t, []string{
				"platform-" + env + "-crds",
				"platform-" + env + "-ingress-nginx", "platform-" + env + "-cert-manager",
				"platform-" + env + "-loki", "platform-" + env + "-promtail",
				"platform-" + env + "-observability", "platform-" + env + "-sample",
			}, inf.Applications)

			// The root waits for the project its Applications belong to.
			var deps []string
			for _, urn := range m.dependsOn(root) {
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

func TestAppProjectAllowsTheEnvironmentsDestinationsAndNothingElse(t *testing.T) {
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
			// Argo CD's namespace (the root's Applications), the charts', the folder's and its objects', the workloads'.
			namespaces := []string{"cert-manager", env + "-apps", env + "-argocd", "ingress-nginx", "monitoring"}
			slices.Sort(namespaces)
			var want []any
			for _, ns := range namespaces {
				want = append(want, dest(ns))
			}
			assert.Equal(t, want, spec["destinations"])
			assert.Contains(t, spec["clusterResourceWhitelist"], map[string]any{"group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition"})
			assert.Contains(t, spec["clusterResourceWhitelist"], map[string]any{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"})
			assert.NotContains(t, spec["clusterResourceWhitelist"], map[string]any{"group": "", "kind": "Namespace"},
				"namespaces, with their quota and default-deny, are Pulumi's")
			assert.Equal(t, []any{
				map[string]any{"group": "", "kind": "ResourceQuota"}, map[string]any{"group": "", "kind": "LimitRange"},
			}, spec["namespaceResourceBlacklist"])
		})
	}
}

// children are the Applications the root hands Argo CD, as the component registered them, by name.
func children(t *testing.T, m *monitor, env string) (map[string]map[string]any, map[string]any) {
	t.Helper()
	root := m.One(t, customResourceType+"Application", "platform-"+env+"-infrastructure").Inputs.Mappable()["spec"].(map[string]any)
	source := root["source"].(map[string]any)
	require.Equal(t, map[string]any{"repoURL": repoURL, "path": ManifestsChart, "targetRevision": "main"},
		map[string]any{"repoURL": source["repoURL"], "path": source["path"], "targetRevision": source["targetRevision"]})
	out := map[string]map[string]any{}
	for _, o := range source["helm"].(map[string]any)["valuesObject"].(map[string]any)["objects"].([]any) {
		app := o.(map[string]any)
		out[app["metadata"].(map[string]any)["name"].(string)] = app
	}
	return out, root
}

func TestRootHoldsTheCRDsOneApplicationPerChartAndFolderAndTheExtras(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, _ := runInfrastructure(t, env)
			apps, _ := children(t, m, env)
			require.Len(t, apps, 7)
			for name, app := range apps {
				assert.Equal(t, "Application", app["kind"], name)
				assert.Equal(t, env+"-argocd", app["metadata"].(map[string]any)["namespace"], name)
				assert.Equal(t, "platform-"+env, app["spec"].(map[string]any)["project"], name)
			}
			source := func(name string) map[string]any {
				return apps["platform-"+env+"-"+name]["spec"].(map[string]any)["source"].(map[string]any)
			}
			assert.Equal(t, map[string]any{
				"repoURL": repoURL, "path": "upstream/crds", "targetRevision": "main",
				"directory": map[string]any{"recurse": true, "exclude": "argo-cd/*"},
			}, source("crds"), "the add-ons' CRDs from this repository; Argo CD's own are the bootstrap's")
			for _, c := range testCharts() {
				helm := map[string]any{"releaseName": c.Name, "skipCrds": true}
				if len(c.Values) > 0 {
					helm["valuesObject"] = manifest.Untyped(c.Values)
				}
				want := map[string]any{"repoURL": c.RepoURL, "chart": c.Chart, "targetRevision": c.Version, "helm": helm}
				assert.Equal(t, want, source(c.Name), c.Name)
			}
			assert.Equal(t, map[string]any{"ingestionBytes": float64(1000000)},
				source("loki")["helm"].(map[string]any)["valuesObject"].(map[string]any)["limits"], "typed values by their json tags, numbers kept")
			folder := source("observability")
			assert.Equal(t, ManifestsChart, folder["path"])
			assert.Equal(t, []any{testObject()}, folder["helm"].(map[string]any)["valuesObject"].(map[string]any)["objects"])
			observability := apps["platform-"+env+"-observability"]["spec"].(map[string]any)
			assert.Equal(t, "monitoring", observability["destination"].(map[string]any)["namespace"])
			assert.Contains(t, observability["syncPolicy"].(map[string]any)["syncOptions"], "SkipDryRunOnMissingResource=true",
				"custom objects sync once the CRDs Application has installed their types")
		})
	}
}

func TestProductionSyncsByHandEverythingElseAutomatically(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			m, _ := runInfrastructure(t, env)
			apps, root := children(t, m, env)
			policy := func(spec map[string]any) map[string]any { return spec["syncPolicy"].(map[string]any) }
			assert.Equal(t, []any{"CreateNamespace=false", "ServerSideApply=true"}, policy(root)["syncOptions"])
			for name, app := range apps {
				sync := policy(app["spec"].(map[string]any))
				assert.Subset(t, sync["syncOptions"], []any{"CreateNamespace=false", "ServerSideApply=true"}, name)
				if name != "platform-"+env+"-sample" {
					assert.Equal(t, map[string]any{"limit": float64(10), "backoff": map[string]any{"duration": "5s", "factor": float64(2), "maxDuration": "2m"}},
						sync["retry"], "%s: Applications created together converge in any order", name)
				}
				switch {
				case env == "production":
					assert.NotContains(t, sync, "automated", "%s: production syncs only on `argocd app sync`", name)
				case name == "platform-"+env+"-crds":
					assert.Equal(t, map[string]any{"prune": false, "selfHeal": false}, sync["automated"],
						"deleting a CRD deletes every object of its kind: never pruned")
				default:
					assert.Equal(t, map[string]any{"prune": true, "selfHeal": true}, sync["automated"], name)
				}
			}
			if env == "production" {
				assert.NotContains(t, policy(root), "automated")
			} else {
				assert.Equal(t, map[string]any{"prune": true, "selfHeal": true}, policy(root)["automated"])
			}
		})
	}
}

// The root's status would repeat its whole source (every child and its values) once per history entry, and a
// refresh reads that status into the stack's state: the root keeps no history. The children, which Pulumi does
// not hold, keep Argo CD's default.
func TestTheRootKeepsNoSyncHistory(t *testing.T) {
	m, _ := runInfrastructure(t, "development")
	apps, root := children(t, m, "development")
	assert.Equal(t, float64(0), root["revisionHistoryLimit"])
	for name, app := range apps {
		assert.NotContains(t, app["spec"], "revisionHistoryLimit", name)
	}
}

// The root's chart renders its objects as they are: what Argo CD creates is exactly the Applications the program
// built, through Helm's own SDK as the repo-server renders it.
func TestManifestsChartRendersTheRootsApplications(t *testing.T) {
	args := infraArgs("development")
	kids := Children(args)
	root := Root(args, kids)
	chart := filepath.Join("..", "..", filepath.FromSlash(ManifestsChart))
	objs, err := helmrender.Render(chart,
		helmrender.Release{Name: root.Spec.Source.Helm.ReleaseName, Namespace: args.Namespace}, root.Spec.Source.Helm.ValuesObject)
	require.NoError(t, err)
	require.Len(t, objs, len(kids))
	for i, o := range objs {
		assert.Equal(t, manifest.Untyped(kids[i]), o.Object)
	}

	_, err = helmrender.Render(chart, helmrender.Release{Name: "x", Namespace: "y"},
		map[string]any{"objects": []any{map[string]any{"kind": "ConfigMap"}}})
	assert.ErrorContains(t, err, "apiVersion", "an object without its type fails the render")
}

func testObject() map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "dashboard", "namespace": "monitoring"},
		"data":     map[string]any{"a": "b"},
	}
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
		"range version":  {func(a *InfrastructureArgs) { a.Charts[0].Version = "^4.12.0" }, `Version "^4.12.0" is not an exact version`},
		"empty chart":    {func(a *InfrastructureArgs) { a.Charts[0].Chart = "" }, `Charts[0] ("ingress-nginx"): Chart is empty`},
		"empty repo":     {func(a *InfrastructureArgs) { a.Charts[0].RepoURL = "" }, `Charts[0] ("ingress-nginx"): RepoURL is empty`},
		"no namespace":   {func(a *InfrastructureArgs) { a.Charts[0].Namespace = "" }, `Charts[0] ("ingress-nginx"): Namespace "" is not a valid namespace name`},
		"bad chart name": {func(a *InfrastructureArgs) { a.Charts[0].Name = "Ingress_NGINX" }, `Name is not a valid Helm release name`},
		"empty name":     {func(a *InfrastructureArgs) { a.Charts[0].Name = "" }, `Charts[0] (""): Name is empty`},
		"bad values":     {func(a *InfrastructureArgs) { a.Charts[0].Values = map[string]any{"c": make(chan int)} }, `Charts[0] ("ingress-nginx"): Values: values do not marshal`},
		"chart named as a folder": {func(a *InfrastructureArgs) { a.Charts[0].Name = "observability" },
			`Folders[0] ("observability"): Name is also the name of Charts[0] ("observability")`},
		"reserved name":        {func(a *InfrastructureArgs) { a.Folders[0].Name = "crds" }, `Folders[0] ("crds"): Name is also the name of the CRDs Application`},
		"bad folder":           {func(a *InfrastructureArgs) { a.Folders[0].Destination = "Mon" }, `Folders[0] ("observability"): Destination "Mon" is not a valid namespace name`},
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

func TestAnEnvironmentWithoutChartsOrFoldersHasTheCRDsOnly(t *testing.T) {
	args := infraArgs("system")
	args.Charts, args.Folders, args.Applications, args.Workloads = nil, nil, nil, nil
	kids := Children(args)
	require.Len(t, kids, 1)
	assert.Equal(t, "platform-system-crds", kids[0].Metadata.Name)
	assert.Equal(t, []string{repoURL}, AppProjectSpecFor(args).SourceRepos)
	assert.Equal(t, []ProjectDestination{{Server: InClusterServer, Namespace: "system-argocd"}}, AppProjectSpecFor(args).Destinations)
}

// A chart this repository holds (vendored) is rendered from the repository at the root's revision: the cluster
// needs no Helm repository for it, and the project does not list one.
func TestAVendoredChartComesFromThePlatformRepository(t *testing.T) {
	args := infraArgs("staging")
	args.Charts[1].Path = "charts/vendor/cert-manager"
	var app Application
	for _, c := range Children(args) {
		if c.Metadata.Name == "platform-staging-cert-manager" {
			app = c
		}
	}
	assert.Equal(t, ApplicationSource{
		RepoURL: repoURL, Path: "charts/vendor/cert-manager", TargetRevision: "main",
		Helm: &HelmSource{ReleaseName: "cert-manager", SkipCrds: true, ValuesObject: manifest.Untyped(args.Charts[1].Values)},
	}, app.Spec.Source)
	assert.NotContains(t, AppProjectSpecFor(args).SourceRepos, "https://charts.jetstack.io")
}
