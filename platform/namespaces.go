package platform

import (
	"k8s.io/apimachinery/pkg/api/resource"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/components/observability"
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

// monitoringSizing sizes the monitoring namespace, which runs more than the other platform namespaces: 13
// Services (kube-prometheus-stack's six, the two its operator adds for Prometheus and Alertmanager, Loki's four,
// Tempo's) and, besides about a dozen controller pods, two DaemonSets (the node exporter, Promtail) with a pod
// on every node. 18 Services give 44 pods: the controllers and both DaemonSets on up to 14 nodes
// (TestMonitoringQuotaAdmitsEveryNode checks each committed stack's autoscaler maximum against it). With
// platformSizing's 10 Services, kube-prometheus-stack's operator Service was refused, found once Argo CD synced
// the chart from this repository.
var monitoringSizing = func() quota.Sizing {
	s := platformSizing
	s.Services = 18
	return s
}()

// platformNamespaces are the namespaces of the platform's services, each with the guard rails every namespace
// gets (quota, limits, default-deny) plus the paths its job needs. Egress is opened per namespace, by port: a
// NetworkPolicy cannot name the API server (not a pod; 443 or 6443 behind the kubernetes Service) or a host on
// the internet, so those are ports to any address, and what is a pod is named by its namespace. Ingress stays
// closed but for the namespace's own pods, the scrape and the path its job needs (not the ingress controller:
// Internal); the ingress controller's namespace alone admits the public. docs/reachability.md is the result.
func platformNamespaces(env *config.Environment) []*namespace.Args {
	common := func(name string, allow ...namespace.Allow) *namespace.Args {
		return &namespace.Args{
			Name: name, Labels: env.Labels(), Sizing: platformSizing,
			IngressNamespace: env.IngressNamespace, MonitoringNamespace: env.MonitoringNamespace,
			Allow: append([]namespace.Allow{allowWithinNamespace()}, allow...),
			// Nothing of the platform's is served through the ingress controller: Argo CD runs without its UI,
			// Grafana is not exposed (exposing it is an Ingress in the monitoring namespace and a NetworkPolicy
			// admitting the controller to Grafana's pods only), and the controller's own pods reach each other
			// through allow-within-namespace.
			Internal: true,
			// Upstream controllers, installed from their charts: baseline. The workload namespaces, the access
			// namespace and any other keep the component's default, restricted.
			PodSecurity: "baseline",
		}
	}
	// The ingress controller proxies to the workload namespaces (their pods, on their own ports), by name: not to
	// the platform's namespaces, which serve nothing through it (an upstream policy opening a port to every
	// namespace, as Argo CD's do for metrics, must not open it to the public's proxy), and watches Ingresses.
	ingress := common(env.IngressNamespace, allowPublicHTTP(), allowEgressPorts(apiServerPorts...),
		allowEgressToPods("allow-egress-to-backends", &metav1.LabelSelectorArgs{
			MatchExpressions: metav1.LabelSelectorRequirementArray{&metav1.LabelSelectorRequirementArgs{
				Key: pulumi.String(namespaceNameLabel), Operator: pulumi.String("In"), Values: pulumi.ToStringArray(env.Namespaces),
			}},
		}))
	ingress.LoadBalancers = 1 // the one public entry point: a Linode NodeBalancer
	// Prometheus scrapes pods in every namespace and the nodes (the kubelet, and the node exporter in the
	// host's network, on the environment's own port); Alertmanager posts to Slack over HTTPS.
	monitoring := common(env.MonitoringNamespace,
		allowEgressPorts(append(apiServerPorts, kubeletPort, observability.NodeExporterPort(env.Name))...),
		allowEgressToPods("allow-egress-scrape", &metav1.LabelSelectorArgs{}), allowEventsIntoLoki(env.MonitoringNamespace, false))
	monitoring.PodSecurity = "privileged" // the node exporter runs in the host's network and PID namespaces
	monitoring.Sizing = monitoringSizing
	return []*namespace.Args{
		// Argo CD's egress is the bootstrap's (gitops.ArgoCDEgressPolicy): the API server, Git and Helm over HTTPS.
		// Its notifications controller pushes the Applications' events to Loki (gitops.EventsArgs).
		common(ArgoCDNamespace, allowEventsIntoLoki(env.MonitoringNamespace, true)),
		monitoring,
		ingress,
		// Admission webhooks are called by the API server, whose requests reach pods through the cluster's
		// konnectivity agents in kube-system. cert-manager talks to the API server and to the ACME server over
		// HTTPS, and checks an HTTP-01 challenge on port 80 before it asks the ACME server to.
		common(CertManagerNamespace, allowFromNamespace("allow-webhook-from-kube-system", "kube-system"),
			allowEgressPorts(append(apiServerPorts, 80)...)),
		// external-dns: the API server and the Linode API, both HTTPS.
		common(ExternalDNSNamespace, allowEgressPorts(apiServerPorts...)),
	}
}

// Ports a platform namespace's egress opens to any address. The node exporter's is the environment's own
// (observability.NodeExporterPort): environments sharing nodes each bind a host port of their own.
var (
	apiServerPorts = []int{443, 6443} // the kubernetes Service's port and the API server's own; HTTPS too
	kubeletPort    = 10250
)

// namespaceNameLabel is set by the API server on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// allowEventsIntoLoki is the one path from Argo CD's namespace into the monitoring namespace: the notifications
// controller's pushes to Loki's gateway, on the gateway's pod port. Egress is the Argo CD namespace's side of it,
// ingress the monitoring namespace's.
func allowEventsIntoLoki(monitoringNamespace string, egress bool) namespace.Allow {
	notifications := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
		"app.kubernetes.io/name": pulumi.String(gitops.NotificationsController),
	}}
	gateway := &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(observability.LokiGatewayPodLabels)}
	byName := func(ns string) *metav1.LabelSelectorArgs {
		return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}}
	}
	ports := networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{
		Protocol: pulumi.String("TCP"), Port: pulumi.Int(observability.LokiGatewayPort),
	}}
	if egress {
		return namespace.Allow{Name: "allow-egress-events-to-loki", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: notifications,
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{
				To:    networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: byName(monitoringNamespace), PodSelector: gateway}},
				Ports: ports,
			}},
		}}
	}
	return namespace.Allow{Name: "allow-events-from-argocd", Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: gateway,
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: byName(ArgoCDNamespace), PodSelector: notifications}},
			Ports: ports,
		}},
	}}
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

// allowEgressPorts opens egress to any address on the given TCP ports only: what the controllers reach outside
// the cluster's pods (the API server, ACME, Slack, the Linode API, the nodes).
func allowEgressPorts(ports ...int) namespace.Allow {
	var tcp networkingv1.NetworkPolicyPortArray
	for _, p := range ports {
		tcp = append(tcp, &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
	}
	return namespace.Allow{Name: "allow-egress-ports", Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{Ports: tcp}},
	}}
}

// allowEgressToPods opens egress to the pods of the namespaces namespaces selects (every namespace when it is
// empty), on any port: the ports are the pods' own.
func allowEgressToPods(name string, namespaces *metav1.LabelSelectorArgs) namespace.Allow {
	return namespace.Allow{Name: name, Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: namespaces,
			}},
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
