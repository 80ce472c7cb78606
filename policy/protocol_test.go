package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/internal/rules"
	"github.com/platform-eng/lke-platform/platform"
	"github.com/platform-eng/lke-platform/platform/platformtest"
	"github.com/platform-eng/lke-platform/policy/pack"
)

// These tests run the compiled pack as the engine does: start the binary, read the port it prints, then speak
// the analyzer protocol (Handshake, ConfigureStack, GetAnalyzerInfo, Configure, Analyze, AnalyzeStack). They
// prove what the unit tests cannot: that the stack's config and the preview flag reach the pack, that the
// config schemas survive the trip to the engine, and that the approval record is read from the environment the
// engine starts the pack with.

// The type tokens the tests send, as the engine names them.
const (
	stackRootType     = "pulumi:pulumi:Stack"
	lkeClusterType    = "linode:index/lkeCluster:LkeCluster"
	namespaceType     = "kubernetes:core/v1:Namespace"
	networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
)

// deployedSHA is the commit the tests' updates deploy (GITHUB_SHA).
var deployedSHA = strings.Repeat("9f", 20)

func buildPack(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the pack binary")
	}
	bin := filepath.Join(t.TempDir(), "lke-platform-policy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

type packProcess struct {
	client pulumirpc.AnalyzerClient
}

// startPack starts the pack with the given extra environment and configures it for a stack, as the engine does.
func startPack(t *testing.T, bin string, env []string, stack string, cfg map[string]string, dryRun bool) packProcess {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, pack.ApprovalEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	port, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "reading the port the pack listens on")
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	client := pulumirpc.NewAnalyzerClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Dir(bin)
	_, err = client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{RootDirectory: &dir, ProgramDirectory: &dir})
	require.NoError(t, err)
	_, err = client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Stack: stack, Project: "lke-platform", Config: cfg, DryRun: dryRun,
	})
	require.NoError(t, err)
	_, err = client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{}})
	require.NoError(t, err)
	return packProcess{client: client}
}

func marshal(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(m), plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	require.NoError(t, err)
	return s
}

func (p packProcess) analyze(t *testing.T, typ, name string, m map[string]any, protect bool) []*pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	resp, err := p.client.Analyze(t.Context(), &pulumirpc.AnalyzeRequest{
		Type: typ, Name: name, Urn: "urn:pulumi:production::lke-platform::" + typ + "::" + name,
		Properties: marshal(t, m), Options: &pulumirpc.AnalyzerResourceOptions{Protect: protect},
	})
	require.NoError(t, err)
	return resp.GetDiagnostics()
}

func policyNames(ds []*pulumirpc.AnalyzeDiagnostic) []string {
	var names []string
	for _, d := range ds {
		names = append(names, d.GetPolicyName())
	}
	return names
}

func TestPackOverTheAnalyzerProtocol(t *testing.T) {
	bin := buildPack(t)
	prodConfig := map[string]string{pack.EnvironmentKey: "production"}

	t.Run("info: every policy and its config schema reach the engine", func(t *testing.T) {
		p := startPack(t, bin, nil, "production", prodConfig, true)
		info, err := p.client.GetAnalyzerInfo(t.Context(), &emptypb.Empty{})
		require.NoError(t, err)
		assert.Equal(t, pack.Name, info.GetName())
		assert.True(t, info.GetSupportsConfig())
		byName := map[string]*pulumirpc.PolicyInfo{}
		for _, pi := range info.GetPolicies() {
			byName[pi.GetName()] = pi
		}
		require.Len(t, byName, 19)
		bounds := byName[rules.QuotaWithinBounds].GetConfigSchema().GetProperties().AsMap()
		assert.Equal(t, "32", bounds["maxRequestsCpu"].(map[string]any)["default"])
		assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, byName[rules.GPUTolerationsRequests].GetEnforcementLevel())
	})

	t.Run("preview of production: not blocked for approval, other policies still apply", func(t *testing.T) {
		p := startPack(t, bin, nil, "production", prodConfig, true)
		assert.Empty(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false))
		assert.Equal(t, []string{rules.ProductionProtected},
			policyNames(p.analyze(t, lkeClusterType, "production", map[string]any{"label": "platform-production"}, false)))
	})

	t.Run("update of production without a record is refused at the stack root", func(t *testing.T) {
		p := startPack(t, bin, nil, "production", prodConfig, false)
		ds := p.analyze(t, stackRootType, "lke-platform-production", nil, false)
		require.Equal(t, []string{rules.ProductionApproved}, policyNames(ds))
		assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, ds[0].GetEnforcementLevel())
		assert.Contains(t, ds[0].GetMessage(), "no approval record: PLATFORM_APPROVAL_RECORD is not set")
	})

	t.Run("update of production with a valid record from the environment passes", func(t *testing.T) {
		expires := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		record := `{"change": "PR#42", "commit": "` + deployedSHA + `", "author": "alice", "approvers": ["bob", "carol"], "expires": "` + expires + `"}`
		p := startPack(t, bin, []string{pack.ApprovalEnv + "=" + record, pack.DeployedCommitEnv + "=" + deployedSHA}, "production", prodConfig, false)
		assert.Empty(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false))
		assert.Empty(t, p.analyze(t, lkeClusterType, "production", map[string]any{"label": "platform-production"}, true))
	})

	t.Run("the environment is the stack's name when it names one, else its config's", func(t *testing.T) {
		p := startPack(t, bin, nil, "prod-eu", prodConfig, false)
		assert.Len(t, p.analyze(t, stackRootType, "lke-platform-prod-eu", nil, false), 1)
		p = startPack(t, bin, nil, "production", nil, false)
		assert.Len(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false), 1)
		p = startPack(t, bin, nil, "production", map[string]string{pack.EnvironmentKey: "staging"}, false)
		assert.Len(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false), 1,
			"an edit of production's stack file does not take it out of production's rules")
		p = startPack(t, bin, nil, "qa-eu", map[string]string{pack.EnvironmentKey: "staging"}, false)
		assert.Empty(t, p.analyze(t, stackRootType, "lke-platform-qa-eu", nil, false))
	})

	t.Run("stack policies see the whole stack", func(t *testing.T) {
		p := startPack(t, bin, nil, "staging", map[string]string{pack.EnvironmentKey: "staging"}, true)
		ns := &pulumirpc.AnalyzerResource{
			Type: namespaceType, Name: "staging-apps", Urn: "urn:pulumi:staging::lke-platform::" + namespaceType + "::staging-apps",
			Properties: marshal(t, map[string]any{"metadata": map[string]any{"name": "staging-apps"}}),
		}
		resp, err := p.client.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{ns}})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{rules.NamespaceQuota, rules.NamespaceDefaultDeny}, policyNames(resp.GetDiagnostics()))
		for _, d := range resp.GetDiagnostics() {
			assert.Equal(t, ns.GetUrn(), d.GetUrn())
		}
	})
}

