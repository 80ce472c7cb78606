//go:build integration

package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/pkg/v3/testing/integration"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-eng/lke-platform/components/namespace"
)

// TestEnvironmentLifecycle takes production through its whole lifecycle in cloud mode, as Pulumi.production.yaml
// has it: the stack adopts the inventory's LKE cluster (531922) through the real Linode provider, from the Linode
// API stand-in (cloud_test.go), and deploys the platform onto the control plane behind the kubeconfig LKE hands
// out. Every object is read back from the API server and compared with what the platform promises; a second
// preview and up, and a refresh, find no changes; destroy is refused while production is protected, and once
// unprotected on purpose it removes every object but only releases the cluster: the only requests that change
// anything at Linode create and delete the environment's own DNS zone, the adoption included.
//
// Production runs on a control plane of its own: its stack manages the platform's namespaces (argocd,
// monitoring, …) under the same names as the development stack of TestPlatformDeploysEndToEnd, which runs at the
// same time on the shared one.
func TestEnvironmentLifecycle(t *testing.T) {
	parallelCriticalPath(t)
	const env, clusterID = "production", 531922
	ns := env + "-apps"
	cp := startControlPlane(t, "lke-platform-"+env)
	api := startLinodeAPI(t, cp.kubeconfig)
	api.Seed(inventoryCluster(env, clusterID))

	opts := baseOptions(t, env, cp.kubeconfig)
	// ProgramTest runs the CLI with a PULUMI_HOME of its own: it gets the installed Linode plugin by path.
	opts.LocalProviders = append(opts.LocalProviders, integration.LocalDependency{Package: "linode", Path: linodePluginDir(t)})
	opts.Config = cloudConfig(env)
	opts.Config["importClusterId"] = strconv.Itoa(clusterID)
	opts.Config["highAvailability"] = "true"
	// The policy pack refuses production updates without an approval record (docs/policy.md).
	opts.Env = append(append(opts.Env, api.env...), approval(time.Hour)...)
	opts.ExtraRuntimeValidation = func(t *testing.T, stack integration.RuntimeValidationStackInfo) {
		assert.Equal(t, env, stack.Outputs["environment"])
		assert.Equal(t, "create", stack.Outputs["clusterMode"])
		assert.EqualValues(t, clusterID, stack.Outputs["clusterId"])
		assert.Equal(t, []any{ns}, stack.Outputs["namespaces"])
		checkNamespace(t, cp.kubeconfig, env, ns)
		for _, res := range stack.Deployment.Resources {
			// Access packages are never protected: their grants go when they expire (decision 34). The default
			// linode provider is the engine's, not the program's; it goes only after every resource using it.
			access := strings.Contains(string(res.URN), "platform:access:Packages")
			defaultProvider := strings.HasPrefix(string(res.Type), "pulumi:providers:") && strings.Contains(string(res.URN), "::default_")
			if res.Type != "pulumi:pulumi:Stack" && !access && !defaultProvider {
				assert.True(t, res.Protect, "production resource %s is not protected", res.URN)
			}
			if res.Type == "linode:index/lkeCluster:LkeCluster" {
				assert.True(t, res.RetainOnDelete, "the adopted cluster is retained on delete")
			}
		}
	}
	pt := integration.ProgramTestManualLifeCycle(t, opts)
	require.NoError(t, pt.TestLifeCyclePrepare(), "prepare")
	t.Cleanup(pt.TestCleanUp)
	require.NoError(t, pt.TestLifeCycleInitialize(), "init")
	t.Cleanup(func() {
		// Production is protected for real: destroy refuses until someone unprotects on purpose.
		require.Error(t, pt.RunPulumiCommand("destroy", "--yes", "--skip-preview"), "destroy of protected production")
		_, err := kubectlOn(cp.kubeconfig, "get", "namespace", ns)
		require.NoError(t, err, "a refused destroy must leave production in place")
		require.NoError(t, pt.RunPulumiCommand("state", "unprotect", "--all", "--yes"))
		require.NoError(t, pt.TestLifeCycleDestroy(), "destroy")
		_, err = kubectlOn(cp.kubeconfig, "get", "namespace", ns)
		require.Error(t, err, "namespace %s is still there after destroy", ns)
		assert.Contains(t, err.Error(), "NotFound")

		// The adopted cluster was only ever read: imported, refreshed, released by the destroy. The one thing the
		// stack made at Linode is its own DNS zone, which the destroy removes.
		assertAllHandled(t, api.Requests())
		w := writes(api.Requests())
		require.Len(t, w, 2, "requests that changed something at Linode: %v", w)
		assert.Equal(t, "POST /v4/domains", w[0])
		assert.Regexp(t, `^DELETE /v4/domains/\d+$`, w[1])
		assert.Empty(t, api.Domains())
		_, ok := api.Cluster(clusterID)
		assert.True(t, ok, "cluster %d is still there after destroy", clusterID)
	})
	require.NoError(t, pt.TestPreviewUpdateAndEdits(), "preview, up, empty preview and up, refresh")
}

