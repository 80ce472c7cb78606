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
	return exposurePolicy(rules.LoadBalancers, "LoadBalancer", "which would expose it on a public NodeBalancer")
}

// nodePortPolicy: a NodePort Service opens its port on every node's address, around the ingress controller
// and its NetworkPolicies (the namespaces' quotas allow none, but a namespace without the platform's quota would).
func nodePortPolicy() policyx.ResourceValidationPolicy {
	return exposurePolicy(rules.NodePorts, "NodePort", "which opens its port on every node's address, around the ingress controller")
}

// externalNamePolicy: an ExternalName Service makes a name of the namespace an alias of any DNS name; routed to
// from an Ingress, it turns the ingress controller into a proxy to wherever the alias points (another
// environment's service, the cloud's metadata address), around the NetworkPolicies of both ends.
func externalNamePolicy() policyx.ResourceValidationPolicy {
	return exposurePolicy(rules.ExternalNames, "ExternalName", "which makes the ingress controller a proxy to any name, around the NetworkPolicies")
}

// exposurePolicy refuses Services of one type outside the ingress controller's namespace.
func exposurePolicy(rule, serviceTypeName, exposure string) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rule, policyx.ResourceValidationPolicyArgs{
		Description:      fmt.Sprintf("No Service of type %s outside the ingress controller's namespace.", serviceTypeName),
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(ingressNamespace),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != serviceType || text(field(r.Properties, "spec", "type")) != serviceTypeName {
				return nil
			}
			exempt, err := ingressNamespace.from(args.Config)
			if err != nil {
				return fmt.Errorf("%s: %w", rule, err)
			}
			ns, ok := namespaceOf(r)
			if !ok || ns == exempt {
				return nil
			}
			violation(args.Manager, "", describe(r),
				fmt.Sprintf("is of type %s in namespace %q, %s", serviceTypeName, ns, exposure),
				fmt.Sprintf("make it a ClusterIP Service and route to it with an Ingress through the controller in %q", exempt))
			return nil
		},
	})
}
