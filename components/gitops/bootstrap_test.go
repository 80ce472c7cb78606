package gitops

import (
	"maps"
	"strings"
	"sync"
	"testing"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/upstream"
)

const crdType = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"

func bootstrapArgs(env string) *BootstrapArgs {
	return &BootstrapArgs{Environment: env, Namespace: env + "-argocd", Labels: labelsFor(env), Events: eventsArgs(env)}
}

// The component registers some 8 MB of CRDs, which takes the mocks several seconds: it runs once, for staging,
// and is shared by the tests. What differs between environments (names, namespace, labels) is asserted on the
// pure functions it is built from, for all four.
var (
	bootstrapOnce sync.Once
	bootstrapMon  *monitor
	bootstrapRes  *Bootstrap
)

const componentEnv = "staging"

func runBootstrap(t *testing.T) (*monitor, *Bootstrap) {
	t.Helper()
	bootstrapOnce.Do(func() {
		bootstrapMon = run(t, componentEnv, func(ctx *pulumi.Context) error {
			var err error
			bootstrapRes, err = NewBootstrap(ctx, componentEnv, bootstrapArgs(componentEnv))
			if err != nil {
				return err
			}
			// An Argo CD object as the Infrastructure creates them: once its type exists.
			_, err = manifest.CustomResource{
				APIVersion: "argoproj.io/v1alpha1", Kind: "Application",
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("probe")},
				Spec:     map[string]any{},
			}.New(ctx, "probe-application", bootstrapRes.AfterCRDs())
			if err != nil {
				return err
			}
			// After the whole bootstrap, as the Infrastructure component is.
			_, err = manifest.CustomResource{
				APIVersion: "argoproj.io/v1alpha1", Kind: "AppProject",
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("probe")},
				Spec:     map[string]any{},
			}.New(ctx, "probe-project", bootstrapRes.AfterAll())
			return err
		})
	})
	require.NotNil(t, bootstrapRes, "the bootstrap run failed in an earlier test")
	return bootstrapMon, bootstrapRes
}

// vendoredCRDNames are the names of Argo CD's CRDs in the vendored files, in file order.
func vendoredCRDNames(t *testing.T) []string {
	var names []string
	for _, f := range upstream.ArgoCDCRDs() {
		objs, err := upstream.Decode(f.Data)
		require.NoError(t, err)
		for _, o := range objs {
			names = append(names, o["metadata"].(map[string]any)["name"].(string))
		}
	}
	return names
}

func TestBootstrapInstallsArgoCDsCRDsByTheirNames(t *testing.T) {
	want := vendoredCRDNames(t)
	require.Equal(t, []string{"applications.argoproj.io", "appprojects.argoproj.io"}, want,
		"the add-ons' CRDs are Argo CD's to apply (the CRDs Application); no ApplicationSet")
	m, b := runBootstrap(t)
	crds := m.OfType(crdType)
	require.Len(t, crds, len(want))
	assert.Equal(t, want, b.CRDNames)
	assert.Len(t, b.CRDs, len(want))
	for _, r := range crds {
		md := meta(r)
		assert.Equal(t, r.Name, md["name"], "the resource is named by the CRD")
		assert.True(t, m.retained(r), "%s: CRDs are shared by the cluster's environments and retained", r.Name)
		labels := md["labels"].(map[string]any)
		assert.Equal(t, "pulumi", labels["app.kubernetes.io/managed-by"], r.Name)
		assert.Equal(t, "lke-platform", labels["app.kubernetes.io/part-of"], r.Name)
		assert.NotContains(t, labels, "platform.lke/environment", r.Name)
		assert.Contains(t, r.Parent, "platform:gitops:Bootstrap::"+componentEnv)
	}
}

