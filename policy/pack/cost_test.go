package pack

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
)

// The system stack as the program composes it: 3 × g6-standard-8 ($192) and 2 × RTX 6000 ($1000), no HA.
func TestEveryPreviewShowsTheStacksMonthlyListPrice(t *testing.T) {
	got := runPolicy(t, monthlyListPricePolicy(stackFor(config.System, true)), registered(t, config.System))
	require.Len(t, got, 1)
	assert.True(t, strings.HasPrefix(got[0], `stack "system" costs $2576/month at list price (`), got[0])
	assert.Contains(t, got[0], "node pool system-gpu: 2 × g1-gpu-rtx6000-1 (Dedicated 32 GB + RTX6000 GPU x1, $1000/month) = $2000")
	assert.Contains(t, got[0], "as of 2025-08-19")

	prod := runPolicy(t, monthlyListPricePolicy(stackFor(production, true)), registered(t, production))
	require.Len(t, prod, 1)
	assert.Contains(t, prod[0], "$1212/month", "6 × $192 and the $60 HA control plane")
	assert.Contains(t, prod[0], "high-availability control plane = $60")
}

func TestABudgetBelowTheListPriceIsAViolation(t *testing.T) {
	resources := registered(t, config.System)
	over := stackFor(config.System, true)
	over.Budget = 2000
	got := runPolicy(t, monthlyBudgetPolicy(over), resources)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `stack "system": costs $2576/month at list price`)
	assert.Contains(t, got[0], "over its budget of $2000/month (lke-platform:monthlyBudgetUsd) by $576")
	assert.Contains(t, got[0], "Fix: shrink the pools")

	within := stackFor(config.System, true)
	within.Budget = 2576
	assert.Empty(t, runPolicy(t, monthlyBudgetPolicy(within), resources), "exactly the budget is within it")
	assert.Empty(t, runPolicy(t, monthlyBudgetPolicy(stackFor(config.System, true)), resources), "no budget, no violation")
}

func TestAStackThatCannotBePricedFailsOnlyWithABudget(t *testing.T) {
	resources := []policyx.AnalyzerResource{res(lkeClusterType, "x", map[string]any{
		"region": "fr-par", "controlPlane": map[string]any{"highAvailability": false},
		"pools": []any{map[string]any{"type": "g7-premium-9", "count": 3}},
	})}
	advisory := runPolicy(t, monthlyListPricePolicy(stackFor(config.Staging, true)), resources)
	require.Len(t, advisory, 1)
	assert.Contains(t, advisory[0], `no list price for node type "g7-premium-9"`)
	assert.Empty(t, runPolicy(t, monthlyBudgetPolicy(stackFor(config.Staging, true)), resources))
	budgeted := stackFor(config.Staging, true)
	budgeted.Budget = 1000
	got := runPolicy(t, monthlyBudgetPolicy(budgeted), resources)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "has a budget of $1000/month but cannot be priced")
}

// A pool whose size is still computed in a preview is priced on the update, not as zero; a stack without any
// Linode resource (attach and render modes) says nothing.
func TestUnknownSizesAndClusterlessStacksAreNotPriced(t *testing.T) {
	unknown := policyx.AnalyzerResource{Type: lkeNodePoolType, Name: "gpu", Properties: property.NewMap(map[string]property.Value{
		"type": property.New("g1-gpu-rtx6000-1"), "nodeCount": property.New(property.Computed),
	})}
	budgeted := stackFor(config.System, true)
	budgeted.Budget = 1
	assert.Empty(t, runPolicy(t, monthlyListPricePolicy(budgeted), []policyx.AnalyzerResource{unknown}))
	assert.Empty(t, runPolicy(t, monthlyBudgetPolicy(budgeted), []policyx.AnalyzerResource{unknown}))
	assert.Empty(t, runPolicy(t, monthlyBudgetPolicy(budgeted), nil))
}

// A preview's LkeCluster: the pools' ids and nodes are computed, their type, count and autoscaler are not. The
// price needs only those.
func TestAPreviewsClusterIsPricedFromWhatIsKnown(t *testing.T) {
	pool := property.NewMap(map[string]property.Value{
		"type": property.New("g6-standard-8"), "count": property.New(3.0),
		"autoscaler": property.New(property.NewMap(map[string]property.Value{"min": property.New(3.0), "max": property.New(10.0)})),
		"id":         property.New(property.Computed), "nodes": property.New(property.Computed),
	})
	cluster := policyx.AnalyzerResource{Type: lkeClusterType, Name: "staging", Properties: property.NewMap(map[string]property.Value{
		"region": property.New("fr-par"), "id": property.New(property.Computed),
		"controlPlane": property.New(property.NewMap(map[string]property.Value{
			"highAvailability": property.New(false), "acl": property.New(property.Computed),
		})),
		"pools": property.New(property.NewArray([]property.Value{property.New(pool)})),
	})}
	got := runPolicy(t, monthlyListPricePolicy(stackFor(config.Staging, true)), []policyx.AnalyzerResource{cluster})
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "costs $576/month at list price")
}
