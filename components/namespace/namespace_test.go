package namespace

import (
	"testing"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/quota"
)

func testArgs() *Args {
	return &Args{
		Name:   "staging-apps",
		Labels: map[string]string{"platform.lke/environment": "staging"},
		Sizing: quota.Sizing{Services: 30, HeadroomPercent: 20, Profile: quota.Profile{
			CPURequest: resource.MustParse("100m"), CPULimit: resource.MustParse("500m"),
			MemoryRequest: resource.MustParse("128Mi"), MemoryLimit: resource.MustParse("256Mi"),
			MinReplicas: 1, MaxReplicas: 3,
		}},
		IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
	}
}

func run(t *testing.T) *mocks.Recorder {
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "staging-apps", testArgs())
		return err
	})
	require.NoError(t, err)
	return rec
}

func TestNamespaceComesWithItsGuardRails(t *testing.T) {
	rec := run(t)
	ns := rec.One(t, "kubernetes:core/v1:Namespace", "staging-apps").Inputs.Mappable()
	assert.Equal(t, map[string]any{
		"name": "staging-apps",
		"labels": map[string]any{
			"platform.lke/environment":           "staging",
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
			"pod-security.kubernetes.io/audit":   "restricted",
		},
	}, ns["metadata"])

	q := rec.One(t, "kubernetes:core/v1:ResourceQuota", "staging-apps-quota").Inputs.Mappable()
	assert.Equal(t, map[string]any{"hard": map[string]any{
		"pods": "108", "services": "30", "services.loadbalancers": "0", "services.nodeports": "0",
		"requests.cpu": "10800m", "requests.memory": "13824Mi", "limits.cpu": "54", "limits.memory": "27Gi",
	}}, q["spec"])
	assert.Equal(t, QuotaName, q["metadata"].(map[string]any)["name"])
	assert.Equal(t, "staging-apps", q["metadata"].(map[string]any)["namespace"])

	lr := rec.One(t, "kubernetes:core/v1:LimitRange", "staging-apps-limits").Inputs.Mappable()
	assert.Equal(t, map[string]any{"limits": []any{map[string]any{
		"type":           "Container",
		"defaultRequest": map[string]any{"cpu": "100m", "memory": "128Mi"},
		"default":        map[string]any{"cpu": "500m", "memory": "256Mi"},
		"max":            map[string]any{"cpu": "1500m", "memory": "768Mi"},
	}}}, lr["spec"])
}

func TestNetworkPoliciesDenyByDefaultAndOpenOnlyThreePaths(t *testing.T) {
	rec := run(t)
	policies := rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
	require.Len(t, policies, 4)
	spec := func(name string) map[string]any {
		return rec.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "staging-apps-"+name).Inputs.Mappable()["spec"].(map[string]any)
	}
	nsSel := func(name string) map[string]any {
		return map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": name}}
	}
	assert.Equal(t, map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}}, spec(DefaultDenyPolicy))
	assert.Equal(t, map[string]any{
		"podSelector": map[string]any{}, "policyTypes": []any{"Egress"},
		"egress": []any{map[string]any{
			"to":    []any{map[string]any{"namespaceSelector": nsSel("kube-system"), "podSelector": map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}}}},
			"ports": []any{map[string]any{"protocol": "UDP", "port": 53.0}, map[string]any{"protocol": "TCP", "port": 53.0}},
		}},
	}, spec(AllowDNSPolicy))
	assert.Equal(t, map[string]any{
		"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"},
		"ingress": []any{map[string]any{"from": []any{map[string]any{"namespaceSelector": nsSel("ingress-nginx")}}}},
	}, spec(AllowIngressPolicy))
	assert.Equal(t, map[string]any{
		"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"},
		"ingress": []any{map[string]any{"from": []any{map[string]any{
			"namespaceSelector": nsSel("monitoring"),
			"podSelector":       map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "prometheus"}},
		}}}},
	}, spec(AllowMonitoringPolicy))
}

func TestChildrenAreParentedToTheComponent(t *testing.T) {
	rec := run(t)
	for _, r := range rec.Resources() {
		if r.Type == "platform:namespace:Namespace" {
			continue
		}
		assert.Contains(t, r.Parent, "platform:namespace:Namespace::staging-apps", r.Name)
	}
}

// A platform namespace gets the same guard rails plus its own paths, and the ingress controller's namespace the
// one LoadBalancer Service the platform has.
func TestPlatformNamespaceAddsItsPathsAndLoadBalancers(t *testing.T) {
	args := testArgs()
	args.Name, args.LoadBalancers, args.Internal = "ingress-nginx", 1, true
	args.Allow = []Allow{{Name: "allow-public-http", Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
	}}}
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ingress-nginx", args)
		return err
	})
	require.NoError(t, err)
	// default-deny, DNS, the scrape and its own; internal: no path from the ingress controller's namespace.
	assert.Len(t, rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy"), 4)
	for _, np := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		assert.NotEqual(t, AllowIngressPolicy, np.Inputs.Mappable()["metadata"].(map[string]any)["name"])
	}
	np := rec.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ingress-nginx-allow-public-http").Inputs.Mappable()
	assert.Equal(t, "allow-public-http", np["metadata"].(map[string]any)["name"])
	q := rec.One(t, "kubernetes:core/v1:ResourceQuota", "ingress-nginx-quota").Inputs.Mappable()
	hard := q["spec"].(map[string]any)["hard"].(map[string]any)
	assert.Equal(t, "1", hard["services.loadbalancers"])
	assert.Equal(t, "2", hard["services.nodeports"], "the LoadBalancer Service's http and https node ports")
}

// Restricted unless a namespace asks for less; anything but the three Pod Security levels is refused before a
// resource is registered.
func TestPodSecurityLevel(t *testing.T) {
	for level, want := range map[string]string{"": "restricted", "baseline": "baseline", "privileged": "privileged"} {
		rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
			args := testArgs()
			args.PodSecurity = level
			_, err := New(ctx, "staging-apps", args)
			return err
		})
		require.NoError(t, err)
		labels := rec.One(t, "kubernetes:core/v1:Namespace", "staging-apps").Inputs.Mappable()["metadata"].(map[string]any)["labels"].(map[string]any)
		assert.Equal(t, want, labels["pod-security.kubernetes.io/enforce"], "PodSecurity %q", level)
	}
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		args := testArgs()
		args.PodSecurity = "strict"
		_, err := New(ctx, "staging-apps", args)
		return err
	})
	require.ErrorContains(t, err, `PodSecurity "strict" is not a Pod Security level: restricted, baseline or privileged`)
	assert.Empty(t, rec.Resources())
}
