package pack

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/cost"
	"github.com/platform-eng/lke-platform/internal/rules"
)

// BudgetKey is the stack's budget in the program's config (config.MonthlyBudgetKey), as the engine hands it to
// the pack.
const BudgetKey = config.Namespace + ":" + config.MonthlyBudgetKey

// stackCost prices the Linode resources of the stack as the engine sees them: each LkeCluster's pools and
// control plane, each LkeNodePool. ok is false while a price-bearing property is still unknown (a preview of a
// pool whose size is computed): the estimate is made again on the update.
func stackCost(resources []policyx.AnalyzerResource) (e cost.Estimate, ok bool, err error) {
	var c cost.Cluster
	priced := false
	for _, r := range resources {
		switch r.Type {
		case lkeClusterType:
			// Only the price-bearing fields need to be known: a preview's pools carry computed ids and nodes.
			pools := field(r.Properties, "pools")
			if pools.IsComputed() || !known(field(r.Properties, "region")) || !known(field(r.Properties, "controlPlane", "highAvailability")) {
				return cost.Estimate{}, false, nil
			}
			c.Region = text(field(r.Properties, "region"))
			c.HighAvailability = c.HighAvailability || truthy(field(r.Properties, "controlPlane", "highAvailability"))
			for i, p := range list(pools) {
				if !known(at(p, "type")) || !known(at(p, "count")) || !known(at(p, "autoscaler", "max")) {
					return cost.Estimate{}, false, nil
				}
				c.Pools = append(c.Pools, cost.Pool{
					Name: fmt.Sprintf("cluster %s pool %d", r.Name, i+1), Type: text(at(p, "type")),
					Count: count(at(p, "count")), Max: count(at(p, "autoscaler", "max")),
				})
			}
			priced = true
		case lkeNodePoolType:
			if !known(field(r.Properties, "type")) || !known(field(r.Properties, "nodeCount")) || !known(field(r.Properties, "autoscaler", "max")) {
				return cost.Estimate{}, false, nil
			}
			c.Pools = append(c.Pools, cost.Pool{
				Name: "node pool " + r.Name, Type: text(field(r.Properties, "type")),
				Count: count(field(r.Properties, "nodeCount")), Max: count(field(r.Properties, "autoscaler", "max")),
			})
			priced = true
		}
	}
	if !priced {
		return cost.Estimate{}, false, nil // attach and render modes: the stack bills no Linode resource
	}
	e, err = cost.Prices().Estimate(c)
	return e, err == nil, err
}

func count(v property.Value) int {
	if v.IsNumber() {
		return int(v.AsNumber())
	}
	return 0
}

// monthlyListPricePolicy: every preview says what the stack costs a month at list price, so a reviewer sees
// "2 × RTX 6000" as money before approving it. Advisory: it reports, never blocks.
func monthlyListPricePolicy(stack Stack) policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(rules.MonthlyListPrice, policyx.StackValidationPolicyArgs{
		Description:      "The stack's monthly list price: its node pools, HA control plane and GPU pool (cost/prices.json).",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			e, ok, err := stackCost(args.Resources)
			switch {
			case err != nil:
				args.Manager.ReportViolation(fmt.Sprintf("stack %q: no monthly list price: %v.", stack.Name, err), "")
			case ok:
				args.Manager.ReportViolation(fmt.Sprintf("stack %q costs %s.", stack.Name, e.Summary()), "")
			}
			return nil
		},
	})
}

// monthlyBudgetPolicy: a stack over its budget (lke-platform:monthlyBudgetUsd) fails its preview, so a pool
// grown past what was agreed is caught in review, not on the invoice. A stack that cannot be priced while a
// budget is set fails too: the budget could not be checked.
func monthlyBudgetPolicy(stack Stack) policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(rules.MonthlyBudget, policyx.StackValidationPolicyArgs{
		Description:      "The stack's monthly list price stays within its budget, " + BudgetKey + " (0 or unset: no budget).",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			if stack.Budget <= 0 {
				return nil
			}
			e, ok, err := stackCost(args.Resources)
			subject := fmt.Sprintf("stack %q", stack.Name)
			switch {
			case err != nil:
				violation(args.Manager, "", subject, fmt.Sprintf("has a budget of $%d/month but cannot be priced: %v", stack.Budget, err),
					"add the node type's list price to cost/prices.json, or remove "+BudgetKey)
			case ok && e.Monthly > float64(stack.Budget):
				violation(args.Manager, "", subject,
					fmt.Sprintf("costs %s, over its budget of $%d/month (%s) by $%s", e.Summary(), stack.Budget, BudgetKey,
						strconv.FormatFloat(e.Monthly-float64(stack.Budget), 'f', -1, 64)),
					"shrink the pools (lke-platform:baselinePool, lke-platform:gpuPool), or raise "+BudgetKey+" in the stack file with the budget owner's approval")
			}
			return nil
		},
	})
}
