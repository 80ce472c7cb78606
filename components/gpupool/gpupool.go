// Package gpupool provides the GPUPool component: a separate RTX 6000 node pool reserved for vLLM workloads.
// Its nodes carry labels to select them and a NoSchedule taint, so only pods that tolerate it (and ask for
// GPUs) land there.
package gpupool

import (
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The scheduling contract of the GPU nodes, for workloads to select and tolerate them.
const (
	TaintKey    = "nvidia.com/gpu"
	TaintValue  = "present"
	TaintEffect = "NoSchedule"
	PoolLabel   = "platform.lke/pool"
	PoolValue   = "gpu"
	WorkloadKey = "platform.lke/workload"
	WorkloadVal = "vllm"
)

// Args configures the GPU pool.
type Args struct {
	ClusterID pulumi.IntInput
	Type      string
	Count     int
	Tags      []string // the environment's tags (cluster.Tags), beside the pool's own
	// ExternalPoolTag is the tag the cluster lists in externalPoolTags (cluster.Args.ExternalPoolTag): the pool
	// carries it so that the cluster leaves it out of its own pools.
	ExternalPoolTag string
}

// GPUPool is the GPU node pool.
type GPUPool struct {
	pulumi.ResourceState

	PoolID pulumi.IDOutput
	Type   pulumi.StringOutput
	Count  pulumi.IntOutput
}

// Labels are the node labels of the GPU pool.
func Labels() map[string]string {
	return map[string]string{PoolLabel: PoolValue, WorkloadKey: WorkloadVal}
}

// New registers the GPUPool component.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*GPUPool, error) {
	g := &GPUPool{}
	if err := ctx.RegisterComponentResource("platform:gpupool:GPUPool", name, g, opts...); err != nil {
		return nil, err
	}
	pool, err := linode.NewLkeNodePool(ctx, name, &linode.LkeNodePoolArgs{
		ClusterId: args.ClusterID,
		Type:      pulumi.String(args.Type),
		NodeCount: pulumi.Int(args.Count),
		Labels:    pulumi.ToStringMap(Labels()),
		Taints: linode.LkeNodePoolTaintArray{&linode.LkeNodePoolTaintArgs{
			Key: pulumi.String(TaintKey), Value: pulumi.String(TaintValue), Effect: pulumi.String(TaintEffect),
		}},
		// ExternalPoolTag keeps the pool out of the LkeCluster's own pools (the cluster lists it in
		// externalPoolTags): without it a refresh reads this pool into the cluster and the next up deletes it.
		Tags: pulumi.ToStringArray(append([]string{"gpu:rtx6000", args.ExternalPoolTag}, args.Tags...)),
	}, pulumi.Parent(g))
	if err != nil {
		return nil, err
	}
	g.PoolID = pool.ID()
	g.Type = pool.Type
	g.Count = pool.NodeCount
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{"poolId": g.PoolID, "type": g.Type, "count": g.Count})
}
