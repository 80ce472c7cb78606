// Package namespace provides the Namespace component: one environment namespace with its ResourceQuota and
// LimitRange (sized by the quota package) and NetworkPolicies that deny all traffic by default and allow only
// DNS, the ingress controller and the monitoring scrape.
package namespace

import (
	"fmt"
	"strconv"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/quota"
)

// Names of the objects each namespace gets; the policy pack and the docs refer to them.
const (
	QuotaName             = "environment-quota"
	LimitRangeName        = "container-limits"
	DefaultDenyPolicy     = "default-deny-all"
	AllowDNSPolicy        = "allow-dns-egress"
	AllowIngressPolicy    = "allow-from-ingress-controller"
	AllowMonitoringPolicy = "allow-monitoring-scrape"
)

// namespaceNameLabel is set by the API server on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// The peers the allow rules name: the cluster's DNS, and Prometheus in the monitoring namespace. The reachability
// check (package reachability) names the same pods.
const DNSNamespace = "kube-system"

var (
	DNSPodLabels        = map[string]string{"k8s-app": "kube-dns"}
	PrometheusPodLabels = map[string]string{"app.kubernetes.io/name": "prometheus"}
)

// Args configures one namespace: an environment's workload namespace, or a platform namespace (Argo CD,
// monitoring, the ingress controller, ...), which gets the same guard rails plus the paths its job needs.
type Args struct {
	Name                string            // full name: "<env>-<short name>", or the platform namespace's own
	Labels              map[string]string // the environment's common labels
	Sizing              quota.Sizing
	IngressNamespace    string
	MonitoringNamespace string
	// LoadBalancers is how many LoadBalancer Services the quota admits: 0 except where the ingress controller runs.
	LoadBalancers int
	// Allow are extra NetworkPolicies beside the default ones, each opening one more path.
	Allow []Allow
	// Internal is a namespace that serves nothing through the ingress controller (the platform's own, Grafana's
	// included while it is not exposed): it gets no path from the ingress controller's namespace, so a proxy
	// misrouted by an Ingress elsewhere cannot reach it.
	Internal bool
	// PodSecurity is the Pod Security level enforced: "restricted" (the default: a namespace nobody thought about
	// gets the strictest), "baseline" for the platform's upstream controllers, or "privileged" for the monitoring
	// namespace, whose node exporter reads the host.
	PodSecurity string
}

// Allow is one extra NetworkPolicy of a namespace.
type Allow struct {
	Name string
	Spec *networkingv1.NetworkPolicySpecArgs
}

// Namespace is one environment namespace and the guard rails that come with it.
type Namespace struct {
	pulumi.ResourceState

	Name pulumi.StringOutput
}

// New registers the Namespace component.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Namespace, error) {
	level, err := podSecurity(args.PodSecurity)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", args.Name, err)
	}
	n := &Namespace{}
	if err := ctx.RegisterComponentResource("platform:namespace:Namespace", name, n, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(n)
	labels := pulumi.ToStringMap(args.Labels)

	nsLabels := pulumi.StringMap{
		// Pod Security Admission: enforce the namespace's level, warn about and audit anything short of restricted.
		"pod-security.kubernetes.io/enforce": pulumi.String(level),
		"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
		"pod-security.kubernetes.io/audit":   pulumi.String("restricted"),
	}
	for k, v := range labels {
		nsLabels[k] = v
	}
	ns, err := corev1.NewNamespace(ctx, args.Name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Name), Labels: nsLabels},
	}, child)
	if err != nil {
		return nil, err
	}
	n.Name = ns.Metadata.Name().Elem()
	meta := func(objectName string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: n.Name, Labels: labels}
	}

	q := quota.Compute(args.Sizing)
	if _, err := corev1.NewResourceQuota(ctx, args.Name+"-quota", &corev1.ResourceQuotaArgs{
		Metadata: meta(QuotaName),
		Spec:     &corev1.ResourceQuotaSpecArgs{Hard: pulumi.ToStringMap(Hard(q, args.LoadBalancers))},
	}, child); err != nil {
		return nil, err
	}

	l := quota.LimitRange(args.Sizing)
	if _, err := corev1.NewLimitRange(ctx, args.Name+"-limits", &corev1.LimitRangeArgs{
		Metadata: meta(LimitRangeName),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{&corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(l.DefaultRequestCPU.String()), "memory": pulumi.String(l.DefaultRequestMemory.String())},
			Default:        pulumi.StringMap{"cpu": pulumi.String(l.DefaultLimitCPU.String()), "memory": pulumi.String(l.DefaultLimitMemory.String())},
			Max:            pulumi.StringMap{"cpu": pulumi.String(l.MaxCPU.String()), "memory": pulumi.String(l.MaxMemory.String())},
		}}},
	}, child); err != nil {
		return nil, err
	}

	all := policies(args)
	for _, a := range args.Allow {
		all = append(all, policy{a.Name, a.Spec})
	}
	for _, p := range all {
		if _, err := networkingv1.NewNetworkPolicy(ctx, args.Name+"-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: meta(p.name),
			Spec:     p.spec,
		}, child); err != nil {
			return nil, err
		}
	}

	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{"name": n.Name})
}