// The CRDs of every environment are the same objects, so environments sharing a control plane apply them
// without conflict.
func TestCRDObjectsAreTheSameInEveryEnvironment(t *testing.T) {
	first, err := CRDObjects(labelsFor(environments[0]))
	require.NoError(t, err)
	require.Len(t, first, 2)
	for _, env := range environments[1:] {
		objs, err := CRDObjects(labelsFor(env))
		require.NoError(t, err)
		require.Len(t, objs, len(first))
		for i := range objs {
			assert.Equal(t, first[i]["metadata"], objs[i]["metadata"], env)
		}
	}
}

// argoCDObjects are the recorded objects of the Argo CD install: everything but the CRDs, the egress policy,
// the component and the probe.
func argoCDObjects(m *monitor) []mocks.Resource {
	var out []mocks.Resource
	for _, r := range m.Resources() {
		switch {
		case r.Type == crdType, strings.HasPrefix(r.Type, "platform:"), r.Name == ArgoCDEgressPolicy, strings.HasPrefix(r.Name, "probe-"):
			continue
		}
		out = append(out, r)
	}
	return out
}

func TestBootstrapRegistersArgoCDUnderTheComponent(t *testing.T) {
	m, _ := runBootstrap(t)
	objs := argoCDObjects(m)
	require.Len(t, objs, installObjects(t), "core-install.yaml minus its CRDs")
	for _, r := range objs {
		md := meta(r)
		assert.Equal(t, r.Name, md["name"], "resources are named by their object")
		assert.Contains(t, r.Parent, "platform:gitops:Bootstrap::"+componentEnv)
		if r.Type != "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" && r.Type != "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding" {
			assert.Equal(t, componentEnv+"-argocd", md["namespace"], "%s %s", r.Type, r.Name)
		}
	}
	// Upstream's argocd-secret holds nothing; Argo CD fills it at run time.
	secret := m.One(t, "kubernetes:core/v1:Secret", "argocd-secret").Inputs.Mappable()
	assert.NotContains(t, secret, "data")
	assert.NotContains(t, secret, "stringData")
}

// isWorkloadType says whether a resource type is a Deployment or a StatefulSet.
func isWorkloadType(typ string) bool {
	return typ == "kubernetes:apps/v1:Deployment" || typ == "kubernetes:apps/v1:StatefulSet"
}

func TestCustomObjectsComeAfterTheCRDs(t *testing.T) {
	m, b := runBootstrap(t)
	probe := m.One(t, "kubernetes:argoproj.io/v1alpha1:Application", "probe-application")
	var names []string
	for _, urn := range m.dependsOn(probe) {
		names = append(names, urnName(urn))
	}
	assert.ElementsMatch(t, b.CRDNames, names)
}

// What Argo CD's workloads use needs no CRD: it is created beside them, at once (TestArgoCDWorkloadsComeLast).
func TestArgoCDsObjectsButItsWorkloadsWaitForNothing(t *testing.T) {
	m, _ := runBootstrap(t)
	for _, r := range argoCDObjects(m) {
		if !isWorkloadType(r.Type) {
			assert.Empty(t, m.dependsOn(r), "%s %s", r.Type, r.Name)
		}
	}
}

// The workloads wait for the CRDs (Argo CD's controllers watch them from the start) and for everything else of the
// install: their pods need their service accounts, settings and egress when they are created (isWorkload).
func TestArgoCDWorkloadsComeLast(t *testing.T) {
	m, _ := runBootstrap(t)
	var want []string
	for _, r := range m.Resources() {
		if strings.Contains(r.Parent, "platform:gitops:Bootstrap::") && !isWorkloadType(r.Type) {
			want = append(want, r.Type+"::"+r.Name)
		}
	}
	require.Len(t, want, len(vendoredCRDNames(t))+installObjects(t)+1-len(argoCDComponents), "the CRDs, the install but its workloads, the egress policy")
	workloads := 0
	for _, r := range argoCDObjects(m) {
		if !isWorkloadType(r.Type) {
			continue
		}
		workloads++
		var got []string
		for _, urn := range m.dependsOn(r) {
			got = append(got, urn[strings.LastIndex(urn, "$")+1:]) // "<type>::<name>"
		}
		assert.ElementsMatch(t, want, got, "%s %s", r.Type, r.Name)
	}
	assert.Equal(t, len(argoCDComponents), workloads)
}

