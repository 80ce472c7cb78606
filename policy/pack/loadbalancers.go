package pack

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

// loadBalancerPolicy: every LoadBalancer Service is a NodeBalancer with a public address, billed and outside
// the ingress controller's TLS, WAF and logging. Traffic enters through the ingress controller only.
func loadBalancerPolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.LoadBalancers, policyx.ResourceValidationPolicyArgs{
		Description:      "No Service of type LoadBalancer outside the ingress controller's namespace.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(ingressNamespace),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != serviceType || text(field(r.Properties, "spec", "type")) != "LoadBalancer" {
				return nil
			}
			exempt, err := ingressNamespace.from(args.Config)
			if err != nil {
				return fmt.Errorf("no-loadbalancer-outside-ingress: %w", err)
			}
			ns, ok := namespaceOf(r)
			if !ok || ns == exempt {
				return nil
			}
			violation(args.Manager, "", describe(r),
				fmt.Sprintf("is of type LoadBalancer in namespace %q, which would expose it on a public NodeBalancer", ns),
				fmt.Sprintf("make it a ClusterIP Service and route to it with an Ingress through the controller in %q", exempt))
			return nil
		},
	})
}
