package cluster

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

const lkeType = "linode:index/lkeCluster:LkeCluster"
const providerType = "pulumi:providers:kubernetes"

// externalPoolTag stands for the tag the platform passes (externalPoolTag; platform's tests check it).
const externalPoolTag = "pool:external"

func createArgs() *Args {
	return &Args{
		Environment: "production", Region: "fr-par", Tags: []string{"team:platform"},
		ExternalPoolTag: externalPoolTag,
		Cluster: Target{
			Mode: Create, Label: "platform-production", KubernetesVersion: "1.33", HighAvailability: true,
			BaselinePool: Pool{Type: "g6-standard-8", Count: 6, Min: 6, Max: 10}, ImportID: "531922",
			ControlPlaneACL: ACL{IPv4: []string{"203.0.113.0/28", "198.51.100.7"}, IPv6: []string{"2001:db8:ac1::/48"}},
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
	tags := []any{"platform:lke", "environment:production", "managed-by:pulumi", "team:platform"}
	assert.Equal(t, tags, in["tags"])
	assert.Equal(t, map[string]any{
		"highAvailability": true,
		"acl": map[string]any{"enabled": true, "addresses": []any{map[string]any{
			"ipv4s": []any{"203.0.113.0/28", "198.51.100.7"},
			"ipv6s": []any{"2001:db8:ac1::/48"},
		}}},
	}, in["controlPlane"])
	assert.Equal(t, []any{map[string]any{
		"type": "g6-standard-8", "count": 6.0,
		"autoscaler": map[string]any{"min": 6.0, "max": 10.0},
		"labels":     map[string]any{BaselinePoolLabel: "baseline"},
		"tags":       []any{"environment:production"},
	}}, in["pools"], "the baseline pool carries the environment's tag, and only that one (PoolTags)")
	assert.Equal(t, []any{externalPoolTag}, in["externalPoolTags"], "separately managed pools stay out of the cluster's pools")
	assert.NotContains(t, tags, externalPoolTag, "the baseline pool must stay the cluster's")
	assert.True(t, lke.Protect)
	assert.True(t, lke.RetainOnDelete, "an adopted cluster is released from state, never deleted")
	assert.Equal(t, "531922", lke.ImportID, "the inventory's cluster is adopted")
	assert.Equal(t, []string{"pools[0].count"}, lke.IgnoreChanges)
	assert.Contains(t, lke.SecretOutputs, "kubeconfig")

	p := rec.One(t, providerType, "production")
	kc := p.Inputs["kubeconfig"]
	require.True(t, kc.IsSecret(), "the decoded kubeconfig holds credentials and must stay secret")
	assert.Equal(t, mocks.FakeKubeconfig, kc.SecretValue().Element.StringValue(), "decoded from base64")
	assert.Equal(t, "platform-production", p.Inputs["clusterIdentifier"].StringValue())
}

// A cluster the program created keeps today's behaviour: protected only when the stack asks (production), and
// deleted by a destroy.
func TestCreatedClusterNotProtectedUnlessAsked(t *testing.T) {
	args := createArgs()
	args.Cluster.ImportID = ""
	rec, _ := run(t, args)
	lke := rec.One(t, lkeType, "production")
	assert.False(t, lke.Protect)
	assert.False(t, lke.RetainOnDelete)
	assert.Empty(t, lke.ImportID)

	rec, _ = run(t, args, pulumi.Protect(true))
	lke = rec.One(t, lkeType, "production")
	assert.True(t, lke.Protect, "protect is inherited from the component")
	assert.False(t, lke.RetainOnDelete)
}

// An adopted cluster (the inventory's 531921 on development) was not created by the program: whatever the stack's
// own protection, it is protected and retained on delete, so a destroy never sends DELETE to Linode.
func TestAdoptedClusterIsProtectedAndRetainedOnEveryStack(t *testing.T) {
	args := createArgs()
	args.Environment, args.Cluster.Label, args.Cluster.ImportID = "development", "platform-development", "531921"
	rec, _ := run(t, args, pulumi.Protect(false))
	lke := rec.One(t, lkeType, "production")
	assert.Equal(t, "531921", lke.ImportID)
	assert.True(t, lke.Protect, "protected although the stack is not")
	assert.True(t, lke.RetainOnDelete)
	// Only the cluster itself: the provider and the rest of a non-production stack stay unprotected.
	assert.False(t, rec.One(t, providerType, "production").Protect)
}

// A family with no address is left out of the ACL rather than sent as an empty list.
func TestControlPlaneACLOfOneFamily(t *testing.T) {
	args := createArgs()
	args.Cluster.ControlPlaneACL = ACL{IPv4: []string{"0.0.0.0/0"}}
	rec, _ := run(t, args)
	acl := rec.One(t, lkeType, "production").Inputs.Mappable()["controlPlane"].(map[string]any)["acl"]
	assert.Equal(t, map[string]any{"enabled": true, "addresses": []any{map[string]any{"ipv4s": []any{"0.0.0.0/0"}}}}, acl)
}

func TestAttachModeByPathMakesNoLinodeCall(t *testing.T) {
	rec, _ := run(t, &Args{Environment: "development", Cluster: Target{
		Mode: Attach, Label: "platform-development", KubeconfigPath: "/tmp/kubeconfig", KubeContext: "kwok-local",
	}})
	assert.Empty(t, rec.OfType(lkeType))
	p := rec.One(t, providerType, "production")
	assert.Equal(t, "/tmp/kubeconfig", p.Inputs["kubeconfig"].StringValue())
	assert.Equal(t, "kwok-local", p.Inputs["context"].StringValue())
}

func TestAttachModeBySecretKeepsItSecret(t *testing.T) {
	rec, _ := run(t, &Args{Environment: "staging", Cluster: Target{
		Mode: Attach, Label: "platform-staging", Kubeconfig: "apiVersion: v1\nkind: Config\n",
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
	// The shell that ran `scripts/local up` exports KUBECONFIG; the Go SDK copies it into a provider whose
	// kubeconfig is nil, and the provider refuses a kubeconfig beside renderYamlToDirectory.
	t.Setenv("KUBECONFIG", "/home/operator/.kube/local-control-plane")
	rec, _ := run(t, &Args{Environment: "staging", Cluster: Target{
		Mode: Render, Label: "platform-staging", RenderDirectory: "/project/generated/staging",
	}})
	assert.Empty(t, rec.OfType(lkeType))
	p := rec.One(t, providerType, "production")
	assert.Equal(t, "/project/generated/staging/cluster", p.Inputs["renderYamlToDirectory"].StringValue(), "Pulumi's own objects; Argo CD's tree goes beside them")
	kc := p.Inputs["kubeconfig"]
	require.True(t, kc.IsString(), "render mode sets the kubeconfig explicitly, so the ambient one is never read: %v", kc)
	assert.Empty(t, kc.StringValue(), "an empty kubeconfig is what the provider accepts beside renderYamlToDirectory")
	for _, key := range []string{"context", "cluster"} {
		assert.False(t, p.Inputs.HasValue(resource.PropertyKey(key)), "%s is refused beside renderYamlToDirectory", key)
	}
}