// programStack is the staging program's resources (create mode: the stack makes its LKE cluster) as the engine
// hands them to AnalyzeStack, without those drop selects, each kubernetes object's state given by state. The
// kubernetes provider goes with every object; in a preview its kubeconfig is unknown (the cluster does not exist
// yet).
func programStack(t *testing.T, preview bool, drop func(mocks.Resource) bool, state func(mocks.Resource) resource.PropertyMap) []*pulumirpc.AnalyzerResource {
	t.Helper()
	rec, err := platformtest.Run(t, config.Staging, platformtest.Config(t, "..", config.Staging, nil), platform.Program)
	require.NoError(t, err)
	urn := func(r mocks.Resource) string {
		return "urn:pulumi:staging::lke-platform::" + r.Type + "::" + r.Name
	}
	kube := rec.One(t, "pulumi:providers:kubernetes", config.Staging)
	providerInputs := kube.Inputs.Copy()
	if preview {
		providerInputs["kubeconfig"] = resource.MakeComputed(resource.NewStringProperty(""))
	}
	provider := &pulumirpc.AnalyzerProviderResource{
		Type: kube.Type, Name: kube.Name, Urn: urn(kube), Properties: marshalState(t, providerInputs),
	}

	var out []*pulumirpc.AnalyzerResource
	for _, r := range rec.Resources() {
		if drop(r) {
			continue
		}
		a := &pulumirpc.AnalyzerResource{Type: r.Type, Name: r.Name, Urn: urn(r), Parent: r.Parent, Properties: marshalState(t, r.Inputs)}
		if strings.HasPrefix(r.Type, "kubernetes:") {
			a.Properties, a.Provider = marshalState(t, state(r)), provider
		}
		out = append(out, a)
	}
	return out
}

// marshalState encodes a resource's state as the engine's AnalyzeStack does (unknowns and secrets kept).
func marshalState(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipInternalKeys: true})
	require.NoError(t, err)
	return s
}

