// Command program is the smallest stack cmd/audit can report on, for tests/audit_test.go: one ConfigMap in the
// local control plane's default namespace, annotated from config so that a second update changes it in place
// (a change of a ConfigMap's data would replace it),
// and the rootApplication output the platform exports, named as the platform names it.
package main

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		get := func(key string) string {
			v, _ := ctx.GetConfig(ctx.Project() + ":" + key)
			return v
		}
		env := get("environment")
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.String(get("kubeconfigPath")),
		})
		if err != nil {
			return err
		}
		_, err = corev1.NewConfigMap(ctx, "audited", &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String("audited-" + ctx.Stack()), Namespace: pulumi.String("default"),
				Annotations: pulumi.StringMap{"lke-platform/revision": pulumi.String(get("revision"))},
			},
			Data: pulumi.StringMap{"purpose": pulumi.String("cmd/audit integration test")},
		}, pulumi.Provider(k8s))
		if err != nil {
			return err
		}
		ctx.Export("rootApplication", pulumi.String("platform-"+env+"-infrastructure"))
		return nil
	})
}
