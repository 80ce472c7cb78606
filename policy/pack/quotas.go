package pack

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/internal/rules"
)

// namespaceQuotaPolicy: a namespace without a quota can starve its neighbours on the shared cluster, and
// without a LimitRange a container that forgets its requests escapes the quota's accounting.
func namespaceQuotaPolicy() policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(rules.NamespaceQuota, policyx.StackValidationPolicyArgs{
		Description: "Every Namespace the stack creates has a ResourceQuota and a LimitRange in it.",
		// A stack policy runs after the resources are registered: it fails the preview, and fails (but cannot
		// undo) an update. CI runs the preview first, which is where this one bites.
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			for _, ns := range stackNamespaces(args.Resources) {
				var missing []string
				if ns.containsObject(args.Resources, ofType(resourceQuotaType)) == isNot {
					missing = append(missing, "ResourceQuota")
				}
				if ns.containsObject(args.Resources, ofType(limitRangeType)) == isNot {
					missing = append(missing, "LimitRange")
				}
				if len(missing) > 0 {
					violation(args.Manager, ns.res.URN, describe(ns.res), "has no "+strings.Join(missing, " and no "),
						"create the namespace through the Namespace component (components/namespace), which adds the "+
							"ResourceQuota \"environment-quota\" and the LimitRange \"container-limits\", or add them beside it")
				}
			}
			return nil
		},
	})
}

// Bounds of a namespace's quota. The defaults leave room for the program's default sizing (30 services at
// their HPA maximum plus 20% surge: 108 pods, 10.8 CPU / 13.5Gi requested, 54 CPU / 27Gi limits) while keeping
// one namespace's requests within ~40% of the baseline pool at its autoscaler maximum (10 × g6-standard-8:
// 80 vCPU, 320 GB), so environments sharing a cluster cannot starve each other.
var (
	maxPods           = intSetting{Key: "maxPods", Default: 300, Min: 1, Description: "Most pods a namespace's ResourceQuota may admit."}
	maxServices       = intSetting{Key: "maxServices", Default: 100, Min: 1, Description: "Most Services a namespace's ResourceQuota may admit."}
	maxRequestsCPU    = quantitySetting{Key: "maxRequestsCpu", Default: "32", Description: "Largest requests.cpu a namespace's ResourceQuota may grant."}
	maxRequestsMemory = quantitySetting{Key: "maxRequestsMemory", Default: "128Gi", Description: "Largest requests.memory a namespace's ResourceQuota may grant."}
	maxLimitsCPU      = quantitySetting{Key: "maxLimitsCpu", Default: "96", Description: "Largest limits.cpu a namespace's ResourceQuota may grant."}
	maxLimitsMemory   = quantitySetting{Key: "maxLimitsMemory", Default: "256Gi", Description: "Largest limits.memory a namespace's ResourceQuota may grant."}
)

// quotaBoundsFrom reads the bounds from a policy config, applying the defaults.
func quotaBoundsFrom(cfg map[string]any) (QuotaBounds, error) {
	b := QuotaBounds{}
	for key, s := range map[string]intSetting{"pods": maxPods, "services": maxServices} {
		n, err := s.from(cfg)
		if err != nil {
			return nil, err
		}
		b[key] = *resource.NewQuantity(int64(n), resource.DecimalSI)
	}
	for key, s := range map[string]quantitySetting{
		"requests.cpu": maxRequestsCPU, "requests.memory": maxRequestsMemory,
		"limits.cpu": maxLimitsCPU, "limits.memory": maxLimitsMemory,
	} {
		q, err := s.from(cfg)
		if err != nil {
			return nil, err
		}
		b[key] = q
	}
	return b, nil
}

func quotaBoundsPolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.QuotaWithinBounds, policyx.ResourceValidationPolicyArgs{
		Description:      "A ResourceQuota limits pods, services, CPU and memory, each within the configured bounds.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(maxPods, maxServices, maxRequestsCPU, maxRequestsMemory, maxLimitsCPU, maxLimitsMemory),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != resourceQuotaType {
				return nil
			}
			hardValue := field(r.Properties, "spec", "hard")
			if !known(hardValue) {
				return nil // checked on the update, once known
			}
			bounds, err := quotaBoundsFrom(args.Config)
			if err != nil {
				return fmt.Errorf("quota-within-bounds: %w", err)
			}
			hard := map[string]string{}
			for k, v := range entries(hardValue) {
				hard[k] = text(v)
			}
			if problems := CheckQuota(hard, bounds); len(problems) > 0 {
				violation(args.Manager, "", describe(r), "spec.hard: "+strings.Join(problems, "; "),
					"size the quota with the quota package (lke-platform:servicesPerNamespace, serviceProfile, "+
						"quotaHeadroomPercent) so every key stays within the bounds, or raise the bound in the policy "+
						"config if the cluster has grown")
			}
			return nil
		},
	})
}

// containerResourcesPolicy: the quota only accounts for what containers declare; a container without limits
// can take a node's whole CPU or memory.
func containerResourcesPolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.ContainerResources, policyx.ResourceValidationPolicyArgs{
		Description:      "Every container of a workload declares CPU and memory requests and limits.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			spec, ok := podSpec(args.Resource)
			if !ok {
				return nil
			}
			for _, c := range containers(spec) {
				var missing []string
				for _, kind := range []string{"requests", "limits"} {
					for _, res := range []string{"cpu", "memory"} {
						v := c.get("resources", kind, res)
						if known(v) && text(v) == "" {
							missing = append(missing, kind+"."+res)
						}
					}
				}
				if len(missing) > 0 {
					violation(args.Manager, "", describe(args.Resource),
						fmt.Sprintf("%s sets no resources.%s", c.label, strings.Join(missing, ", resources.")),
						"set resources.requests and resources.limits for both cpu and memory on every container; "+
							"lke-platform:serviceProfile holds the sizes the namespace quota was computed for")
				}
			}
			return nil
		},
	})
}
