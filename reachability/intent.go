package reachability

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/components/observability"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/platform"
)

// Intent is what the platform means its NetworkPolicies to allow in one environment, written from the
// configuration and from what platform/namespaces.go, components/namespace and components/gitops say each path is
// for, never from the policies themselves. Traffic is intended when the source's side lets it leave (an egress
// rule) and the destination's side lets it in (an ingress rule). A side outside the environment's namespaces
// (kube-system, another environment, an address outside the cluster) is not the environment's to restrict.
type Intent struct {
	// Namespaces are the environment's: the workload namespaces, the platform's and any other the program creates.
	Namespaces []string
	Egress     []Rule
	Ingress    []Rule
}

// Rule is one intended kind of path.
type Rule struct {
	Why string
	// Exception marks a path the platform takes from upstream as it is, wider than its own intent: listed in the
	// document, and a test fails once it is no longer needed.
	Exception bool
	Allows    func(from, to Peer, port Port) bool
}

// Intended is the matrix the intent gives over peers and ports.
func (in *Intent) Intended(peers []Peer, ports []Port) *Matrix {
	m := &Matrix{Peers: peers, Ports: ports, allowed: map[cell]bool{}}
	for i, from := range peers {
		for j, to := range peers {
			if i == j {
				continue
			}
			for _, port := range ports {
				if in.side(in.Egress, from, from, to, port) && in.side(in.Ingress, to, from, to, port) {
					m.allowed[cell{i, j, port}] = true
				}
			}
		}
	}
	return m
}

// side says whether the side of owner lets the traffic through: open when owner is not the environment's.
func (in *Intent) side(rules []Rule, owner, from, to Peer, port Port) bool {
	if !slices.Contains(in.Namespaces, owner.Namespace) {
		return true
	}
	return slices.ContainsFunc(rules, func(r Rule) bool { return r.Allows(from, to, port) })
}

