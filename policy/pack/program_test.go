package pack

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/rules"
	"github.com/platform-eng/lke-platform/platform"
	"github.com/platform-eng/lke-platform/platform/platformtest"
)

// registered runs the program for a committed stack under mocks and returns its resources as the pack sees them.
func registered(t *testing.T, stack string) []policyx.AnalyzerResource {
	t.Helper()
	rec, err := platformtest.Run(t, stack, platformtest.Config(t, "../..", stack, nil), platform.Program)
	require.NoError(t, err)

	var out []policyx.AnalyzerResource
	for _, r := range rec.Resources() {
		out = append(out, policyx.AnalyzerResource{
			Type: r.Type, Name: r.Name, URN: "urn:pulumi:" + stack + "::lke-platform::" + r.Type + "::" + r.Name,
			Properties: resource.FromResourcePropertyMap(r.Inputs), Parent: r.Parent,
			Options: pulumi.ResourceOptions{Protect: r.Protect},
		})
	}
	return out
}

// runPack runs every policy of the pack over the resources, as the engine would, and returns the messages.
func runPack(t *testing.T, stack Stack, resources []policyx.AnalyzerResource) []string {
	t.Helper()
	var all []string
	for _, p := range Policies(stack, RealWorld) {
		all = append(all, runPolicy(t, p, resources)...)
	}
	return all
}

// runPackByPolicy is runPack's messages by the name of the policy that reported them.
func runPackByPolicy(t *testing.T, stack Stack, resources []policyx.AnalyzerResource) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range Policies(stack, RealWorld) {
		if messages := runPolicy(t, p, resources); len(messages) > 0 {
			out[p.Name()] = messages
		}
	}
	return out
}

func runPolicy(t *testing.T, p policyx.Policy, resources []policyx.AnalyzerResource) []string {
	t.Helper()
	v := &violations{}
	switch p := p.(type) {
	case policyx.ResourceValidationPolicy:
		for _, r := range resources {
			require.NoError(t, p.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: v, Resource: r}))
		}
	case policyx.StackValidationPolicy:
		require.NoError(t, p.Validate(context.Background(), policyx.StackValidationArgs{Manager: v, Resources: resources}))
	}
	return v.messages
}

// Every committed stack, as the program composes it, passes every policy of the pack (approval aside: previews
// are never blocked, and the record is a property of the update, not of the resources).
func TestTheProgramPassesThePack(t *testing.T) {
	for _, env := range config.Environments {
		t.Run(env, func(t *testing.T) {
			resources := registered(t, env)
			require.NotEmpty(t, resources)
			got := runPackByPolicy(t, stackFor(env, true), resources)
			// Only the advisory price of the stack: every committed stack is in create mode, so it bills.
			require.Len(t, got[rules.MonthlyListPrice], 1, "%q", got)
			assert.Contains(t, got[rules.MonthlyListPrice][0], "costs $")
			delete(got, rules.MonthlyListPrice)
			assert.Empty(t, got)
		})
	}
}

// The same resources judged as the wrong environment fail, so the test above is not passing vacuously.
func TestTheProgramFailsAsTheWrongEnvironment(t *testing.T) {
	got := runPack(t, stackFor(production, true), registered(t, config.System))
	var gpu, unprotected int
	for _, m := range got {
		switch {
		case strings.Contains(m, "GPU node type"):
			gpu++
		case strings.Contains(m, "is not protected"):
			unprotected++
		}
	}
	assert.Equal(t, 1, gpu, "%q", got)
	assert.Positive(t, unprotected, "%q", got)
}

// The pack's messages name the objects the Namespace component creates; keep them in step.
func TestNamesMatchTheNamespaceComponent(t *testing.T) {
	var quota, deny policyx.StackValidationPolicy = namespaceQuotaPolicy(), defaultDenyPolicy()
	ns := res(namespaceType, "x", map[string]any{"metadata": meta("x", "")})
	assert.Contains(t, checkStack(t, quota, ns).messages[0], `"`+namespace.QuotaName+`"`)
	assert.Contains(t, checkStack(t, quota, ns).messages[0], `"`+namespace.LimitRangeName+`"`)
	assert.Contains(t, checkStack(t, deny, ns).messages[0], `"`+namespace.DefaultDenyPolicy+`"`)
}
