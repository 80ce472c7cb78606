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
)

// These tests run the compiled pack as the engine does: start the binary, read the port it prints, then speak
// the analyzer protocol (Handshake, ConfigureStack, GetAnalyzerInfo, Configure, Analyze, AnalyzeStack). They
// prove what the unit tests cannot: that the stack's config and the preview flag reach the pack, that the
// config schemas survive the trip to the engine, and that the approval record is read from the environment the
// engine starts the pack with.

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
		if !strings.HasPrefix(kv, ApprovalEnv+"=") {
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
	prodConfig := map[string]string{environmentKey: "production"}

	t.Run("info: every policy and its config schema reach the engine", func(t *testing.T) {
		p := startPack(t, bin, nil, "production", prodConfig, true)
		info, err := p.client.GetAnalyzerInfo(t.Context(), &emptypb.Empty{})
		require.NoError(t, err)
		assert.Equal(t, PackName, info.GetName())
		assert.True(t, info.GetSupportsConfig())
		byName := map[string]*pulumirpc.PolicyInfo{}
		for _, pi := range info.GetPolicies() {
			byName[pi.GetName()] = pi
		}
		require.Len(t, byName, 13)
		bounds := byName["quota-within-bounds"].GetConfigSchema().GetProperties().AsMap()
		assert.Equal(t, "32", bounds["maxRequestsCpu"].(map[string]any)["default"])
		assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, byName["gpu-tolerations-request-gpus"].GetEnforcementLevel())
	})

	t.Run("preview of production: not blocked for approval, other policies still apply", func(t *testing.T) {
		p := startPack(t, bin, nil, "production", prodConfig, true)
		assert.Empty(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false))
		assert.Equal(t, []string{"production-resources-protected"},
			policyNames(p.analyze(t, lkeClusterType, "production", map[string]any{"label": "platform-production"}, false)))
	})

	t.Run("update of production without a record is refused at the stack root", func(t *testing.T) {
		p := startPack(t, bin, nil, "production", prodConfig, false)
		ds := p.analyze(t, stackRootType, "lke-platform-production", nil, false)
		require.Equal(t, []string{"production-change-approved"}, policyNames(ds))
		assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, ds[0].GetEnforcementLevel())
		assert.Contains(t, ds[0].GetMessage(), "no approval record: PLATFORM_APPROVAL_RECORD is not set")
	})

	t.Run("update of production with a valid record from the environment passes", func(t *testing.T) {
		expires := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		record := `{"change": "PR#42", "author": "alice", "approvers": ["bob", "carol"], "expires": "` + expires + `"}`
		p := startPack(t, bin, []string{ApprovalEnv + "=" + record}, "production", prodConfig, false)
		assert.Empty(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false))
		assert.Empty(t, p.analyze(t, lkeClusterType, "production", map[string]any{"label": "platform-production"}, true))
	})

	t.Run("the environment comes from stack config, else the stack name", func(t *testing.T) {
		p := startPack(t, bin, nil, "prod-eu", prodConfig, false)
		assert.Len(t, p.analyze(t, stackRootType, "lke-platform-prod-eu", nil, false), 1)
		p = startPack(t, bin, nil, "production", nil, false)
		assert.Len(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false), 1)
		p = startPack(t, bin, nil, "production", map[string]string{environmentKey: "staging"}, false)
		assert.Empty(t, p.analyze(t, stackRootType, "lke-platform-production", nil, false))
	})

	t.Run("stack policies see the whole stack", func(t *testing.T) {
		p := startPack(t, bin, nil, "staging", map[string]string{environmentKey: "staging"}, true)
		ns := &pulumirpc.AnalyzerResource{
			Type: namespaceType, Name: "staging-apps", Urn: "urn:pulumi:staging::lke-platform::" + namespaceType + "::staging-apps",
			Properties: marshal(t, map[string]any{"metadata": map[string]any{"name": "staging-apps"}}),
		}
		resp, err := p.client.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{ns}})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"namespace-quota-and-limits", "namespace-default-deny"}, policyNames(resp.GetDiagnostics()))
		for _, d := range resp.GetDiagnostics() {
			assert.Equal(t, ns.GetUrn(), d.GetUrn())
		}
	})
}
