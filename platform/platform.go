// Package platform is the program every stack runs: it loads and validates the stack's configuration, then
// composes the components (the cluster, created, adopted or attached; the GPU pool where configured; admission
// policies; the environment's namespaces with their guard rails) and exports the stack's outputs.
package platform

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/components/admission"
	"github.com/platform-eng/lke-platform/components/cluster"
	"github.com/platform-eng/lke-platform/components/gpupool"
	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/config"
)

// Program is the Pulumi program of every stack.
func Program(ctx *pulumi.Context) error {
	env, err := config.Load(ctx)
	if err != nil {
		return err // before any resource is registered
	}
	return Compose(ctx, env)
}

// Compose registers the environment's components and exports its outputs. Production's resources are
// protected: deleting one takes an explicit `pulumi state unprotect` first.
func Compose(ctx *pulumi.Context, env *config.Environment) error {
	protect := pulumi.Protect(env.Protected())

	k8s, err := cluster.New(ctx, env.Name, &cluster.Args{
		Environment: env.Name, Region: env.Region, Tags: env.Tags, Cluster: env.Cluster,
	}, protect)
	if err != nil {
		return err
	}
	if env.GPUPool != nil {
		if _, err := gpupool.New(ctx, env.Name+"-gpu", &gpupool.Args{
			ClusterID: k8s.ClusterID, Type: env.GPUPool.Type, Count: env.GPUPool.Count,
			Tags: cluster.Tags(env.Name, env.Tags),
		}, protect); err != nil {
			return err
		}
	}

	// The pack's in-cluster rules as ValidatingAdmissionPolicies: what bypasses Pulumi is refused too.
	if _, err := admission.New(ctx, env.Name, &admission.Args{
		Environment: env.Name, IngressNamespace: env.IngressNamespace, Labels: env.Labels(),
		SystemNamespaces: []string{"kube-system", env.IngressNamespace, env.MonitoringNamespace},
	}, protect, pulumi.Provider(k8s.Provider)); err != nil {
		return err
	}

	var namespaces pulumi.StringArray
	for _, name := range env.Namespaces {
		ns, err := namespace.New(ctx, name, &namespace.Args{
			Name: name, Labels: env.Labels(), Sizing: env.Sizing,
			IngressNamespace: env.IngressNamespace, MonitoringNamespace: env.MonitoringNamespace,
		}, protect, pulumi.Provider(k8s.Provider))
		if err != nil {
			return err
		}
		namespaces = append(namespaces, ns.Name)
	}

	ctx.Export("environment", pulumi.String(env.Name))
	ctx.Export("region", pulumi.String(env.Region))
	ctx.Export("clusterMode", k8s.Mode)
	ctx.Export("clusterId", k8s.ClusterID)
	ctx.Export("kubeconfig", k8s.Kubeconfig) // secret in create mode; a file path in attach mode
	ctx.Export("namespaces", namespaces)
	return nil
}