// The install's Services are not awaited (skipAwait): each selects the pods of one workload Pulumi waits for, on
// ports of its containers, so its endpoints hold ready pods once that workload is ready.
func TestEveryArgoCDServiceSelectsAWorkloadsPods(t *testing.T) {
	objs, err := ArgoCDObjects(bootstrapArgs(componentEnv))
	require.NoError(t, err)
	m, _ := runBootstrap(t)
	services := 0
	for _, obj := range objs {
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() != "Service" {
			continue
		}
		services++
		registered := meta(m.One(t, "kubernetes:core/v1:Service", u.GetName()))
		assert.Equal(t, map[string]any{SkipAwaitAnnotation: "true"}, registered["annotations"], u.GetName())
		selector, found, err := unstructured.NestedStringMap(obj, "spec", "selector")
		require.NoError(t, err)
		require.True(t, found && len(selector) > 0, "Service %s selects no pods", u.GetName())
		ports, _, err := unstructured.NestedSlice(obj, "spec", "ports")
		require.NoError(t, err)
		require.NotEmpty(t, ports, u.GetName())
		var selected []string
		for _, w := range objs {
			if !isWorkload(w) {
				continue
			}
			podLabels, _, err := unstructured.NestedStringMap(w, "spec", "template", "metadata", "labels")
			require.NoError(t, err)
			matches := true
			for k, v := range selector {
				matches = matches && podLabels[k] == v
			}
			if !matches {
				continue
			}
			selected = append(selected, objectName(w))
			containers, err := nestedSlice(w, "spec", "template", "spec", "containers")
			require.NoError(t, err)
			for _, p := range ports {
				target := p.(map[string]any)["targetPort"]
				if target == nil {
					target = p.(map[string]any)["port"]
				}
				assert.True(t, reaches(containers, target), "Service %s: target port %v is no port of %s's containers", u.GetName(), target, objectName(w))
			}
		}
		assert.Len(t, selected, 1, "Service %s should select the pods of exactly one workload", u.GetName())
	}
	assert.Equal(t, 4, services)
}

// reaches says whether a Service's target port reaches containers: a number always does (the endpoints
// controller lists a ready pod with it, declared or not), a name must be one of their ports' names.
func reaches(containers []any, port any) bool {
	name, ok := port.(string)
	if !ok {
		return true
	}
	for _, c := range containers {
		cps, _ := c.(map[string]any)["ports"].([]any)
		for _, cp := range cps {
			if cp.(map[string]any)["name"] == name {
				return true
			}
		}
	}
	return false
}

func TestAfterAllWaitsForEveryObjectOfTheBootstrap(t *testing.T) {
	m, _ := runBootstrap(t)
	probe := m.One(t, "kubernetes:argoproj.io/v1alpha1:AppProject", "probe-project")
	var want []string
	for _, r := range m.Resources() {
		if r.Type != "platform:gitops:Bootstrap" && !strings.HasPrefix(r.Name, "probe-") {
			want = append(want, r.Type+"::"+r.Name)
		}
	}
	var got []string
	for _, urn := range m.dependsOn(probe) {
		got = append(got, urn[strings.LastIndex(urn, "$")+1:]) // "<type>::<name>"
	}
	assert.ElementsMatch(t, want, got, "the CRDs, the Argo CD install and the egress policy")
	assert.Len(t, want, len(vendoredCRDNames(t))+installObjects(t)+1)
}

