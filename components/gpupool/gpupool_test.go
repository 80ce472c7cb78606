package gpupool

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

func TestGPUPoolIsTaintedAndLabelledForVLLM(t *testing.T) {
	rec, err := mocks.Run(t, "system", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "system-gpu", &Args{ClusterID: pulumi.Int(531900), Type: "g1-gpu-rtx6000-1", Count: 2, Tags: []string{"environment:system"}, ExternalPoolTag: "pool:external"})
		return err
	})
	require.NoError(t, err)
	pool := rec.One(t, "linode:index/lkeNodePool:LkeNodePool", "system-gpu")
	in := pool.Inputs.Mappable()
	assert.Equal(t, 531900.0, in["clusterId"])
	assert.Equal(t, "g1-gpu-rtx6000-1", in["type"])
	assert.Equal(t, 2.0, in["nodeCount"])
	assert.Equal(t, map[string]any{"platform.lke/pool": "gpu", "platform.lke/workload": "vllm"}, in["labels"])
	assert.Equal(t, []any{map[string]any{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}}, in["taints"])
	assert.Equal(t, []any{"gpu:rtx6000", "pool:external", "environment:system"}, in["tags"],
		"the external pool tag keeps the pool out of the LkeCluster's pools (its externalPoolTags)")
	assert.Contains(t, pool.Parent, "platform:gpupool:GPUPool::system-gpu")
}
