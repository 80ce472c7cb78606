package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func netpol(name, ns string, spec map[string]any) policyx.AnalyzerResource {
	return res(networkPolicyType, name, map[string]any{"metadata": meta(name, ns), "spec": spec})
}

func TestIsDefaultDeny(t *testing.T) {
	tests := []struct {
		name string
		spec map[string]any
		want bool
	}{
		{"the component's default-deny-all", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}}, true},
		{"types in either order, empty rule lists", map[string]any{
			"podSelector": map[string]any{"matchLabels": map[string]any{}}, "policyTypes": []any{"Egress", "Ingress"},
			"ingress": []any{}, "egress": []any{},
		}, true},
		{"ingress only", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}}, false},
		{"selects some pods", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "web"}}, "policyTypes": []any{"Ingress", "Egress"}}, false},
		{"selects by expression", map[string]any{"podSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "app", "operator": "Exists"}}}, "policyTypes": []any{"Ingress", "Egress"}}, false},
		{"has an allow rule", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}, "egress": []any{map[string]any{}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, isDefaultDeny(res(networkPolicyType, "p", map[string]any{"spec": tt.spec}).Properties.Get("spec")))
		})
	}
	assert.False(t, isDefaultDeny(props(map[string]any{"spec": unknown}).Get("spec")), "unknown is not proof")
}

func TestDefaultDenyPolicy(t *testing.T) {
	p := defaultDenyPolicy()
	full := guardedNamespace("production-apps", "production-apps")
	assert.Empty(t, checkStack(t, p, full...).messages)
	assert.Empty(t, checkStack(t, p, guardedNamespace("production-apps", unknown)...).messages, "preview: grouped by parent")

	v := checkStack(t, p, without(full, networkPolicyType)...)
	require.Len(t, v.messages, 1)
	assert.Contains(t, v.messages[0], `kubernetes:core/v1:Namespace "production-apps": has no default-deny NetworkPolicy`)
	assert.Equal(t, full[0].URN, v.urns[0])

	// An allow-only policy does not stand in for the default deny, nor does a deny-all in another namespace.
	allow := netpol("allow-dns", "production-apps", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Egress"}, "egress": []any{map[string]any{}}})
	elsewhere := netpol("deny", "production-jobs", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}})
	v = checkStack(t, p, append(without(full, networkPolicyType), allow, elsewhere)...)
	assert.Len(t, v.messages, 1)
}

// unresolvedState is a resource as a preview hands it to a stack policy when its provider has no configuration
// yet (create mode: the kubeconfig is the output of a cluster still to be created): the engine's state for it
// is empty, every property unknown.
func unresolvedState(rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	out := make([]policyx.AnalyzerResource, len(rs))
	for i, r := range rs {
		r.Properties = props(nil)
		out[i] = r
	}
	return out
}