// IntentFor is the intent for env; created are the namespaces the program creates (Objects.Namespaces), each of
// which is the environment's.
func IntentFor(env *config.Environment, created []string) *Intent {
	ingressNS, monitoringNS := env.IngressNamespace, env.MonitoringNamespace
	platformNS := []string{ingressNS, monitoringNS, platform.ArgoCDNamespace, platform.CertManagerNamespace, platform.ExternalDNSNamespace}
	nodeExporter := observability.NodeExporterPort(env.Name)

	in := func(p Peer, namespaces ...string) bool {
		return !p.External() && slices.Contains(namespaces, p.Namespace)
	}
	labelled := func(p Peer, labels map[string]string) bool {
		for k, v := range labels {
			if p.Labels[k] != v {
				return false
			}
		}
		return true
	}
	tcp := func(port Port, numbers ...int) bool {
		return port.Protocol == corev1.ProtocolTCP && slices.Contains(numbers, port.Number)
	}
	prometheus := func(p Peer) bool { return in(p, monitoringNS) && labelled(p, namespace.PrometheusPodLabels) }
	notifications := func(p Peer) bool {
		return in(p, platform.ArgoCDNamespace) && p.Labels["app.kubernetes.io/name"] == gitops.NotificationsController
	}
	lokiGateway := func(p Peer) bool { return in(p, monitoringNS) && labelled(p, observability.LokiGatewayPodLabels) }

	namespaces := slices.Clone(env.Namespaces)
	for _, ns := range append(platformNS, created...) {
		if ns != namespace.DNSNamespace && !slices.Contains(namespaces, ns) {
			namespaces = append(namespaces, ns)
		}
	}
	workloads := strings.Join(env.Namespaces, ", ")
	return &Intent{
		Namespaces: namespaces,
		Egress: []Rule{
			{Why: "every pod of the environment resolves names through kube-dns (kube-system, k8s-app=kube-dns) on UDP and TCP 53",
				Allows: func(_, to Peer, port Port) bool {
					return in(to, namespace.DNSNamespace) && labelled(to, namespace.DNSPodLabels) && port.Number == 53 &&
						(port.Protocol == corev1.ProtocolUDP || port.Protocol == corev1.ProtocolTCP)
				}},
			{Why: fmt.Sprintf("the ingress controller (%s) proxies to the pods of the workload namespaces (%s), on their own ports", ingressNS, workloads),
				Allows: func(from, to Peer, _ Port) bool { return in(from, ingressNS) && in(to, env.Namespaces...) }},
			{Why: "the platform namespaces reach any address on TCP 443 and 6443: the API server (behind its Service or not) and HTTPS services (Git, Helm, ACME, Slack, the Linode API)",
				Allows: func(from, _ Peer, port Port) bool { return in(from, platformNS...) && tcp(port, 443, 6443) }},
			{Why: fmt.Sprintf("the %s namespace reaches any address on TCP 80: cert-manager checks an HTTP-01 challenge before the ACME server does", platform.CertManagerNamespace),
				Allows: func(from, _ Peer, port Port) bool { return in(from, platform.CertManagerNamespace) && tcp(port, 80) }},
			{Why: fmt.Sprintf("the monitoring namespace (%s) reaches every pod of every namespace on any port (Prometheus scrapes them) and the nodes on TCP 10250 (the kubelet) and %d (this environment's node exporter, in the host's network)", monitoringNS, nodeExporter),
				Allows: func(from, to Peer, port Port) bool {
					return in(from, monitoringNS) && (!to.External() || tcp(port, 10250, nodeExporter))
				}},
			{Why: fmt.Sprintf("Argo CD's pods (%s) reach each other, on any port: the application controller calls the repo-server and Redis", platform.ArgoCDNamespace),
				Allows: func(from, to Peer, _ Port) bool {
					return in(from, platform.ArgoCDNamespace) && in(to, platform.ArgoCDNamespace)
				}},
			{Why: fmt.Sprintf("Argo CD's notifications controller pushes the Applications' events to Loki's gateway (%s) on TCP %d", monitoringNS, observability.LokiGatewayPort),
				Allows: func(from, to Peer, port Port) bool {
					return notifications(from) && lokiGateway(to) && tcp(port, observability.LokiGatewayPort)
				}},
		},
		Ingress: []Rule{
			{Why: fmt.Sprintf("the workload namespaces (%s) admit the ingress controller's namespace (%s), on any port", workloads, ingressNS),
				Allows: func(from, to Peer, _ Port) bool { return in(to, env.Namespaces...) && in(from, ingressNS) }},
			{Why: fmt.Sprintf("every namespace of the environment admits Prometheus (%s, app.kubernetes.io/name=prometheus), on any port", monitoringNS),
				Allows: func(from, _ Peer, _ Port) bool { return prometheus(from) }},
			{Why: "each platform namespace admits its own pods, on any port",
				Allows: func(from, to Peer, _ Port) bool { return in(to, platformNS...) && in(from, to.Namespace) }},
			{Why: fmt.Sprintf("the ingress controller (%s) admits any address, pods included, on TCP 80 and 443 (the public) and 8443 (its admission webhook, called by the API server)", ingressNS),
				Allows: func(_, to Peer, port Port) bool { return in(to, ingressNS) && tcp(port, 80, 443, 8443) }},
			{Why: fmt.Sprintf("the %s namespace admits kube-system's pods, on any port: the API server calls cert-manager's webhook through the konnectivity agents", platform.CertManagerNamespace),
				Allows: func(from, to Peer, _ Port) bool {
					return in(to, platform.CertManagerNamespace) && in(from, "kube-system")
				}},
			{Why: fmt.Sprintf("Loki's gateway admits Argo CD's notifications controller on TCP %d", observability.LokiGatewayPort),
				Allows: func(from, to Peer, port Port) bool {
					return lokiGateway(to) && notifications(from) && tcp(port, observability.LokiGatewayPort)
				}},
		},
	}
}

// Exceptions are the rules of the intent that are exceptions.
func (in *Intent) Exceptions() []Rule {
	var out []Rule
	for _, r := range append(slices.Clone(in.Egress), in.Ingress...) {
		if r.Exception {
			out = append(out, r)
		}
	}
	return out
}