func TestArgoCDMayReachTheAPIServerAndRepositories(t *testing.T) {
	m, _ := runBootstrap(t)
	p := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", ArgoCDEgressPolicy).Inputs.Mappable()
	assert.Equal(t, componentEnv+"-argocd", p["metadata"].(map[string]any)["namespace"])
	spec := p["spec"].(map[string]any)
	assert.Equal(t, []any{"Egress"}, spec["policyTypes"])
	assert.Equal(t, map[string]any{"matchExpressions": []any{map[string]any{
		"key": "app.kubernetes.io/name", "operator": "In",
		"values": []any{"argocd-application-controller", "argocd-redis", "argocd-repo-server", "argocd-notifications-controller"},
	}}}, spec["podSelector"])
	assert.Equal(t, []any{
		map[string]any{"to": []any{map[string]any{"podSelector": map[string]any{}}}},
		map[string]any{"ports": []any{
			map[string]any{"protocol": "TCP", "port": 443.0}, map[string]any{"protocol": "TCP", "port": 6443.0},
		}},
	}, spec["egress"])
}

func TestArgoCDObjectsInEveryEnvironment(t *testing.T) {
	all, err := upstream.Decode(upstream.ArgoCDInstall())
	require.NoError(t, err)
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			args := bootstrapArgs(env)
			objs, err := ArgoCDObjects(args)
			require.NoError(t, err)
			appSet := 0
			for _, o := range all {
				if (&unstructured.Unstructured{Object: o}).GetLabels()["app.kubernetes.io/name"] == applicationSetController {
					appSet++
				}
			}
			require.Equal(t, 6, appSet, "the ApplicationSet controller's objects in the install")
			require.Len(t, objs, installObjects(t),
				"the install minus its CRDs, the ApplicationSet controller and upstream's NetworkPolicies, plus the notifications controller")
			names := map[string]bool{}
			for _, o := range objs {
				key := typeKey(o)
				k, known := kinds[key]
				require.True(t, known, key)
				md := o["metadata"].(map[string]any)
				name := md["name"].(string)
				if k.namespaced {
					assert.Equal(t, env+"-argocd", md["namespace"], "%s %s", key, name)
				} else {
					assert.NotContains(t, md, "namespace", name)
					assert.Equal(t, "platform-"+env+"-argocd-application-controller", name, "cluster-scoped names carry the environment")
				}
				assert.False(t, names[key+"/"+name], "%s %s twice", key, name)
				names[key+"/"+name] = true
				labels := md["labels"].(map[string]any)
				for k, v := range labelsFor(env) {
					if k == partOfLabel {
						v = "argocd" // Argo CD finds its ConfigMaps and Secrets by part-of=argocd: upstream's value stays
					}
					assert.Equal(t, v, labels[k], "%s %s label %s", key, name, k)
				}
				if o["kind"] == "ClusterRoleBinding" {
					assert.Equal(t, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "platform-" + env + "-argocd-application-controller"}, o["roleRef"])
					assert.Equal(t, []any{map[string]any{"kind": "ServiceAccount", "name": "argocd-application-controller", "namespace": env + "-argocd"}}, o["subjects"])
				}
			}
		})
	}
}

func TestEveryArgoCDContainerHasRequestsAndLimits(t *testing.T) {
	objs, err := ArgoCDObjects(bootstrapArgs("production"))
	require.NoError(t, err)
	used := map[string]bool{}
	for _, o := range objs {
		if o["kind"] != "Deployment" && o["kind"] != "StatefulSet" {
			continue
		}
		pod := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		for _, group := range []string{"initContainers", "containers"} {
			list, _ := pod[group].([]any)
			for _, c := range list {
				container := c.(map[string]any)
				name := container["name"].(string)
				assert.Equal(t, manifest.Untyped(ArgoCDResources[name]), container["resources"], name)
				assert.Regexp(t, `:[0-9A-Za-z._-]+$`, container["image"], "%s: pinned image", name)
				assert.NotContains(t, container["image"], ":latest", name)
				used[name] = true
			}
		}
	}
	assert.Len(t, used, len(ArgoCDResources), "every entry of ArgoCDResources is used")
}

