package platform

import (
	"k8s.io/apimachinery/pkg/api/resource"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/quota"
)

// Namespaces of the platform's own services that are not configurable.
const (
	ArgoCDNamespace      = "argocd"
	CertManagerNamespace = "cert-manager"
	ExternalDNSNamespace = "external-dns"
	// The Sealed Secrets controller runs where kubeseal looks for it by default. The program creates nothing in
	// kube-system itself: Argo CD installs the controller there.
	SealedSecretsNamespace = "kube-system"
)

// platformSizing sizes the quota of a platform namespace: a handful of controllers, some of them (Prometheus,
// Loki) far bigger than an application container. 10 services of up to 2 replicas at 2 CPU / 4Gi each.
var platformSizing = quota.Sizing{Services: 10, HeadroomPercent: 20, Profile: quota.Profile{
	CPURequest: resource.MustParse("250m"), CPULimit: resource.MustParse("2"),
	MemoryRequest: resource.MustParse("512Mi"), MemoryLimit: resource.MustParse("4Gi"),
	MinReplicas: 1, MaxReplicas: 2,
}}

// platformNamespaces are the namespaces of the platform's services, each with the guard rails every namespace
// gets (quota, limits, default-deny) plus the paths its job needs. NetworkPolicies cannot name the API server
// (it is not a pod) or the internet, so controllers get egress to any address: their traffic goes to the API
// server, ACME, Slack, Git and Helm repositories. Ingress stays closed but for the namespace's own pods, the
// ingress controller and the scrape; the ingress controller's namespace alone admits the public.
func platformNamespaces(env *config.Environment) []*namespace.Args {
	common := func(name string, allow ...namespace.Allow) *namespace.Args {
		return &namespace.Args{
			Name: name, Labels: env.Labels(), Sizing: platformSizing,
			IngressNamespace: env.IngressNamespace, MonitoringNamespace: env.MonitoringNamespace,
			Allow: append([]namespace.Allow{allowWithinNamespace(), allowEgressAnywhere()}, allow...),
			// Upstream controllers, installed from their charts: baseline. The workload namespaces, the access
			// namespace and any other keep the component's default, restricted.
			PodSecurity: "baseline",
		}
	}
	ingress := common(env.IngressNamespace, allowPublicHTTP())
	ingress.LoadBalancers = 1 // the one public entry point: a Linode NodeBalancer
	monitoring := common(env.MonitoringNamespace)
	monitoring.PodSecurity = "privileged" // the node exporter runs in the host's network and PID namespaces
	return []*namespace.Args{
		common(ArgoCDNamespace),
		monitoring,
		ingress,
		// Admission webhooks are called by the API server, whose requests reach pods through the cluster's
		// konnectivity agents in kube-system.
		common(CertManagerNamespace, allowFromNamespace("allow-webhook-from-kube-system", "kube-system")),
		common(ExternalDNSNamespace),
	}
}

func allowWithinNamespace() namespace.Allow {
	return namespace.Allow{Name: "allow-within-namespace", Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}}},
		}},
	}}
}

func allowFromNamespace(name, from string) namespace.Allow {
	return namespace.Allow{Name: name, Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
					"kubernetes.io/metadata.name": pulumi.String(from),
				}},
			}},
		}},
	}}
}

func allowEgressAnywhere() namespace.Allow {
	return namespace.Allow{Name: "allow-egress-controllers", Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{
				&networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String("0.0.0.0/0")}},
				&networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String("::/0")}},
			},
		}},
	}}
}

// allowPublicHTTP admits HTTP and HTTPS from any address to the ingress controller, and its admission webhook
// from the API server.
func allowPublicHTTP() namespace.Allow {
	tcp := func(port int) *networkingv1.NetworkPolicyPortArgs {
		return &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}
	}
	return namespace.Allow{Name: "allow-public-http", Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{
				&networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String("0.0.0.0/0")}},
				&networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String("::/0")}},
			},
			Ports: networkingv1.NetworkPolicyPortArray{tcp(80), tcp(443), tcp(8443)},
		}},
	}}
}