// A rule whose input is not known yet reports nothing for it; the same rule refuses the real violation once the
// values are known, and a namespace that has no NetworkPolicy at all fails even in a preview.
func TestDefaultDenyJudgesUnknownAsUnknown(t *testing.T) {
	p := defaultDenyPolicy()
	full := guardedNamespace("staging-apps", "staging-apps")
	require.Equal(t, networkPolicyType, full[3].Type)

	t.Run("preview: no property of any object known yet", func(t *testing.T) {
		assert.Empty(t, checkStack(t, p, unresolvedState(full)...).messages)
		// Not even grouped by parent: the policy's namespace is unknown, so it may be this one's.
		loose := unresolvedState(full)
		loose[3].Parent = ""
		assert.Empty(t, checkStack(t, p, loose...).messages)
	})
	t.Run("preview: the spec, or part of it, still computed", func(t *testing.T) {
		for name, spec := range map[string]any{
			"spec":        unknown,
			"policyTypes": map[string]any{"podSelector": map[string]any{}, "policyTypes": unknown},
			"podSelector": map[string]any{"podSelector": unknown, "policyTypes": []any{"Ingress", "Egress"}},
		} {
			computed := res(networkPolicyType, "default-deny-all", map[string]any{"metadata": meta("default-deny-all", "staging-apps"), "spec": spec})
			computed.Parent = componentURN
			assert.Empty(t, checkStack(t, p, append(without(full, networkPolicyType), computed)...).messages, name)
		}
	})
	t.Run("preview: a deny-all elsewhere in the program, its namespace unknown", func(t *testing.T) {
		denySpec := map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}}
		elsewhere := res(networkPolicyType, "deny", map[string]any{"metadata": map[string]any{"name": "deny", "namespace": unknown}, "spec": denySpec})
		assert.Empty(t, checkStack(t, p, append(without(full, networkPolicyType), elsewhere)...).messages)

		// Once its namespace is known to be another one, it no longer counts.
		elsewhere = netpol("deny", "staging-jobs", denySpec)
		assert.Len(t, checkStack(t, p, append(without(full, networkPolicyType), elsewhere)...).messages, 1)
	})
	t.Run("update: known values, no default deny", func(t *testing.T) {
		allow := netpol("allow-dns", "staging-apps", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Egress"}, "egress": []any{map[string]any{}}})
		v := checkStack(t, p, append(without(full, networkPolicyType), allow)...)
		require.Len(t, v.messages, 1)
		assert.Contains(t, v.messages[0], `Namespace "staging-apps": has no default-deny NetworkPolicy`)
	})
	t.Run("preview: no NetworkPolicy at all is a violation whatever is unknown", func(t *testing.T) {
		v := checkStack(t, p, unresolvedState(without(full, networkPolicyType))...)
		require.Len(t, v.messages, 1)
		assert.Equal(t, full[0].URN, v.urns[0])
	})
}

func TestIngressFromEverywherePolicy(t *testing.T) {
	p := ingressFromEverywherePolicy()
	fromIngressController := map[string]any{"from": []any{map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}},
	}}}
	open := map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}, "ingress": []any{map[string]any{}}}

	assert.Empty(t, checkResource(t, p, netpol("allow-from-ingress-controller", "staging-apps", map[string]any{
		"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}, "ingress": []any{fromIngressController},
	}), nil), "the component's allow rule names its peer")
	assert.Empty(t, checkResource(t, p, netpol("allow-web", "ingress-nginx", open), nil), "the ingress namespace may")
	assert.Empty(t, checkResource(t, p, netpol("allow-web", "edge", open), map[string]any{"ingressNamespace": "edge"}), "configured ingress namespace")
	assert.Empty(t, checkResource(t, p, netpol("allow-web", "staging-apps", map[string]any{"ingress": []any{map[string]any{"from": unknown}}}), nil), "unknown in a preview")
	assert.Empty(t, checkResource(t, p, netpol("allow-cidr", "staging-apps", map[string]any{"ingress": []any{map[string]any{"from": []any{
		map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0", "except": []any{"10.0.0.0/8"}}},
	}}}}), nil), "an ipBlock with exceptions is a deliberate range")

	got := checkResource(t, p, netpol("allow-web", "staging-apps", open), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:networking.k8s.io/v1:NetworkPolicy "allow-web" (namespace "staging-apps"): spec.ingress[0] has no `+"`from`"+`, which admits every source. Fix: name the peers`)

	got = checkResource(t, p, netpol("allow-world", "staging-apps", map[string]any{"ingress": []any{
		fromIngressController,
		map[string]any{"from": []any{}},
		map[string]any{"from": []any{map[string]any{"ipBlock": map[string]any{"cidr": "::/0"}}}},
	}}), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "spec.ingress[1] has no `from`")
	assert.Contains(t, got[0], "spec.ingress[2] admits ipBlock ::/0, every address")

	// Without metadata.namespace the object lands in the provider's namespace, or "default".
	noNS := res(networkPolicyType, "allow-web", map[string]any{"metadata": map[string]any{"name": "allow-web"}, "spec": open})
	assert.Len(t, checkResource(t, p, noNS, nil), 1)
	noNS.Provider.Properties = props(map[string]any{"namespace": "ingress-nginx"})
	assert.Empty(t, checkResource(t, p, noNS, nil))
	noNS.Provider.Properties = props(map[string]any{"namespace": resource.MakeSecret(resource.NewStringProperty("ingress-nginx"))})
	assert.Empty(t, checkResource(t, p, noNS, nil), "secret values read like plain ones")
}
