// Command emptyprogram is the baseline of the preview benchmark (tests/bench_test.go): a Pulumi program that
// configures the same kubernetes provider as the platform and registers nothing else, so the ratio measures
// the platform's own cost.
package main

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		kubeconfig, _ := ctx.GetConfig("lke-platform-empty:kubeconfigPath")
		_, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String(kubeconfig)})
		return err
	})
}