func TestCRDObjectsDoNotChangeTheCallersLabels(t *testing.T) {
	labels := labelsFor("development")
	before := maps.Clone(labels)
	_, err := CRDObjects(labels)
	require.NoError(t, err)
	assert.Equal(t, before, labels)
}

func TestBootstrapRefusesBadArgs(t *testing.T) {
	for name, tc := range map[string]struct {
		args *BootstrapArgs
		want string
	}{
		"no namespace":   {&BootstrapArgs{Environment: "staging"}, `Namespace "" is not a valid namespace name`},
		"no environment": {&BootstrapArgs{Namespace: "argocd"}, `Environment "" is not a valid name`},
		"bad namespace":  {&BootstrapArgs{Environment: "staging", Namespace: "Argo_CD"}, `Namespace "Argo_CD"`},
		"no Loki": {&BootstrapArgs{Environment: "staging", Namespace: "argocd", Events: EventsArgs{Tenant: "staging"}},
			`Events.LokiURL "" is not an absolute http(s) URL`},
		"no tenant": {&BootstrapArgs{Environment: "staging", Namespace: "argocd", Events: EventsArgs{LokiURL: "http://loki"}},
			`Events.Tenant is empty`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				_, err := NewBootstrap(ctx, "x", tc.args)
				return err
			})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestSchemaDescriptionsAreStrippedButNotPropertiesNamedDescription(t *testing.T) {
	crd := map[string]any{"spec": map[string]any{"versions": []any{map[string]any{"schema": map[string]any{
		"openAPIV3Schema": map[string]any{
			"description": "an AppProject",
			"properties": map[string]any{
				"description": map[string]any{"type": "string", "description": "the project's description"},
			},
		},
	}}}}}
	stripSchemaDescriptions(crd)
	assert.Equal(t, map[string]any{"openAPIV3Schema": map[string]any{
		"properties": map[string]any{"description": map[string]any{"type": "string"}},
	}}, crd["spec"].(map[string]any)["versions"].([]any)[0].(map[string]any)["schema"])
}

// Argo CD's controllers alone write the status; what people and the program write (spec, operation) stays
// checked field by field.
func TestArgoCDsCRDsCheckEverythingButTheStatus(t *testing.T) {
	crds, err := CRDObjects(labelsFor("development"))
	require.NoError(t, err)
	for _, crd := range crds {
		name := objectName(crd)
		versions, err := nestedSlice(crd, "spec", "versions")
		require.NoError(t, err)
		require.NotEmpty(t, versions, name)
		for _, v := range versions {
			schema, _, _ := unstructured.NestedMap(v.(map[string]any), "schema", "openAPIV3Schema", "properties")
			assert.Equal(t, map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}, schema["status"], name)
			spec := schema["spec"].(map[string]any)
			assert.NotContains(t, spec, "x-kubernetes-preserve-unknown-fields", name)
			assert.NotEmpty(t, spec["properties"], "%s: the spec is checked field by field", name)
			if name == "applications.argoproj.io" {
				assert.NotEmpty(t, schema["operation"].(map[string]any)["properties"], "an Application's operation is what `argocd app sync` writes")
			}
		}
	}
}

// installObjects counts the objects of Argo CD's core install that are not CRDs (the bootstrap applies the CRDs
// from upstream/crds instead), at whatever version upstream/ pins.
func installObjects(t *testing.T) int {
	t.Helper()
	objs, err := upstream.Decode(upstream.ArgoCDInstall())
	require.NoError(t, err)
	for _, f := range upstream.ArgoCDNotifications() {
		more, err := upstream.Decode(f.Data)
		require.NoError(t, err)
		objs = append(objs, more...)
	}
	n := 0
	for _, o := range objs {
		if o["kind"] != "CustomResourceDefinition" && o["kind"] != "NetworkPolicy" &&
			(&unstructured.Unstructured{Object: o}).GetLabels()["app.kubernetes.io/name"] != applicationSetController {
			n++
		}
	}
	return n
}
