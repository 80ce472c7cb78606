package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const componentURN = "urn:pulumi:test::lke-platform::platform:namespace:Namespace::staging-apps"

// guardedNamespace is what components/namespace registers for one namespace (namespace values as given).
func guardedNamespace(name string, namespace any) []policyx.AnalyzerResource {
	ns := res(namespaceType, name, map[string]any{"metadata": meta(name, "")})
	m := func(obj string) map[string]any { return map[string]any{"name": obj, "namespace": namespace} }
	quota := res(resourceQuotaType, name+"-quota", map[string]any{"metadata": m("environment-quota"), "spec": map[string]any{"hard": programHard()}})
	limits := res(limitRangeType, name+"-limits", map[string]any{"metadata": m("container-limits")})
	deny := res(networkPolicyType, name+"-default-deny-all", map[string]any{"metadata": m("default-deny-all"), "spec": map[string]any{
		"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"},
	}})
	out := []policyx.AnalyzerResource{ns, quota, limits, deny}
	for i := range out {
		out[i].Parent = componentURN
	}
	return out
}

func without(rs []policyx.AnalyzerResource, typ string) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, r := range rs {
		if r.Type != typ {
			out = append(out, r)
		}
	}
	return out
}

func TestNamespaceQuotaPolicy(t *testing.T) {
	p := namespaceQuotaPolicy()
	full := guardedNamespace("staging-apps", "staging-apps")

	t.Run("pass: the Namespace component's objects", func(t *testing.T) {
		assert.Empty(t, checkStack(t, p, full...).messages)
	})
	t.Run("pass: preview with the namespace still unknown, grouped by parent", func(t *testing.T) {
		assert.Empty(t, checkStack(t, p, guardedNamespace("staging-apps", unknown)...).messages)
	})
	t.Run("pass: preview with no property of any object known yet", func(t *testing.T) {
		assert.Empty(t, checkStack(t, p, unresolvedState(full)...).messages)
		loose := unresolvedState(full)
		for i := range loose {
			loose[i].Parent = ""
		}
		assert.Empty(t, checkStack(t, p, loose...).messages, "a quota whose namespace is unknown may be this one's")
	})
	t.Run("fail: no quota, whatever is unknown", func(t *testing.T) {
		v := checkStack(t, p, unresolvedState(without(full, resourceQuotaType))...)
		require.Len(t, v.messages, 1)
		assert.Contains(t, v.messages[0], `has no ResourceQuota. Fix:`)
	})
	t.Run("fail: no quota", func(t *testing.T) {
		v := checkStack(t, p, without(full, resourceQuotaType)...)
		require.Len(t, v.messages, 1)
		assert.Contains(t, v.messages[0], `kubernetes:core/v1:Namespace "staging-apps": has no ResourceQuota. Fix:`)
		assert.Equal(t, full[0].URN, v.urns[0], "attributed to the namespace")
	})
	t.Run("fail: neither, and the quota of another namespace does not count", func(t *testing.T) {
		other := guardedNamespace("staging-jobs", "staging-jobs")
		for i := range other {
			other[i].Parent = ""
		}
		rs := append(without(without(full, resourceQuotaType), limitRangeType), other...)
		v := checkStack(t, p, rs...)
		require.Len(t, v.messages, 1)
		assert.Contains(t, v.messages[0], `Namespace "staging-apps": has no ResourceQuota and no LimitRange`)
		assert.Contains(t, v.messages[0], "Fix: create the namespace through the Namespace component")
	})
}

func TestQuotaBoundsPolicy(t *testing.T) {
	p := quotaBoundsPolicy()
	quota := func(hard map[string]any) policyx.AnalyzerResource {
		return res(resourceQuotaType, "staging-apps-quota", map[string]any{
			"metadata": meta("environment-quota", "staging-apps"), "spec": map[string]any{"hard": hard},
		})
	}
	hard := func(changes map[string]any) map[string]any {
		h := map[string]any{}
		for k, v := range programHard() {
			h[k] = v
		}
		for k, v := range changes {
			h[k] = v
		}
		return h
	}

	assert.Empty(t, checkResource(t, p, quota(hard(nil)), nil), "the program's default quota")
	assert.Empty(t, checkResource(t, p, quota(hard(map[string]any{"pods": 300})), nil), "a number, not a string, at the bound")
	assert.Empty(t, checkResource(t, p, quota(hard(map[string]any{"pods": unknown})), nil), "unknown in a preview")
	assert.Empty(t, checkResource(t, p, res(limitRangeType, "x", nil), nil), "other types are ignored")

	got := checkResource(t, p, quota(hard(map[string]any{"pods": "500", "limits.cpu": "200"})), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:core/v1:ResourceQuota "staging-apps-quota" (namespace "staging-apps"): spec.hard: limits.cpu = 200 exceeds the bound 96; pods = 500 exceeds the bound 300. Fix: size the quota`)

	got = checkResource(t, p, quota(hard(nil)), map[string]any{"maxPods": float64(100)})
	require.Len(t, got, 1, "a stricter bound from policy config")
	assert.Contains(t, got[0], "pods = 108 exceeds the bound 100")

	v := &violations{}
	err := p.Validate(t.Context(), policyx.ResourceValidationArgs{Manager: v, Resource: quota(hard(nil)), Config: map[string]any{"maxRequestsCpu": "much"}})
	assert.ErrorContains(t, err, "maxRequestsCpu", "bad config fails the run with context")
}

func TestContainerResourcesPolicy(t *testing.T) {
	p := containerResourcesPolicy()
	pod := func(cs ...map[string]any) map[string]any {
		list := make([]any, len(cs))
		for i, c := range cs {
			list[i] = c
		}
		return map[string]any{"containers": list}
	}
	noLimits := goodContainer("sidecar")
	noLimits["resources"] = map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "16Mi"}}
	bare := map[string]any{"name": "bare", "image": "app:1"}
	computed := goodContainer("app")
	computed["resources"] = unknown

	assert.Empty(t, checkResource(t, p, deployment("web", "staging-apps", pod(goodContainer("app"))), nil))
	assert.Empty(t, checkResource(t, p, deployment("web", "staging-apps", pod(computed)), nil), "unknown in a preview")
	assert.Empty(t, checkResource(t, p, res(serviceType, "web", nil), nil), "not a workload")

	got := checkResource(t, p, deployment("web", "staging-apps", pod(goodContainer("app"), noLimits)), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:apps/v1:Deployment "web" (namespace "staging-apps"): container "sidecar" sets no resources.limits.cpu, resources.limits.memory. Fix:`)

	for typ, props := range map[string]map[string]any{
		"kubernetes:core/v1:Pod":         {"spec": pod(bare)},
		"kubernetes:apps/v1:StatefulSet": {"spec": map[string]any{"template": map[string]any{"spec": pod(bare)}}},
		"kubernetes:apps/v1:DaemonSet":   {"spec": map[string]any{"template": map[string]any{"spec": pod(bare)}}},
		"kubernetes:batch/v1:Job":        {"spec": map[string]any{"template": map[string]any{"spec": pod(bare)}}},
		"kubernetes:batch/v1:CronJob": {"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{
			"template": map[string]any{"spec": pod(bare)}}}}},
	} {
		got := checkResource(t, p, res(typ, "w", props), nil)
		require.Len(t, got, 1, typ)
		assert.Contains(t, got[0], `container "bare" sets no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory`, typ)
	}

	initOnly := pod(goodContainer("app"))
	initOnly["initContainers"] = []any{bare}
	got = checkResource(t, p, deployment("web", "staging-apps", initOnly), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `init container "bare"`)
}
