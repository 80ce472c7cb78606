// Command policyviolations registers one deliberately non-compliant object, chosen by the config key
// policyviolations:case, inside an otherwise compliant environment namespace (made by the platform's own
// Namespace component), so that exactly one policy of the pack has something to refuse. tests/policy_test.go
// previews it once per case with the real CLI and the compiled pack.
package main

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/quota"
)

const ns = "violations-apps"

// violation registers the non-compliant object of one case in namespace ns.
type violation func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error

var cases = map[string]violation{
	"compliant": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		return deployment(ctx, "web", container("registry.example/web:1.4.2", true, false), nil, opts...)
	},
	"namespace-without-guardrails": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := corev1.NewNamespace(ctx, "bare", &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("violations-bare")},
		}, opts...)
		return err
	},
	"container-without-limits": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		return deployment(ctx, "web", container("registry.example/web:1.4.2", false, false), nil, opts...)
	},
	"ingress-from-everywhere": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := networkingv1.NewNetworkPolicy(ctx, "open", &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("allow-all"), Namespace: pulumi.String(ns)},
			Spec: &networkingv1.NetworkPolicySpecArgs{
				PodSelector: &metav1.LabelSelectorArgs{},
				PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
				Ingress:     networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{}},
			},
		}, opts...)
		return err
	},
	"loadbalancer": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := corev1.NewService(ctx, "public", &corev1.ServiceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("public"), Namespace: pulumi.String(ns)},
			Spec: &corev1.ServiceSpecArgs{
				Type:     pulumi.String("LoadBalancer"),
				Selector: pulumi.StringMap{"app": pulumi.String("web")},
				Ports:    corev1.ServicePortArray{&corev1.ServicePortArgs{Port: pulumi.Int(80)}},
			},
		}, opts...)
		return err
	},
	"latest-image": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		return deployment(ctx, "web", container("registry.example/web:latest", true, false), nil, opts...)
	},
	"privileged": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		return deployment(ctx, "web", container("registry.example/web:1.4.2", true, true), nil, opts...)
	},
	"service-account-token": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := corev1.NewSecret(ctx, "forever-token", &corev1.SecretArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String("forever-token"), Namespace: pulumi.String(ns),
				Annotations: pulumi.StringMap{"kubernetes.io/service-account.name": pulumi.String("default")},
			},
			Type: pulumi.String("kubernetes.io/service-account-token"),
		}, opts...)
		return err
	},
	"quota-too-large": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		big := sizing()
		big.Services = 400 // 400 services x 2 replicas + 20% = 960 pods, beyond the pack's default bound of 300
		_, err := namespace.New(ctx, "violations-big", &namespace.Args{
			Name: "violations-big", Sizing: big, IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
		}, opts...)
		return err
	},
	"gpu-toleration-without-request": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		tolerations := corev1.TolerationArray{&corev1.TolerationArgs{
			Key: pulumi.String("nvidia.com/gpu"), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
		}}
		return deployment(ctx, "vllm", container("registry.example/vllm:0.9.1", true, false), tolerations, opts...)
	},
}

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		name, _ := ctx.GetConfig("policyviolations:case")
		register, ok := cases[name]
		if !ok {
			return fmt.Errorf("policyviolations:case = %q; want one of %v", name, caseNames())
		}
		// Production stacks of this program protect what they make, as the platform does, unless the case is
		// about exactly that.
		protect, _ := ctx.GetConfig("policyviolations:protect")
		protected := pulumi.Protect(protect == "true")
		kubeconfig, _ := ctx.GetConfig("policyviolations:kubeconfigPath")
		provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String(kubeconfig)}, protected)
		if err != nil {
			return err
		}
		opts := []pulumi.ResourceOption{pulumi.Provider(provider), protected}
		env, err := namespace.New(ctx, ns, &namespace.Args{
			Name: ns, Labels: map[string]string{names.EnvironmentLabel: ctx.Stack()}, Sizing: sizing(),
			IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
		}, opts...)
		if err != nil {
			return err
		}
		return register(ctx, append(opts, pulumi.DependsOn([]pulumi.Resource{env}))...)
	})
}

func caseNames() []string {
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sizing() quota.Sizing {
	return quota.Sizing{Services: 10, HeadroomPercent: 20, Profile: quota.Profile{
		CPURequest: resource.MustParse("100m"), CPULimit: resource.MustParse("500m"),
		MemoryRequest: resource.MustParse("128Mi"), MemoryLimit: resource.MustParse("256Mi"),
		MinReplicas: 1, MaxReplicas: 2,
	}}
}

func container(image string, limits, privileged bool) *corev1.ContainerArgs {
	c := &corev1.ContainerArgs{Name: pulumi.String("app"), Image: pulumi.String(image)}
	if limits {
		c.Resources = &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("256Mi")},
		}
	}
	if privileged {
		c.SecurityContext = &corev1.SecurityContextArgs{Privileged: pulumi.Bool(true)}
	}
	return c
}

func deployment(ctx *pulumi.Context, name string, c *corev1.ContainerArgs, tolerations corev1.TolerationArray, opts ...pulumi.ResourceOption) error {
	labels := pulumi.StringMap{"app": pulumi.String(name)}
	_, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(ns)},
		Spec: &appsv1.DeploymentSpecArgs{
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec:     &corev1.PodSpecArgs{Containers: corev1.ContainerArray{c}, Tolerations: tolerations},
			},
		},
	}, opts...)
	return err
}
