package analyzer

import (
	"context"
	"fmt"
	"testing"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const namespaceType = "kubernetes:core/v1:Namespace"

// testPack has two resource policies (one the engine's configuration disables) and a stack policy, each
// reporting what it saw, so the tests can check what reaches a policy and what the engine gets back.
func testPack(t *testing.T) (policyx.PolicyPack, *[]policyx.AnalyzerResource) {
	t.Helper()
	var seen []policyx.AnalyzerResource
	named := func(name string) policyx.ResourceValidationPolicy {
		return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
			Description:      name + " refuses every Namespace",
			EnforcementLevel: policyx.EnforcementLevelMandatory,
			ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
				seen = append(seen, args.Resource)
				if args.Resource.Type == namespaceType {
					owner := args.Resource.Properties.Get("metadata").AsMap().Get("name").AsString()
					args.Manager.ReportViolation(fmt.Sprintf("%s: %s (limit %v)", owner, args.Resource.Name, args.Config["limit"]), "")
				}
				return nil
			},
		})
	}
	stack := policyx.NewStackValidationPolicy("count", policyx.StackValidationPolicyArgs{
		Description:      "counts resources",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			args.Manager.ReportViolation(fmt.Sprintf("%d resources, first parented by %s, depending on %v",
				len(args.Resources), args.Resources[0].Parent, args.Resources[0].PropertyDependencies), "urn:other")
			return nil
		},
	})
	pack, err := policyx.NewPolicyPack("test-pack", semver.MustParse("1.2.3"), policyx.EnforcementLevelMandatory,
		[]policyx.Policy{named("first"), named("disabled"), stack})
	require.NoError(t, err)
	return pack, &seen
}

func configured(t *testing.T) (*Server, *[]policyx.AnalyzerResource) {
	t.Helper()
	pack, seen := testPack(t)
	s := NewServer(func(*pulumi.Context) (policyx.PolicyPack, error) { return pack, nil })
	ctx := context.Background()
	_, err := s.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{EngineAddress: "127.0.0.1:1"})
	require.NoError(t, err)
	_, err = s.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Stack: "development", Project: "lke-platform", DryRun: true})
	require.NoError(t, err)
	limit, err := structpb.NewStruct(map[string]any{"limit": 3})
	require.NoError(t, err)
	_, err = s.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{
		"first":    {EnforcementLevel: pulumirpc.EnforcementLevel_ADVISORY, Properties: limit},
		"disabled": {EnforcementLevel: pulumirpc.EnforcementLevel_DISABLED},
	}})
	require.NoError(t, err)
	return s, seen
}

func properties(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(m), plugin.MarshalOptions{KeepSecrets: true})
	require.NoError(t, err)
	return s
}

func TestViolationsReachTheEngineAsPolicyxReportsThem(t *testing.T) {
	s, seen := configured(t)
	resp, err := s.Analyze(context.Background(), &pulumirpc.AnalyzeRequest{
		Urn: "urn:ns", Type: namespaceType, Name: "apps",
		Properties: properties(t, map[string]any{"metadata": map[string]any{"name": "development-apps"}}),
		Options:    &pulumirpc.AnalyzerResourceOptions{Protect: true, Parent: "urn:parent"},
		Provider:   &pulumirpc.AnalyzerProviderResource{Type: "pulumi:providers:kubernetes", Urn: "urn:provider", Name: "k8s", Properties: properties(t, map[string]any{"kubeconfig": "x"})},
	})
	require.NoError(t, err)
	require.Len(t, resp.GetDiagnostics(), 1, "the disabled policy reports nothing")
	d := resp.GetDiagnostics()[0]
	assert.Equal(t, "first", d.GetPolicyName())
	assert.Equal(t, "test-pack", d.GetPolicyPackName())
	assert.Equal(t, "1.2.3", d.GetPolicyPackVersion())
	assert.Equal(t, "first refuses every Namespace", d.GetDescription())
	assert.Equal(t, "first refuses every Namespace\ndevelopment-apps: apps (limit 3)", d.GetMessage(), "the description, then the message, with the configured properties")
	assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, d.GetEnforcementLevel(), "the engine's configuration sets the level")
	assert.Equal(t, "urn:ns", d.GetUrn(), "the resource's own URN when the violation names none")

	require.Len(t, *seen, 1, "only enabled policies run")
	r := (*seen)[0]
	assert.True(t, r.Options.Protect)
	assert.Equal(t, "urn:parent", r.Parent)
	assert.Equal(t, "urn:provider", r.Provider.URN)
	assert.Equal(t, "x", r.Provider.Properties.Get("kubeconfig").AsString())
}

func TestTheStackPolicySeesEveryResource(t *testing.T) {
	s, _ := configured(t)
	resp, err := s.AnalyzeStack(context.Background(), &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
		{
			Urn: "urn:a", Type: namespaceType, Parent: "urn:component", Properties: properties(t, map[string]any{"x": 1}),
			PropertyDependencies: map[string]*pulumirpc.AnalyzerPropertyDependencies{"x": {Urns: []string{"urn:b"}}, "y": {}},
		},
		{Urn: "urn:b", Type: namespaceType, Properties: properties(t, map[string]any{})},
	}})
	require.NoError(t, err)
	require.Len(t, resp.GetDiagnostics(), 1)
	d := resp.GetDiagnostics()[0]
	assert.Equal(t, "counts resources\n2 resources, first parented by urn:component, depending on map[x:[urn:b]]", d.GetMessage())
	assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, d.GetEnforcementLevel(), "the policy's own level without configuration")
	assert.Equal(t, "urn:other", d.GetUrn())
}

func TestTheEngineLearnsThePoliciesAndNoRemediation(t *testing.T) {
	s, _ := configured(t)
	info, err := s.GetAnalyzerInfo(context.Background(), &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, "test-pack", info.GetName())
	var names []string
	for _, p := range info.GetPolicies() {
		names = append(names, p.GetName())
	}
	assert.Equal(t, []string{"first", "disabled", "count"}, names)
	assert.True(t, info.GetSupportsConfig())

	_, err = s.Remediate(context.Background(), &pulumirpc.AnalyzeRequest{Urn: "urn:ns"})
	assert.Equal(t, codes.Unimplemented, status.Code(err), "the engine reads Unimplemented as nothing to remediate")
}

func TestARequestBeforeTheStackIsConfiguredIsAnError(t *testing.T) {
	s := NewServer(func(*pulumi.Context) (policyx.PolicyPack, error) { return nil, nil })
	_, err := s.Analyze(context.Background(), &pulumirpc.AnalyzeRequest{Urn: "urn:ns"})
	assert.ErrorIs(t, err, errNotConfigured)
	_, err = s.ConfigureStack(context.Background(), &pulumirpc.AnalyzerStackConfigureRequest{Stack: "development"})
	assert.ErrorContains(t, err, "handshake")
}
