package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGPUPoolPolicy(t *testing.T) {
	pool := res(lkeNodePoolType, "system-gpu", map[string]any{"type": "g1-gpu-rtx6000-1", "nodeCount": 2})
	cluster := func(types ...string) map[string]any {
		pools := make([]any, len(types))
		for i, typ := range types {
			pools[i] = map[string]any{"type": typ, "count": 3}
		}
		return map[string]any{"pools": pools}
	}

	assert.Empty(t, checkResource(t, gpuPoolPolicy(stackFor(system, false)), pool, nil))
	assert.Empty(t, checkResource(t, gpuPoolPolicy(stackFor("staging", false)), res(lkeNodePoolType, "extra", map[string]any{"type": "g6-standard-8"}), nil))
	assert.Empty(t, checkResource(t, gpuPoolPolicy(stackFor("staging", false)), res(lkeClusterType, "staging", cluster("g6-standard-8")), nil))
	assert.Empty(t, checkResource(t, gpuPoolPolicy(stackFor("staging", false)), pool, map[string]any{"environments": []any{"system", "staging"}}))

	got := checkResource(t, gpuPoolPolicy(stackFor(production, false)), pool, nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `linode:index/lkeNodePool:LkeNodePool "system-gpu": has GPU node type "g1-gpu-rtx6000-1" on environment "production"; GPU pools belong to system only. Fix: remove the pool`)

	got = checkResource(t, gpuPoolPolicy(stackFor("development", false)), res(lkeClusterType, "development", cluster("g6-standard-8", "g1-gpu-rtx6000-2")), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `"g1-gpu-rtx6000-2"`)
}

func TestGPUTolerationPolicy(t *testing.T) {
	p := gpuTolerationPolicy()
	toleration := map[string]any{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
	gpuContainer := goodContainer("vllm")
	gpuContainer["resources"].(map[string]any)["limits"].(map[string]any)["nvidia.com/gpu"] = "1"

	assert.Empty(t, checkResource(t, p, deployment("vllm", "system-ai", map[string]any{
		"tolerations": []any{toleration}, "containers": []any{goodContainer("proxy"), gpuContainer},
	}), nil))
	assert.Empty(t, checkResource(t, p, deployment("web", "system-apps", map[string]any{"containers": []any{goodContainer("app")}}), nil))
	assert.Empty(t, checkResource(t, p, deployment("agent", "monitoring", map[string]any{
		"tolerations": []any{map[string]any{"operator": "Exists"}}, "containers": []any{goodContainer("agent")},
	}), nil), "tolerating everything is a node agent, not a GPU squatter")

	got := checkResource(t, p, deployment("batch", "system-apps", map[string]any{
		"tolerations": []any{toleration}, "containers": []any{goodContainer("app")},
	}), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:apps/v1:Deployment "batch" (namespace "system-apps"): tolerates the "nvidia.com/gpu" taint but no container requests nvidia.com/gpu. Fix:`)
	assert.Equal(t, "advisory", levelName(p.EnforcementLevel()))
}
