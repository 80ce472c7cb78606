package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// controlPlaneACL reads controlPlaneAcl, the addresses allowed to reach the LKE API server. Its default in
// Pulumi.yaml is CI's egress ranges and the operators' (docs/configuration.md): whoever runs `pulumi up` and whoever
// runs kubectl. An empty list is refused (it would shut CI out of the cluster it deploys to), and so is an entry
// that admits every address on production, whose API server must not face the whole internet. Other
// environments may open it on purpose with 0.0.0.0/0 and ::/0. Attach and render modes make no Linode call, so
// there the list is only checked, never used.
func (p *parser) controlPlaneACL(environment string) ACL {
	const key = "controlPlaneAcl"
	var entries []string
	before := len(p.errs)
	p.requiredObject(key, &entries, `a list of the IPv4/IPv6 addresses or CIDRs allowed to reach the Kubernetes API server (CI's and the operators'), such as ["203.0.113.0/28", "2001:db8:ac1::/48"]`)
	if len(p.errs) == before && len(entries) == 0 {
		p.fail(key, "[]", "at least one address or CIDR: an empty list shuts everyone out of the API server, CI included")
	}
	var acl ACL
	seen := map[netip.Prefix]bool{}
	for i, entry := range entries {
		item := fmt.Sprintf("%s[%d]", key, i)
		prefix, err := addressOrCIDR(entry)
		switch {
		case err != nil:
			p.fail(item, entry, "an IPv4 or IPv6 address or CIDR, such as 203.0.113.7, 203.0.113.0/28 or 2001:db8:ac1::/48")
			continue
		case prefix != prefix.Masked():
			// 10.1.2.3/8 is almost always a typo for a host or for 10.0.0.0/8: make the operator say which.
			p.fail(item, entry, fmt.Sprintf("a CIDR with no host bits set, such as %s, or a single address without a prefix length", prefix.Masked()))
			continue
		case seen[prefix]:
			p.fail(item, entry, "an address not already listed")
			continue
		case prefix.Bits() == 0 && environment == Production:
			p.fail(item, entry, "only the ranges that must reach the production API server (CI's and the operators'): "+
				entry+" admits every address on the internet")
			continue
		}
		seen[prefix] = true
		if prefix.Addr().Is4() {
			acl.IPv4 = append(acl.IPv4, entry)
		} else {
			acl.IPv6 = append(acl.IPv6, entry)
		}
	}
	return acl
}

// addressOrCIDR parses a single address (as its one-address prefix) or a CIDR, the two forms the Linode ACL takes.
func addressOrCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%s: an address with a zone is local to one host", s)
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}
