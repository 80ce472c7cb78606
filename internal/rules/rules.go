// Package rules names the platform's guard rails, each once: the policy pack's policies (policy/), and the
// subset that admission policies enforce again in the cluster for what bypasses Pulumi (components/admission),
// named the same (docs/policy.md). The pack, the admission component and the tests take the names from here.
package rules

// The policy pack's rules, by the concern they serve.
const (
	// Quotas.
	NamespaceQuota     = "namespace-quota-and-limits"
	QuotaWithinBounds  = "quota-within-bounds"
	ContainerResources = "container-requests-and-limits"
	// Default-deny networking.
	NamespaceDefaultDeny  = "namespace-default-deny"
	IngressFromEverywhere = "no-ingress-from-everywhere"
	// Production approvals and safety.
	ProductionApproved  = "production-change-approved"
	ProductionProtected = "production-resources-protected"
	LoadBalancers       = "no-loadbalancer-outside-ingress"
	NodePorts           = "no-nodeport-outside-ingress"
	IngressHosts        = "ingress-hosts-in-environment"
	ExternalNames       = "no-externalname-services"
	ImagesPinned        = "images-pinned"
	Privileged          = "no-privileged-outside-system"
	// Secrets reach the cluster sealed.
	LiteralSecrets = "no-literal-secrets" // #nosec G101 -- a rule ID, not a credential
	// Access packages.
	AccessExpires = "access-credentials-expire"
	// The platform's objects are deleted by the platform only (admission only: AdmissionOnly).
	PlatformObjectsKept = "platform-objects-kept"
	// GPU placement.
	GPUPoolsOnSystem       = "gpu-pools-on-system-only"
	GPUTolerationsRequests = "gpu-tolerations-request-gpus"
	// Cost.
	MonthlyListPrice = "monthly-list-price"
	MonthlyBudget    = "monthly-budget"
)

// InCluster are the rules the admission policies enforce in the cluster as well, in the order the admission
// component registers them: the ones about objects anyone with access could create without Pulumi.
var InCluster = []string{ContainerResources, IngressFromEverywhere, LoadBalancers, NodePorts, ExternalNames, IngressHosts, ImagesPinned, Privileged, LiteralSecrets}

// AdmissionOnly are the rules only the admission policies enforce: they judge who deletes an object, which a
// preview never shows the pack (the pack's production-resources-protected guards Pulumi's own deletes).
var AdmissionOnly = []string{PlatformObjectsKept}
