// Command capacity is the capacity harness (spec section 8): it deploys N placeholder services into one
// namespace made by the platform's own Namespace component, with the quota, LimitRange and default-deny sized
// from a real environment's stack files, so that tests/capacity_test.go can show what the generated quota
// admits, what it refuses, and that each service's HPA holds its configured range.
package main

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/quota"
)

// DefaultNamespace is where the placeholders go unless capacity:namespace says otherwise: not an environment's
// own, so the harness never touches one.
const DefaultNamespace = "capacity-apps"

// projectDir holds the platform's Pulumi.yaml and stack files, relative to this program's directory.
const projectDir = "../.."

// image is a pinned pause image: the placeholders only have to be admitted, scheduled and scaled.
const image = "registry.k8s.io/pause:3.10"

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		env, ok := ctx.GetConfig("capacity:environment")
		if !ok {
			env = config.Development
		}
		raw, _ := ctx.GetConfig("capacity:services")
		services, err := strconv.Atoi(raw)
		if err != nil || services < 1 || services > 500 {
			return fmt.Errorf("capacity:services = %q is not allowed; want an integer in 1..500", raw)
		}
		kubeconfig, _ := ctx.GetConfig("capacity:kubeconfigPath")
		if kubeconfig == "" {
			return fmt.Errorf("capacity:kubeconfigPath is not set; want the path of the cluster's kubeconfig")
		}
		namespaceName, ok := ctx.GetConfig("capacity:namespace")
		if !ok {
			namespaceName = DefaultNamespace
		}
		values, err := config.StackValues(projectDir, env)
		if err != nil {
			return fmt.Errorf("capacity:environment = %q: reading its stack files: %w", env, err)
		}
		// The scaling benchmark (tests/bench_test.go) goes past an environment's 30 services: it sizes the quota
		// for more, the same way the platform would if servicesPerNamespace said so. (Pulumi.yaml declares 0 as
		// the default: a declared key without one would be required of every stack.)
		if n, ok := ctx.GetConfig("capacity:servicesPerNamespace"); ok && n != "0" {
			values["servicesPerNamespace"] = n
		}
		sizing, err := config.ParseSizing(func(key string) (string, bool) { v, ok := values[key]; return v, ok })
		if err != nil {
			return fmt.Errorf("environment %s: %w", env, err)
		}

		provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.String(kubeconfig),
		})
		if err != nil {
			return err
		}
		ns, err := namespace.New(ctx, namespaceName, &namespace.Args{
			Name: namespaceName, Labels: map[string]string{names.EnvironmentLabel: env}, Sizing: sizing,
			IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
		}, pulumi.Provider(provider))
		if err != nil {
			return err
		}
		inNamespace := []pulumi.ResourceOption{pulumi.Provider(provider), pulumi.DependsOn([]pulumi.Resource{ns})}
		for i := 1; i <= services; i++ {
			if err := placeholder(ctx, namespaceName, fmt.Sprintf("placeholder-%03d", i), sizing.Profile, inNamespace...); err != nil {
				return err
			}
		}
		ctx.Export("namespace", pulumi.String(namespaceName))
		ctx.Export("quotaServices", pulumi.Int(sizing.Services))
		ctx.Export("minReplicas", pulumi.Int(sizing.Profile.MinReplicas))
		ctx.Export("maxReplicas", pulumi.Int(sizing.Profile.MaxReplicas))
		return nil
	})
}

// placeholder is one service as the quota counts it: a Deployment whose replicas the HPA owns, its Service and
// the HPA, with the profile's requests and limits.
func placeholder(ctx *pulumi.Context, ns, name string, p quota.Profile, opts ...pulumi.ResourceOption) error {
	labels := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(name)}
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(ns), Labels: labels}
	deployment, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: meta,
		Spec: &appsv1.DeploymentSpecArgs{
			// No replicas: the HPA owns them, and a second up must not reset what it chose.
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:  pulumi.String("app"),
						Image: pulumi.String(image),
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{
								"cpu": pulumi.String(p.CPURequest.String()), "memory": pulumi.String(p.MemoryRequest.String()),
							},
							Limits: pulumi.StringMap{
								"cpu": pulumi.String(p.CPULimit.String()), "memory": pulumi.String(p.MemoryLimit.String()),
							},
						},
						SecurityContext: &corev1.SecurityContextArgs{
							RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(65532),
							AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true),
							Capabilities:   &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
							SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
						},
					}},
				},
			},
		},
	}, opts...)
	if err != nil {
		return err
	}
	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta,
		Spec: &corev1.ServiceSpecArgs{
			Selector: labels,
			Ports:    corev1.ServicePortArray{&corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(8080)}},
		},
	}, opts...); err != nil {
		return err
	}
	_, err = autoscalingv2.NewHorizontalPodAutoscaler(ctx, name, &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: meta,
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: deployment.Metadata.Name().Elem(),
			},
			MinReplicas: pulumi.Int(p.MinReplicas),
			MaxReplicas: pulumi.Int(p.MaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{&autoscalingv2.MetricSpecArgs{
				Type: pulumi.String("Resource"),
				Resource: &autoscalingv2.ResourceMetricSourceArgs{
					Name:   pulumi.String("cpu"),
					Target: &autoscalingv2.MetricTargetArgs{Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(70)},
				},
			}},
		},
	}, opts...)
	return err
}