// A create-mode stack's first preview: the kubernetes provider has no cluster yet, so every kubernetes object's
// outputs are unknown. The pack's stack policies must not report what they cannot see, and must still refuse
// the real violation: a namespace with no default-deny NetworkPolicy, once the values are known, or a namespace
// with no NetworkPolicy at all, whatever is unknown.
func TestPackJudgesUnknownOutputsAsUnknown(t *testing.T) {
	bin := buildPack(t)
	cfg := map[string]string{pack.EnvironmentKey: config.Staging}
	// The stack's price (an advisory every analysis of a create-mode stack reports; TestPackPricesTheStack) is
	// left out: these cases are about what the pack cannot see yet.
	analyze := func(t *testing.T, preview bool, drop func(mocks.Resource) bool, state func(mocks.Resource) resource.PropertyMap) []*pulumirpc.AnalyzeDiagnostic {
		t.Helper()
		p := startPack(t, bin, nil, config.Staging, cfg, preview)
		resp, err := p.client.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: programStack(t, preview, drop, state)})
		require.NoError(t, err)
		var out []*pulumirpc.AnalyzeDiagnostic
		for _, d := range resp.GetDiagnostics() {
			if d.GetPolicyName() != rules.MonthlyListPrice {
				out = append(out, d)
			}
		}
		return out
	}
	keep := func(mocks.Resource) bool { return false }
	noDefaultDeny := func(r mocks.Resource) bool {
		return r.Type == networkPolicyType && strings.HasSuffix(r.Name, "-"+namespace.DefaultDenyPolicy)
	}
	noNetworkPolicy := func(r mocks.Resource) bool { return r.Type == networkPolicyType }
	// The provider plugin's Create, in a preview with an unknown configuration, returns an empty state.
	unconfigured := func(mocks.Resource) resource.PropertyMap { return resource.PropertyMap{} }
	// A configured provider's preview of objects built from unknown outputs: everything but the type computed.
	computed := func(r mocks.Resource) resource.PropertyMap {
		out := resource.PropertyMap{}
		for k, v := range r.Inputs {
			if k == "apiVersion" || k == "kind" {
				out[k] = v
			} else {
				out[k] = resource.MakeComputed(resource.NewStringProperty(""))
			}
		}
		return out
	}
	known := func(r mocks.Resource) resource.PropertyMap { return r.Inputs }
	const namespaces = 6 // argocd, monitoring, ingress-nginx, cert-manager, external-dns, staging-apps

	t.Run("preview, provider without a cluster: nothing reported", func(t *testing.T) {
		assert.Empty(t, policyNames(analyze(t, true, keep, unconfigured)))
	})
	t.Run("preview, outputs computed: nothing reported", func(t *testing.T) {
		assert.Empty(t, policyNames(analyze(t, true, keep, computed)))
	})
	t.Run("update, values known: nothing reported", func(t *testing.T) {
		assert.Empty(t, policyNames(analyze(t, false, keep, known)))
	})
	t.Run("update, values known, no default deny: refused for every namespace", func(t *testing.T) {
		ds := analyze(t, false, noDefaultDeny, known)
		require.Len(t, ds, namespaces, "%v", policyNames(ds))
		for _, d := range ds {
			assert.Equal(t, rules.NamespaceDefaultDeny, d.GetPolicyName())
			assert.Contains(t, d.GetMessage(), "has no default-deny NetworkPolicy")
		}
	})
	t.Run("preview, no default deny among unknown policies: cannot tell yet", func(t *testing.T) {
		assert.Empty(t, policyNames(analyze(t, true, noDefaultDeny, unconfigured)))
	})
	t.Run("preview, no NetworkPolicy at all: refused whatever is unknown", func(t *testing.T) {
		for name, state := range map[string]func(mocks.Resource) resource.PropertyMap{"unconfigured": unconfigured, "computed": computed} {
			ds := analyze(t, true, noNetworkPolicy, state)
			assert.Len(t, ds, namespaces, "%s: %v", name, policyNames(ds))
			for _, d := range ds {
				assert.Equal(t, rules.NamespaceDefaultDeny, d.GetPolicyName(), name)
			}
		}
	})
}

// Through the engine's protocol, the real pack prices the staging stack the program composes (3 × g6-standard-8,
// no HA: $576 a month) in every preview, as an advisory, and a budget below that fails the preview.
func TestPackPricesTheStack(t *testing.T) {
	bin := buildPack(t)
	keep := func(mocks.Resource) bool { return false }
	inputs := func(r mocks.Resource) resource.PropertyMap { return r.Inputs }
	for _, budget := range []string{"", "1000", "500"} {
		cfg := map[string]string{pack.EnvironmentKey: config.Staging}
		if budget != "" {
			cfg[pack.BudgetKey] = budget
		}
		p := startPack(t, bin, nil, config.Staging, cfg, true)
		resp, err := p.client.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: programStack(t, true, keep, inputs)})
		require.NoError(t, err)
		byPolicy := map[string][]*pulumirpc.AnalyzeDiagnostic{}
		for _, d := range resp.GetDiagnostics() {
			byPolicy[d.GetPolicyName()] = append(byPolicy[d.GetPolicyName()], d)
		}
		price := byPolicy[rules.MonthlyListPrice]
		require.Len(t, price, 1, "budget %q: %v", budget, policyNames(resp.GetDiagnostics()))
		assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, price[0].GetEnforcementLevel())
		assert.Contains(t, price[0].GetMessage(), `stack "staging" costs $576/month at list price`)
		over := byPolicy[rules.MonthlyBudget]
		if budget != "500" {
			assert.Empty(t, over, "budget %q", budget)
			continue
		}
		require.Len(t, over, 1)
		assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, over[0].GetEnforcementLevel())
		assert.Contains(t, over[0].GetMessage(), "over its budget of $500/month (lke-platform:monthlyBudgetUsd) by $76")
	}
}
