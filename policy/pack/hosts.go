package pack

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/internal/rules"
)

const ingressType = "kubernetes:networking.k8s.io/v1:Ingress"

// ingressHostsPolicy: the environments share one DNS zone, and external-dns publishes every Ingress host it
// sees. An Ingress of staging claiming a production host (or no host, which the ingress controller routes every
// name to) would take production's traffic. Every host must lie under the environment's own subdomain.
func ingressHostsPolicy(stack Stack) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.IngressHosts, policyx.ResourceValidationPolicyArgs{
		Description:      "Every host of an Ingress lies under its environment's subdomain, <env>.<domain>; no rule without a host.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != ingressType || stack.Domain == "" || unresolved(r, "spec") {
				return nil
			}
			suffix := names.HostSuffix(stack.Environment, stack.Domain)
			var foreign []string
			for i, rule := range list(field(r.Properties, "spec", "rules")) {
				host := text(at(rule, "host"))
				switch {
				case host == "":
					foreign = append(foreign, fmt.Sprintf("rule %d has no host (it would take every name)", i))
				case !strings.HasSuffix(host, suffix):
					foreign = append(foreign, fmt.Sprintf("host %q", host))
				}
			}
			for _, tls := range list(field(r.Properties, "spec", "tls")) {
				for _, host := range stringList(at(tls, "hosts")) {
					if !strings.HasSuffix(host, suffix) {
						foreign = append(foreign, fmt.Sprintf("tls host %q", host))
					}
				}
			}
			if len(foreign) > 0 {
				violation(args.Manager, "", describe(r),
					fmt.Sprintf("claims names outside the %s environment's subdomain %s: %s", stack.Environment, strings.TrimPrefix(suffix, "."), strings.Join(foreign, "; ")),
					fmt.Sprintf("name its hosts <name>%s", suffix))
			}
			return nil
		},
	})
}
