package pack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

// isDefaultDeny reports whether a NetworkPolicy spec denies all traffic of all pods in its namespace: an empty
// podSelector (every pod), both policy types, and no rule. NetworkPolicies are additive, so with this one in
// place every other policy of the namespace can only open a path, never be the accidental absence of one.
func isDefaultDeny(spec property.Value) bool {
	selector := at(spec, "podSelector")
	if !known(spec) || len(entries(at(selector, "matchLabels"))) > 0 || len(list(at(selector, "matchExpressions"))) > 0 {
		return false
	}
	types := stringList(at(spec, "policyTypes"))
	return len(types) == 2 && slices.Contains(types, "Ingress") && slices.Contains(types, "Egress") &&
		len(list(at(spec, "ingress"))) == 0 && len(list(at(spec, "egress"))) == 0
}

func defaultDenyPolicy() policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(rules.NamespaceDefaultDeny, policyx.StackValidationPolicyArgs{
		Description:      "Every Namespace the stack creates has a NetworkPolicy denying all ingress and egress by default.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			denyAll := func(r policyx.AnalyzerResource) verdict {
				switch {
				case r.Type != networkPolicyType:
					return isNot
				case unresolved(r, "spec"):
					return undecided // a preview: the policy may well be the default deny
				case isDefaultDeny(field(r.Properties, "spec")):
					return is
				}
				return isNot
			}
			for _, ns := range stackNamespaces(args.Resources) {
				if ns.containsObject(args.Resources, denyAll) == isNot {
					violation(args.Manager, ns.res.URN, describe(ns.res),
						"has no default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules)",
						"create the namespace through the Namespace component (components/namespace), which adds "+
							"\"default-deny-all\", or add such a NetworkPolicy and open each needed path with its own allow policy")
				}
			}
			return nil
		},
	})
}

var ingressNamespace = stringSetting{
	Key: "ingressNamespace", Default: "ingress-nginx",
	Description: "Namespace of the ingress controller, the one place traffic may enter from anywhere. Kept in " +
		"policy config, not read from the stack's config, so a program cannot widen its own exemption.",
}

// everywhereCIDRs are ipBlocks that admit any address.
var everywhereCIDRs = []string{"0.0.0.0/0", "::/0"}

// fromEverywhere explains why an ingress rule admits traffic from any source, or returns "" if it does not.
// A rule with no `from` matches every source; so does a peer whose ipBlock is the whole address space (unless it
// carves exceptions out).
func fromEverywhere(rule property.Value) string {
	from := at(rule, "from")
	if !known(from) {
		return ""
	}
	peers := list(from)
	if len(peers) == 0 {
		return "has no `from`, which admits every source"
	}
	for _, p := range peers {
		cidr := text(at(p, "ipBlock", "cidr"))
		if slices.Contains(everywhereCIDRs, cidr) && len(list(at(p, "ipBlock", "except"))) == 0 {
			return fmt.Sprintf("admits ipBlock %s, every address", cidr)
		}
	}
	return ""
}

func ingressFromEverywherePolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.IngressFromEverywhere, policyx.ResourceValidationPolicyArgs{
		Description:      "No NetworkPolicy admits ingress from everywhere, except in the ingress controller's namespace.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(ingressNamespace),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != networkPolicyType {
				return nil
			}
			exempt, err := ingressNamespace.from(args.Config)
			if err != nil {
				return fmt.Errorf("no-ingress-from-everywhere: %w", err)
			}
			ns, ok := namespaceOf(r)
			if !ok || ns == exempt {
				return nil
			}
			var problems []string
			for i, rule := range list(field(r.Properties, "spec", "ingress")) {
				if why := fromEverywhere(rule); why != "" {
					problems = append(problems, fmt.Sprintf("spec.ingress[%d] %s", i, why))
				}
			}
			if len(problems) > 0 {
				violation(args.Manager, "", describe(r), strings.Join(problems, "; "),
					fmt.Sprintf("name the peers in `from` (for web traffic, the ingress controller's namespace %q via a "+
						"namespaceSelector on kubernetes.io/metadata.name); only %q may admit traffic from everywhere", exempt, exempt))
			}
			return nil
		},
	})
}
