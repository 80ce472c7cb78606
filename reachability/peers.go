package reachability

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/components/observability"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/names"
)

// Peer is one end of a path: a pod (its namespace and labels, which selectors match, and the ports it serves) or
// an address outside the cluster's pods.
type Peer struct {
	// Name is "<namespace>/<workload>" for a pod, what the address stands for otherwise.
	Name            string
	Namespace       string // "" outside the cluster's pods
	NamespaceLabels map[string]string
	Labels          map[string]string
	IP              string
	Ports           []corev1.ContainerPort
	// StandIn says that the pod is not among the objects read (an operator creates it, it is the cluster's own, or
	// its chart comes from a Helm repository): its labels are those its maker or LKE gives it.
	StandIn bool
}

// External is a peer outside the cluster's pods.
func (p Peer) External() bool { return p.Namespace == "" }

// Port is a port and protocol a path is probed on.
type Port struct {
	Number   int
	Protocol corev1.Protocol
}

func (p Port) String() string { return fmt.Sprintf("%s %d", p.Protocol, p.Number) }

// Addresses of the peers outside the cluster's pods, and the pod network the pods are numbered in.
const (
	internetIP = "203.0.113.10"   // TEST-NET-3: any address on the internet, the API server's and Git's included
	nodeIP     = "192.168.128.10" // a node's private address on LKE: the kubelet, and pods of the host's network
	podNetwork = "10.2.%d.%d"
)

// otherPort is a port no policy and no pod names: a path open on it is open on every port.
const otherPort = 40000

// standIns are the pods that are not among the objects read, with the labels their makers give them: the
// Prometheus servers, which the Prometheus operator creates from the Prometheus object kube-prometheus-stack
// renders, and the cluster's own pods. The policies select them by namespace and by these labels. Every add-on
// chart is vendored and rendered (internal/vendorcharts), so its Deployments, StatefulSets and DaemonSets are
// peers of their own.
func standIns(env *config.Environment) []Peer {
	tcp := func(name string, port int32) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP}
	}
	return []Peer{
		{Namespace: env.MonitoringNamespace, Name: "prometheus", Labels: maps.Clone(namespace.PrometheusPodLabels),
			Ports: []corev1.ContainerPort{tcp("http-web", 9090)}},
		{Namespace: namespace.DNSNamespace, Name: "coredns", Labels: maps.Clone(namespace.DNSPodLabels),
			Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				tcp("dns-tcp", 53), tcp("metrics", 9153)}},
		// The API server reaches webhooks through the konnectivity agents in kube-system.
		{Namespace: "kube-system", Name: "konnectivity-agent", Labels: map[string]string{"k8s-app": "konnectivity-agent"}},
	}
}

