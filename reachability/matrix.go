package reachability

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	networkingv1 "k8s.io/api/networking/v1"
)

// Matrix says, for every ordered pair of peers and every probed port, whether traffic may flow.
type Matrix struct {
	Peers   []Peer
	Ports   []Port
	allowed map[cell]bool // true cells only
}

type cell struct {
	from, to int
	port     Port
}

// Allowed says whether traffic may go from peer i to peer j on port.
func (m *Matrix) Allowed(i, j int, port Port) bool { return m.allowed[cell{i, j, port}] }

// Compute evaluates policies with cyclonus' NetworkPolicy engine (the matcher of kubernetes-sigs' network policy
// conformance tooling): traffic flows when the source's egress and the destination's ingress both allow it, a
// pod no policy selects being open in that direction and an address outside the cluster never being restricted
// on its own side.
func Compute(policies []*networkingv1.NetworkPolicy, peers []Peer, ports []Port) (m *Matrix, err error) {
	defer func() {
		// The engine panics on a policy the API server would refuse (no policy type, a bad CIDR or range).
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("reachability: the engine refused a policy: %v", r)
		}
	}()
	engine := matcher.BuildNetworkPolicies(false, withDefaultTypes(policies))
	m = &Matrix{Peers: peers, Ports: ports, allowed: map[cell]bool{}}
	traffic := make([]*matcher.TrafficPeer, len(peers))
	for i, p := range peers {
		traffic[i] = &matcher.TrafficPeer{IP: p.IP}
		if !p.External() {
			traffic[i].Internal = &matcher.InternalPeer{Namespace: p.Namespace, NamespaceLabels: p.NamespaceLabels, PodLabels: p.Labels}
		}
	}
	for i := range peers {
		for j, to := range peers {
			if i == j {
				continue
			}
			for _, port := range ports {
				t := &matcher.Traffic{Source: traffic[i], Destination: traffic[j],
					ResolvedPort: port.Number, ResolvedPortName: portName(to, port), Protocol: port.Protocol}
				if engine.IsTrafficAllowed(t).IsAllowed() {
					m.allowed[cell{i, j, port}] = true
				}
			}
		}
	}
	return m, nil
}

// withDefaultTypes fills in policyTypes as the API server does when a policy leaves them out: Ingress, and Egress
// when it has egress rules.
func withDefaultTypes(policies []*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
	out := make([]*networkingv1.NetworkPolicy, len(policies))
	for i, np := range policies {
		out[i] = np
		if len(np.Spec.PolicyTypes) > 0 {
			continue
		}
		np = np.DeepCopy()
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
		out[i] = np
	}
	return out
}

// portName is the name the destination gives port, which a policy may name it by.
func portName(to Peer, port Port) string {
	for _, p := range to.Ports {
		if int(p.ContainerPort) == port.Number && (p.Protocol == port.Protocol || p.Protocol == "" && port.Protocol == "TCP") {
			return p.Name
		}
	}
	return ""
}

// Difference is one path on which the policies and the intent disagree.
type Difference struct {
	From, To string
	Port     Port
	Allowed  bool // what the policies say; the intent says the opposite
}

func (d Difference) String() string {
	if d.Allowed {
		return fmt.Sprintf("%s -> %s on %s: the policies allow it, the intent does not", d.From, d.To, d.Port)
	}
	return fmt.Sprintf("%s -> %s on %s: the intent allows it, the policies do not", d.From, d.To, d.Port)
}

// Compare lists every cell where actual and intended disagree; both must be over the same peers and ports.
func Compare(actual, intended *Matrix) []Difference {
	var out []Difference
	for i := range actual.Peers {
		for j := range actual.Peers {
			for _, port := range actual.Ports {
				if a := actual.Allowed(i, j, port); a != intended.Allowed(i, j, port) {
					out = append(out, Difference{actual.Peers[i].Name, actual.Peers[j].Name, port, a})
				}
			}
		}
	}
	return out
}

// Path is one ordered pair of peers between which some traffic may flow, with the ports it may flow on.
type Path struct {
	From, To string
	Ports    string // "any port", or the protocols' ports
}

// Paths are the pairs of m with at least one allowed port, in peer order. Ports read "any port" when every probe
// is allowed (a port nobody names included), "any TCP port" when every TCP probe is.
func (m *Matrix) Paths() []Path {
	var out []Path
	for i := range m.Peers {
		for j := range m.Peers {
			var open []Port
			tcp, tcpOpen := 0, 0
			for _, port := range m.Ports {
				if port.Protocol == "TCP" {
					tcp++
				}
				if m.Allowed(i, j, port) {
					open = append(open, port)
					if port.Protocol == "TCP" {
						tcpOpen++
					}
				}
			}
			switch {
			case len(open) == 0:
				continue
			case len(open) == len(m.Ports):
				out = append(out, Path{m.Peers[i].Name, m.Peers[j].Name, "any port"})
			case tcpOpen == tcp:
				rest := slices.DeleteFunc(open, func(p Port) bool { return p.Protocol == "TCP" })
				out = append(out, Path{m.Peers[i].Name, m.Peers[j].Name, joinPorts(rest, "any TCP port")})
			default:
				out = append(out, Path{m.Peers[i].Name, m.Peers[j].Name, joinPorts(open, "")})
			}
		}
	}
	return out
}

// joinPorts writes ports by protocol: "TCP 80, 443; UDP 53", after lead if any.
func joinPorts(ports []Port, lead string) string {
	var parts []string
	if lead != "" {
		parts = append(parts, lead)
	}
	byProtocol := map[string][]string{}
	var protocols []string
	for _, p := range ports {
		proto := string(p.Protocol)
		if _, ok := byProtocol[proto]; !ok {
			protocols = append(protocols, proto)
		}
		byProtocol[proto] = append(byProtocol[proto], fmt.Sprint(p.Number))
	}
	slices.Sort(protocols)
	for _, proto := range protocols {
		parts = append(parts, proto+" "+strings.Join(byProtocol[proto], ", "))
	}
	return strings.Join(parts, "; ")
}