// checkNamespace reads the environment's workload namespace and its guard rails back from the control plane of
// kubeconfigPath and compares them with what the platform promises.
func checkNamespace(t *testing.T, kubeconfigPath, env, ns string) {
	n := getFrom[corev1.Namespace](t, kubeconfigPath, "namespace", "", ns)
	for k, v := range map[string]string{
		"platform.lke/environment":           env,
		"app.kubernetes.io/managed-by":       "pulumi",
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	} {
		assert.Equal(t, v, n.Labels[k], "namespace label %s", k)
	}

	q := getFrom[corev1.ResourceQuota](t, kubeconfigPath, "resourcequota", ns, namespace.QuotaName)
	// The spec's 30 services, each at its HPA maximum of 3 replicas, plus 20% surge headroom.
	want := corev1.ResourceList{
		"pods": resource.MustParse("108"), "services": resource.MustParse("30"),
		"services.loadbalancers": resource.MustParse("0"), "services.nodeports": resource.MustParse("0"),
		"requests.cpu": resource.MustParse("10800m"), "requests.memory": resource.MustParse("13824Mi"),
		"limits.cpu": resource.MustParse("54"), "limits.memory": resource.MustParse("27Gi"),
	}
	assertResources(t, want, q.Spec.Hard, "quota spec")

	lr := getFrom[corev1.LimitRange](t, kubeconfigPath, "limitrange", ns, namespace.LimitRangeName)
	require.Len(t, lr.Spec.Limits, 1)
	l := lr.Spec.Limits[0]
	assert.Equal(t, corev1.LimitTypeContainer, l.Type)
	assertResources(t, corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("128Mi")}, l.DefaultRequest, "default request")
	assertResources(t, corev1.ResourceList{"cpu": resource.MustParse("500m"), "memory": resource.MustParse("256Mi")}, l.Default, "default limit")
	assertResources(t, corev1.ResourceList{"cpu": resource.MustParse("1500m"), "memory": resource.MustParse("768Mi")}, l.Max, "max")

	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	byName := func(name string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": name}}
	}
	wantPolicies := map[string]networkingv1.NetworkPolicySpec{
		namespace.DefaultDenyPolicy: {
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
		namespace.AllowDNSPolicy: {
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: byName("kube-system"),
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
			}},
		},
		namespace.AllowIngressPolicy: {
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: byName("ingress-nginx")}}}},
		},
		namespace.AllowMonitoringPolicy: {
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: byName("monitoring"),
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}},
			}}}},
		},
	}
	list := getFrom[networkingv1.NetworkPolicyList](t, kubeconfigPath, "networkpolicy", ns, "")
	got := map[string]networkingv1.NetworkPolicySpec{}
	for _, p := range list.Items {
		got[p.Name] = p.Spec
	}
	assert.Equal(t, wantPolicies, got, "the namespace's network policies, read back from the API server")
}

// assertResources compares resource lists by quantity, so "1.5" and "1500m" are equal.
func assertResources(t *testing.T, want, got corev1.ResourceList, what string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		if !ok || g.Cmp(w) != 0 {
			diffs = append(diffs, string(k)+": want "+w.String()+", got "+g.String())
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "unexpected "+string(k))
		}
	}
	assert.Empty(t, diffs, "%s: %s", what, strings.Join(diffs, "; "))
}