// podSecurity is the level to enforce: restricted unless the namespace asks for one of the others.
func podSecurity(level string) (string, error) {
	switch level {
	case "":
		return "restricted", nil
	case "restricted", "baseline", "privileged":
		return level, nil
	}
	return "", fmt.Errorf("PodSecurity %q is not a Pod Security level: restricted, baseline or privileged", level)
}

// NodePortsPerLoadBalancer is what one LoadBalancer Service of the ingress controller takes of the quota's
// services.nodeports: its two ports (http, https) each get a node port, which the quota counts as it counts a
// NodePort Service's, and through which the cloud's load balancer (a Linode NodeBalancer) reaches the nodes.
const NodePortsPerLoadBalancer = 2

// Hard is the ResourceQuota's hard limits. LoadBalancer Services are refused beyond loadBalancers (0 but in the
// ingress controller's namespace), and node ports beyond what those take: traffic enters through the ingress
// controller only. (A quota of 0 node ports in the ingress controller's namespace refused its own Service: found
// once the chart was rendered from this repository and synced by Argo CD.)
func Hard(q quota.Quota, loadBalancers int) map[string]string {
	return map[string]string{
		"pods":                   strconv.Itoa(q.Pods),
		"services":               strconv.Itoa(q.Services),
		"services.loadbalancers": strconv.Itoa(loadBalancers),
		"services.nodeports":     strconv.Itoa(loadBalancers * NodePortsPerLoadBalancer),
		"requests.cpu":           q.RequestsCPU.String(),
		"requests.memory":        q.RequestsMemory.String(),
		"limits.cpu":             q.LimitsCPU.String(),
		"limits.memory":          q.LimitsMemory.String(),
	}
}

type policy struct {
	name string
	spec *networkingv1.NetworkPolicySpecArgs
}

// policies are the namespace's NetworkPolicies. Policies are additive: the first denies everything, each of the
// others opens exactly one path.
func policies(args *Args) []policy {
	allPods := &metav1.LabelSelectorArgs{}
	namespaceNamed := func(name string) *metav1.LabelSelectorArgs {
		return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{namespaceNameLabel: pulumi.String(name)}}
	}
	port := func(protocol string) *networkingv1.NetworkPolicyPortArgs {
		return &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(protocol), Port: pulumi.Int(53)}
	}
	out := []policy{
		{DefaultDenyPolicy, &networkingv1.NetworkPolicySpecArgs{
			PodSelector: allPods,
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		}},
		{AllowDNSPolicy, &networkingv1.NetworkPolicySpecArgs{
			PodSelector: allPods,
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: namespaceNamed(DNSNamespace),
					PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(DNSPodLabels)},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{port("UDP"), port("TCP")},
			}},
		}},
		{AllowMonitoringPolicy, allowIngressFrom(&networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: namespaceNamed(args.MonitoringNamespace),
			PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(PrometheusPodLabels)},
		})},
	}
	if !args.Internal {
		out = append(out, policy{AllowIngressPolicy, allowIngressFrom(&networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: namespaceNamed(args.IngressNamespace),
		})})
	}
	return out
}

// allowIngressFrom is a policy that admits ingress to every pod of the namespace from one peer only.
func allowIngressFrom(peer *networkingv1.NetworkPolicyPeerArgs) *networkingv1.NetworkPolicySpecArgs {
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{peer},
		}},
	}
}
