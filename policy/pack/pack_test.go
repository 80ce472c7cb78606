package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/platform-eng/lke-platform/internal/rules"
)

func levelName(l policyx.EnforcementLevel) string {
	return map[policyx.EnforcementLevel]string{
		policyx.EnforcementLevelAdvisory: "advisory", policyx.EnforcementLevelMandatory: "mandatory",
		policyx.EnforcementLevelDisabled: "disabled", policyx.EnforcementLevelRemediate: "remediate",
	}[l]
}

func TestPackIsWellFormed(t *testing.T) {
	pack, err := New(stackFor(production, false), RealWorld)
	require.NoError(t, err)
	assert.Equal(t, "lke-platform", pack.Name())

	seen := map[string]bool{}
	for _, p := range pack.Policies() {
		assert.False(t, seen[p.Name()], "duplicate policy %s", p.Name())
		seen[p.Name()] = true
		assert.NotEmpty(t, p.Description(), p.Name())
		assert.NotEqual(t, "disabled", levelName(p.EnforcementLevel()), p.Name())

		schema := p.ConfigSchema()
		if schema == nil {
			continue
		}
		// policyx sends the schema to the engine as a protobuf Struct; a Go type structpb cannot carry (such as
		// []string) would fail GetAnalyzerInfo and with it every run.
		m := map[string]any{}
		for k, v := range schema.Properties {
			m[k] = v
			assert.NotEmpty(t, v["description"], "%s.%s", p.Name(), k)
			assert.Contains(t, v, "default", "%s.%s", p.Name(), k)
		}
		_, err := structpb.NewStruct(m)
		assert.NoError(t, err, p.Name())
	}
	assert.Len(t, seen, 19)
}

// TestRuleNamesAreTheSharedOnes: every policy of the pack is named by internal/rules, and every rule the
// admission policies enforce in the cluster (rules.InCluster) is a policy of the pack: the pack and the
// admission component speak of the same rules by the same names.
func TestRuleNamesAreTheSharedOnes(t *testing.T) {
	pack, err := New(stackFor(production, false), RealWorld)
	require.NoError(t, err)
	var names []string
	for _, p := range pack.Policies() {
		names = append(names, p.Name())
	}
	assert.ElementsMatch(t, []string{
		rules.NamespaceQuota, rules.QuotaWithinBounds, rules.ContainerResources,
		rules.NamespaceDefaultDeny, rules.IngressFromEverywhere,
		rules.ProductionApproved, rules.ProductionProtected, rules.LoadBalancers, rules.NodePorts, rules.ExternalNames, rules.IngressHosts, rules.ImagesPinned,
		rules.Privileged, rules.LiteralSecrets, rules.AccessExpires, rules.GPUPoolsOnSystem, rules.GPUTolerationsRequests,
		rules.MonthlyListPrice, rules.MonthlyBudget,
	}, names)
	for _, r := range rules.InCluster {
		assert.Contains(t, names, r, "admission enforces %s, which the pack does not have", r)
	}
}
