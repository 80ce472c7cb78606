// Command accessprogram deploys what the platform deploys for access packages, without the rest of the
// platform: one workload namespace "<environment>-apps" (the platform's Namespace component), the access
// component for the stack's accessPackages, validated by the platform's config package, and the environment's
// admission policies, which hold a package to what it may do beyond RBAC (it may not delete the platform's
// objects). Its outputs have the
// platform's names (kubeconfig, accessPackages), so scripts/access works on it as on a platform stack.
// tests/access_test.go deploys it onto the local control plane.
package main

import (
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/components/access"
	"github.com/platform-eng/lke-platform/components/admission"
	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/platform"
	"github.com/platform-eng/lke-platform/quota"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		get := func(key string) (string, bool) { return ctx.GetConfig("accessprogram:" + key) }
		env, _ := get("environment")
		kubeconfig, _ := get("kubeconfigPath")
		now := time.Now()
		packages, err := config.ParseAccessPackages(get, env, []string{"apps"}, now)
		if err != nil {
			return err
		}
		provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String(kubeconfig)})
		if err != nil {
			return err
		}
		labels := map[string]string{names.EnvironmentLabel: env, names.PartOfLabel: names.PartOf}
		apps, err := namespace.New(ctx, env+"-apps", &namespace.Args{
			Name: env + "-apps", Labels: labels, IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
			Sizing: quota.Sizing{Services: 2, HeadroomPercent: 20, Profile: quota.Profile{
				CPURequest: resource.MustParse("100m"), CPULimit: resource.MustParse("500m"),
				MemoryRequest: resource.MustParse("128Mi"), MemoryLimit: resource.MustParse("256Mi"),
				MinReplicas: 1, MaxReplicas: 2,
			}},
		}, pulumi.Provider(provider))
		if err != nil {
			return err
		}
		granted, err := access.New(ctx, env, &access.Args{
			Environment: env, Labels: labels, Packages: platform.AccessPackages(packages),
			Source: platform.AccessPackagesSource, Now: now,
			IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
		}, pulumi.Provider(provider), pulumi.DependsOn([]pulumi.Resource{apps}))
		if err != nil {
			return err
		}
		if _, err := admission.New(ctx, env, &admission.Args{
			Environment: env, IngressNamespace: "ingress-nginx", Labels: labels, Domain: "lke.example.com",
			SystemNamespaces: []string{"kube-system"}, SecretWriters: []string{"system:kube-controller-manager"},
			Platform: platform.PlatformIdentities,
		}, pulumi.Provider(provider)); err != nil {
			return err
		}
		ctx.Export("kubeconfig", pulumi.String(kubeconfig))
		ctx.Export("accessPackages", granted.Issued)
		return nil
	})
}
