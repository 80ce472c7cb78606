package cluster

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

const lkeType = "linode:index/lkeCluster:LkeCluster"
const providerType = "pulumi:providers:kubernetes"

func createArgs() *Args {
	return &Args{
		Environment: "production", Region: "fr-par", Tags: []string{"team:platform"},
		Cluster: config.Cluster{
			Mode: config.Create, Label: "platform-production", KubernetesVersion: "1.33", HighAvailability: true,
			BaselinePool: config.NodePool{Type: "g6-standard-8", Count: 6, Min: 6, Max: 10}, ImportID: "531922",
		},
	}
}

func run(t *testing.T, args *Args, opts ...pulumi.ResourceOption) (*mocks.Recorder, *Cluster) {
	var c *Cluster
	rec, err := mocks.Run(t, "test", nil, func(ctx *pulumi.Context) error {
		var err error
		c, err = New(ctx, "production", args, opts...)
		return err
	})
	require.NoError(t, err)
	return rec, c
}

func TestCreateModeMakesAnLKEClusterAndAProviderForIt(t *testing.T) {
	rec, _ := run(t, createArgs(), pulumi.Protect(true))
	lke := rec.One(t, lkeType, "production")
	in := lke.Inputs.Mappable()
	assert.Equal(t, "platform-production", in["label"])
	assert.Equal(t, "fr-par", in["region"])
	assert.Equal(t, "1.33", in["k8sVersion"])
	assert.Equal(t, []any{"platform:lke", "environment:production", "managed-by:pulumi", "team:platform"}, in["tags"])
	assert.Equal(t, map[string]any{"highAvailability": true}, in["controlPlane"])
	assert.Equal(t, []any{map[string]any{
		"type": "g6-standard-8", "count": 6.0,
		"autoscaler": map[string]any{"min": 6.0, "max": 10.0},
		"labels":     map[string]any{BaselinePoolLabel: "baseline"},
	}}, in["pools"])
	assert.True(t, lke.Protect, "protect is inherited from the component")
	assert.Equal(t, "531922", lke.ImportID, "the inventory's cluster is adopted")
	assert.Equal(t, []string{"pools[0].count"}, lke.IgnoreChanges)
	assert.Contains(t, lke.SecretOutputs, "kubeconfig")

	p := rec.One(t, providerType, "production")
	kc := p.Inputs["kubeconfig"]
	require.True(t, kc.IsSecret(), "the decoded kubeconfig holds credentials and must stay secret")
	assert.Equal(t, mocks.FakeKubeconfig, kc.SecretValue().Element.StringValue(), "decoded from base64")
	assert.Equal(t, "platform-production", p.Inputs["clusterIdentifier"].StringValue())
}

func TestNotProtectedUnlessAsked(t *testing.T) {
	args := createArgs()
	args.Cluster.ImportID = ""
	rec, _ := run(t, args)
	lke := rec.One(t, lkeType, "production")
	assert.False(t, lke.Protect)
	assert.Empty(t, lke.ImportID)
}

func TestAttachModeByPathMakesNoLinodeCall(t *testing.T) {
	rec, _ := run(t, &Args{Environment: "development", Cluster: config.Cluster{
		Mode: config.Attach, Label: "platform-development", KubeconfigPath: "/tmp/kubeconfig", KubeContext: "kwok-local",
	}})
	assert.Empty(t, rec.OfType(lkeType))
	p := rec.One(t, providerType, "production")
	assert.Equal(t, "/tmp/kubeconfig", p.Inputs["kubeconfig"].StringValue())
	assert.Equal(t, "kwok-local", p.Inputs["context"].StringValue())
}

func TestAttachModeBySecretKeepsItSecret(t *testing.T) {
	rec, _ := run(t, &Args{Environment: "staging", Cluster: config.Cluster{
		Mode: config.Attach, Label: "platform-staging", Kubeconfig: "apiVersion: v1\nkind: Config\n",
	}})
	p := rec.One(t, providerType, "production")
	require.True(t, p.Inputs["kubeconfig"].IsSecret())
	assert.NotContains(t, p.Inputs, "context")
}

func TestDecodeKubeconfigRejectsGarbage(t *testing.T) {
	_, err := decodeKubeconfig("not base64!")
	assert.ErrorContains(t, err, "decoding the LKE kubeconfig (expected base64)")
}

func TestRenderModeWritesYAMLAndTouchesNoCluster(t *testing.T) {
	rec, _ := run(t, &Args{Environment: "staging", Cluster: config.Cluster{
		Mode: config.Render, Label: "platform-staging", RenderDirectory: "/project/generated/staging",
	}})
	assert.Empty(t, rec.OfType(lkeType))
	p := rec.One(t, providerType, "production")
	assert.Equal(t, "/project/generated/staging", p.Inputs["renderYamlToDirectory"].StringValue())
	assert.False(t, p.Inputs.HasValue("kubeconfig"), "render mode needs no kubeconfig")
}