// Peers are the representative ends of paths for env: every pod of the objects (one per workload), the stand-ins
// for the pods not among them, one pod for each namespace of the environment that has none, a pod of another
// environment's first workload namespace (labelled as the sample service's pods are, so that only its namespace
// tells it apart), a node and the internet.
func Peers(env *config.Environment, objs *Objects) []Peer {
	nsLabels := func(ns string) map[string]string {
		if l, ok := objs.Namespaces[ns]; ok {
			return maps.Clone(l)
		}
		return map[string]string{namespaceNameLabel: ns}
	}
	var peers []Peer
	seen := map[string]bool{}
	add := func(p Peer) {
		if p.Name = p.Namespace + "/" + p.Name; seen[p.Name] {
			return
		}
		seen[p.Name] = true
		p.NamespaceLabels = nsLabels(p.Namespace)
		peers = append(peers, p)
	}
	for _, w := range objs.Workloads {
		add(Peer{Namespace: w.Namespace, Name: w.Name, Labels: maps.Clone(w.Labels), Ports: slices.Clone(w.Ports)})
	}
	for _, p := range standIns(env) {
		p.StandIn = true
		add(p)
	}
	for _, ns := range slices.Sorted(maps.Keys(objs.Namespaces)) {
		if !slices.ContainsFunc(peers, func(p Peer) bool { return p.Namespace == ns }) {
			add(Peer{Namespace: ns, Name: "any pod", Labels: map[string]string{}, StandIn: true})
		}
	}
	slices.SortFunc(peers, func(a, b Peer) int { return strings.Compare(a.Name, b.Name) })

	other := otherEnvironment(env)
	otherNS := other.Name + strings.TrimPrefix(env.Namespaces[0], env.Name)
	otherPod := Peer{Name: otherNS + "/" + "pod", Namespace: otherNS, Labels: map[string]string{}, StandIn: true,
		NamespaceLabels: other.Labels()}
	otherPod.NamespaceLabels[namespaceNameLabel] = otherNS
	if i := slices.IndexFunc(peers, func(p Peer) bool { return p.Namespace == env.Namespaces[0] }); i >= 0 {
		otherPod.Name = otherNS + "/" + strings.TrimPrefix(peers[i].Name, env.Namespaces[0]+"/")
		otherPod.Labels, otherPod.Ports = maps.Clone(peers[i].Labels), slices.Clone(peers[i].Ports)
		if _, ok := otherPod.Labels[names.EnvironmentLabel]; ok {
			otherPod.Labels[names.EnvironmentLabel] = other.Name
		}
	}
	peers = append(peers, otherPod,
		Peer{Name: "node", IP: nodeIP, StandIn: true, Ports: []corev1.ContainerPort{
			{Name: "kubelet", ContainerPort: 10250, Protocol: corev1.ProtocolTCP},
			// #nosec G115 -- a port from observability's table (9100-9103)
			{Name: "node-exporter", ContainerPort: int32(observability.NodeExporterPort(env.Name)), Protocol: corev1.ProtocolTCP},
		}},
		Peer{Name: "internet", IP: internetIP, StandIn: true},
	)
	for i := range peers {
		if !peers[i].External() {
			peers[i].IP = fmt.Sprintf(podNetwork, i/250, i%250+1)
		}
	}
	return peers
}

// otherEnvironment is the environment env's paths across environments are probed against: the first other one.
func otherEnvironment(env *config.Environment) *config.Environment {
	for _, name := range config.Environments {
		if name != env.Name {
			return &config.Environment{Name: name}
		}
	}
	return &config.Environment{Name: "other"}
}

// Ports are the ports every path is probed on: each port a policy names, each port a peer serves, and a port
// nobody names, on TCP and UDP.
func Ports(objs *Objects, peers []Peer) []Port {
	set := map[Port]bool{{otherPort, corev1.ProtocolTCP}: true, {otherPort, corev1.ProtocolUDP}: true}
	for _, np := range objs.Policies {
		var ports []networkingv1.NetworkPolicyPort
		for _, r := range np.Spec.Ingress {
			ports = append(ports, r.Ports...)
		}
		for _, r := range np.Spec.Egress {
			ports = append(ports, r.Ports...)
		}
		for _, p := range ports {
			protocol := corev1.ProtocolTCP
			if p.Protocol != nil {
				protocol = *p.Protocol
			}
			// A named port is probed through the container ports that carry the name; a range at both ends.
			if p.Port != nil && p.Port.Type == intstr.Int {
				set[Port{p.Port.IntValue(), protocol}] = true
			}
			if p.EndPort != nil {
				set[Port{int(*p.EndPort), protocol}] = true
			}
		}
	}
	for _, peer := range peers {
		for _, p := range peer.Ports {
			set[Port{int(p.ContainerPort), cmp.Or(p.Protocol, corev1.ProtocolTCP)}] = true
		}
	}
	out := slices.Collect(maps.Keys(set))
	slices.SortFunc(out, func(a, b Port) int {
		return cmp.Or(cmp.Compare(a.Number, b.Number), strings.Compare(string(a.Protocol), string(b.Protocol)))
	})
	return out
}
