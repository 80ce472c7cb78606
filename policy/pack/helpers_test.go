package pack

import (
	"context"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/require"
)

// unknown is a value still to be computed, as the engine sends it during a preview.
var unknown = resource.MakeComputed(resource.NewStringProperty(""))

// testNow is the fixed "now" of every test that involves time.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// props converts plain Go values (as a manifest decodes) into the property map the engine hands a policy, going
// through the same resource.PropertyMap conversion policyx uses on what it receives.
func props(m map[string]any) property.Map {
	return resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(m))
}

// res is a resource as a policy sees it; options are set by the caller where they matter.
func res(typ, name string, p map[string]any) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		Type: typ, Name: name, Properties: props(p),
		URN: "urn:pulumi:test::lke-platform::" + typ + "::" + name,
	}
}

// violations records what a policy reports.
type violations struct {
	messages []string
	urns     []string
}

func (v *violations) ReportViolation(message, urn string) {
	v.messages = append(v.messages, message)
	v.urns = append(v.urns, urn)
}

func checkResource(t *testing.T, p policyx.ResourceValidationPolicy, r policyx.AnalyzerResource, cfg map[string]any) []string {
	t.Helper()
	v := &violations{}
	require.NoError(t, p.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: v, Resource: r, Config: cfg}))
	return v.messages
}

func checkStack(t *testing.T, p policyx.StackValidationPolicy, rs ...policyx.AnalyzerResource) *violations {
	t.Helper()
	v := &violations{}
	require.NoError(t, p.Validate(context.Background(), policyx.StackValidationArgs{Manager: v, Resources: rs}))
	return v
}

func stackFor(env string, dryRun bool) Stack {
	return Stack{Project: "lke-platform", Name: env, Environment: env, DryRun: dryRun}
}

// meta is a Kubernetes metadata block.
func meta(name, namespace string) map[string]any {
	m := map[string]any{"name": name}
	if namespace != "" {
		m["namespace"] = namespace
	}
	return m
}

// goodContainer is a container every workload policy accepts.
func goodContainer(name string) map[string]any {
	return map[string]any{
		"name":  name,
		"image": "ghcr.io/platform-eng/sample-service:1.4.2",
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
			"limits":   map[string]any{"cpu": "500m", "memory": "256Mi"},
		},
	}
}

// deployment is a Deployment in namespace ns whose pod spec is podSpec.
func deployment(name, ns string, podSpec map[string]any) policyx.AnalyzerResource {
	return res("kubernetes:apps/v1:Deployment", name, map[string]any{
		"metadata": meta(name, ns),
		"spec":     map[string]any{"template": map[string]any{"spec": podSpec}},
	})
}
