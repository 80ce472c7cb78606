//go:build integration

package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/linode/linodego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/cluster"
	"github.com/platform-eng/lke-platform/components/gpupool"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/linodeapi"
	"github.com/platform-eng/lke-platform/platform/platformtest"
)

// Cloud mode, with the real Linode provider plugin against the Linode API stand-in (internal/linodeapi) on
// loopback: the stand-in hands out the kubeconfig of a local control plane for every cluster, so the program
// creates or adopts its LKE cluster through the provider and deploys the platform onto a real API server.
// Adopting an inventory cluster (import, reads only; destroy releases it, no DELETE) is proven twice: development's
// 531921 here, on the cluster alone, and production's 531922 under the whole platform in TestEnvironmentLifecycle.

const (
	linodeProviderVersion = "4.39.0" // tools/versions.env, LINODE_PROVIDER_VERSION
	linodeToken           = "integration-test-linode-token"
)

// Pulumi.yaml's defaults, as the stand-in must hold them for a cluster the program adopts or creates.
var (
	defaultACL        = []string{"203.0.113.0/28", "198.51.100.0/24"}
	defaultACLv6      = []string{"2001:db8:ac1::/48"}
	defaultK8sVersion = "1.33"
	defaultRegion     = "fr-par"
)

// linodeAPI is a running stand-in and the environment that points the provider at it.
type linodeAPI struct {
	*linodeapi.Server
	env []string
}

// startLinodeAPI starts the stand-in, handing out the kubeconfig of the control plane at kubeconfigPath.
func startLinodeAPI(t *testing.T, kubeconfigPath string) *linodeAPI {
	t.Helper()
	requireLinodePlugin(t)
	kc, err := os.ReadFile(kubeconfigPath)
	require.NoError(t, err)
	api := linodeapi.New(linodeapi.Options{
		Token: linodeToken, Kubeconfig: kc, Versions: []string{"1.32", defaultK8sVersion},
		Types: []linodego.LinodeType{
			{ID: "g6-standard-8", Label: "Linode 16GB", Class: linodego.ClassStandard, VCPUs: 6, Memory: 16384},
			{ID: "g1-gpu-rtx6000-1", Label: "Dedicated 32GB + RTX6000 GPU x1", Class: linodego.ClassGPU, VCPUs: 8, Memory: 32768, GPUs: 1},
		},
	})
	url, err := api.Start()
	require.NoError(t, err)
	t.Cleanup(api.Close)
	t.Cleanup(func() {
		if t.Failed() { // what reached "Linode", for the failure's story
			for _, r := range api.Requests() {
				t.Logf("linode api: %s %s", r, r.Body)
			}
		}
	})
	return &linodeAPI{Server: api, env: []string{"LINODE_URL=" + url, "LINODE_TOKEN=" + linodeToken}}
}

// inventoryCluster is an existing LKE cluster of the inventory as the Linode API holds it: already what the
// program declares for env with Pulumi.yaml's defaults (tags, pool, ACL, HA for production), so adopting it is
// reads only.
func inventoryCluster(env string, id int) linodeapi.Cluster {
	return linodeapi.Cluster{
		LKECluster: linodego.LKECluster{
			ID: id, Label: "platform-" + env, Region: defaultRegion, K8sVersion: defaultK8sVersion,
			Tags:         cluster.Tags(env, nil),
			ControlPlane: linodego.LKEClusterControlPlane{HighAvailability: env == "production"},
		},
		ACL: linodego.LKEClusterControlPlaneACL{Enabled: true, Addresses: &linodego.LKEClusterControlPlaneACLAddresses{
			IPv4: defaultACL, IPv6: defaultACLv6,
		}},
		Pools: []linodego.LKENodePool{{
			Type: "g6-standard-8", Count: 3, Tags: cluster.PoolTags(env),
			Labels:     linodego.LKENodePoolLabels{cluster.BaselinePoolLabel: "baseline"},
			Autoscaler: linodego.LKENodePoolAutoscaler{Enabled: true, Min: 3, Max: 10},
			Taints:     []linodego.LKENodePoolTaint{}, Disks: []linodego.LKENodePoolDisk{},
		}},
	}
}

// requireLinodePlugin fails the test, saying how to get it, when the Linode provider plugin is not installed.
func requireLinodePlugin(t *testing.T) {
	t.Helper()
	out, err := exec.Command("pulumi", "plugin", "ls", "--json").Output()
	require.NoError(t, err)
	var plugins []struct{ Name, Kind, Version string }
	require.NoError(t, json.Unmarshal(out, &plugins))
	for _, p := range plugins {
		if p.Name == "linode" && p.Kind == "resource" && p.Version == linodeProviderVersion {
			return
		}
	}
	t.Fatalf("the Linode provider plugin %s is not installed: `pulumi plugin install resource linode %s`, or "+
		"LKE_PLATFORM_LINODE_PLUGIN_TARBALL=<its release tarball> scripts/toolchain (README)", linodeProviderVersion, linodeProviderVersion)
}

// linodePluginDir is the installed Linode plugin's folder, in the PULUMI_HOME of scripts/env.sh.
func linodePluginDir(t *testing.T) string {
	t.Helper()
	requireLinodePlugin(t)
	home := os.Getenv("PULUMI_HOME")
	require.NotEmpty(t, home, "PULUMI_HOME is not set: run the integration tests through scripts/test")
	return filepath.Join(home, "plugins", "resource-linode-v"+linodeProviderVersion)
}

// cloudConfig is the plain config of a cloud-mode stack of environment env (clusterMode create, the default),
// with a domain and an ACME address of the operator's own, as a create-mode update needs (the committed ones are
// placeholders it refuses).
func cloudConfig(env string) map[string]string {
	return map[string]string{
		"environment": env, "sealedSecretsCertificate": sealingCert,
		"domain": platformtest.Domain, "acmeEmail": platformtest.ACMEEmail,
	}
}

// writes are the requests that changed something at the API, as "METHOD path".
func writes(reqs []linodeapi.Request) []string {
	var w []string
	for _, r := range reqs {
		if r.Write() {
			w = append(w, r.String())
		}
	}
	return w
}

// assertAllHandled fails for a call the stand-in does not serve: the provider asked for something unexpected.
func assertAllHandled(t *testing.T, reqs []linodeapi.Request) {
	t.Helper()
	for _, r := range reqs {
		assert.True(t, r.Handled, "the provider called %s, which the stand-in does not serve", r)
	}
}

// TestCloudMode runs development's adoption of its inventory cluster (cloudModeAdopts), then two stacks of the whole
// platform in cloud mode, one after the other (each on a control plane of its own, stopped when it is done, so
// that the suite never runs both at once):
//   - a new environment's first deploy: staging's preview with the policy pack passes while its cluster does not
//     exist yet (its kubeconfig, and every Kubernetes object's outputs, unknown), the update creates the LKE
//     cluster with the spec's pool, the control plane ACL and the tags, and deploys the platform through the
//     kubeconfig LKE hands out; a second preview finds nothing to do;
//   - system's GPU pool (an LkeNodePool beside the cluster's own pools) through create, refresh and a preview: the
//     refresh must not read the pool into the cluster, so the preview after it finds no change and no update
//     would delete the GPUs.
func TestCloudMode(t *testing.T) {
	needsCluster(t)
	parallel(t)
	t.Run("development adopts 531921 and releases it", cloudModeAdopts)
	t.Run("staging creates its cluster and deploys", cloudModeCreates)
	t.Run("system's GPU pool survives a refresh", cloudModeGPUPool)
}

// cloudModeAdopts is development's stack adopting the inventory's cluster 531921 on the cluster alone (--target:
// the platform on top is what production's lifecycle deploys, with the pack, onto its adopted cluster 531922).
// Without the pack here: in a targeted update of a stack whose platform is not deployed, the engine hands the
// pack the Kubernetes objects the update skips with inputs it cannot judge, and its quota rule refuses them (a
// limit of the pack with --target, noted in docs/policy.md). The import only reads. Then the two ways the troubleshooting runbook gives to destroy such a stack: with
// --exclude-protected the cluster stays managed; after `state unprotect`, destroy releases it from the state. No
// request that changes anything reaches Linode, and the cluster is still there.
func cloudModeAdopts(t *testing.T) {
	const env, clusterID = "development", 531921
	api := startLinodeAPI(t, kubeconfig) // the shared control plane's: the targeted update never reaches it
	api.Seed(inventoryCluster(env, clusterID))
	c := newCLI(t, "")
	c.vars = append(c.vars, api.env...)
	stack := "cloud-" + env
	cfg := cloudConfig(env)
	cfg["importClusterId"] = strconv.Itoa(clusterID) // as Pulumi.development.yaml has it
	c.programStack(stack, cfg)
	component := "urn:pulumi:" + stack + "::lke-platform::platform:cluster:Cluster::" + env
	lke := "urn:pulumi:" + stack + "::lke-platform::platform:cluster:Cluster$linode:index/lkeCluster:LkeCluster::" + env

	out := c.must("up", "-s", stack, "--yes", "--target", component, "--target", lke)
	assert.Contains(t, out, "imported", out)
	state := c.must("stack", "export", "-s", stack)
	assert.Contains(t, state, `"id": "531921"`)

	c.must("destroy", "-s", stack, "--yes", "--exclude-protected")
	assert.Contains(t, c.must("stack", "export", "-s", stack), lke, "--exclude-protected keeps the adopted cluster managed")
	out, err := c.run(nil, "destroy", "-s", stack, "--yes")
	require.Error(t, err, "a destroy of the protected cluster is refused:\n%s", out)
	c.must("state", "unprotect", "-s", stack, lke, "--yes")
	c.must("destroy", "-s", stack, "--yes")
	assert.NotContains(t, c.must("stack", "export", "-s", stack), lke, "released from the state")

	assertAllHandled(t, api.Requests())
	assert.Empty(t, writes(api.Requests()), "requests that changed something at Linode")
	_, ok := api.Cluster(clusterID)
	assert.True(t, ok, "cluster %d is still there", clusterID)
}

// cloudStack makes a cloud-mode stack of environment env, on a control plane of its own behind a Linode API
// stand-in of its own.
func cloudStack(t *testing.T, env string) (c *cli, api *linodeAPI, cp *controlPlane, stack string) {
	t.Helper()
	cp = startControlPlane(t, "lke-platform-cloud-"+env)
	api = startLinodeAPI(t, cp.kubeconfig)
	c = newCLI(t, "")
	c.vars = append(c.vars, api.env...)
	stack = "cloud-" + env
	c.programStack(stack, cloudConfig(env))
	return c, api, cp, stack
}

func cloudModeCreates(t *testing.T) {
	const env = "staging"
	c, api, cp, stack := cloudStack(t, env)

	out := c.must("preview", "-s", stack, "--policy-pack", policyPack)
	assert.NotContains(t, out, "[mandatory]")
	assert.Contains(t, out, "linode:index:LkeCluster")
	// The preview says what the stack costs (3 × g6-standard-8 at $192, cost/prices.json), as an advisory...
	assert.Contains(t, out, "costs $576/month at list price")
	// ...and a budget below it fails the preview, naming the key and the excess.
	c.must("config", "set", "-s", stack, "monthlyBudgetUsd", "500")
	over, err := c.run(nil, "preview", "-s", stack, "--policy-pack", policyPack)
	require.Error(t, err, "a preview over the budget fails:\n%s", over)
	assert.Contains(t, over, "over its budget of $500/month (lke-platform:monthlyBudgetUsd) by $76")
	c.must("config", "rm", "-s", stack, "monthlyBudgetUsd")
	assert.Empty(t, writes(api.Requests()), "a preview changes nothing at Linode")
	assert.Empty(t, api.Clusters())

	n := len(api.Requests())
	c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	assertAllHandled(t, api.Requests())
	require.ElementsMatch(t, []string{"POST /v4/lke/clusters", "POST /v4/domains"}, writes(api.Since(n)),
		"the update creates the cluster and the environment's zone, nothing else")
	assert.Equal(t, []string{env + "." + platformtest.Domain}, api.Domains(), "the environment's own zone, which external-dns writes to")

	// What LKE was asked for, and what it holds now.
	var sent linodego.LKEClusterCreateOptions
	for _, r := range api.Since(n) {
		if r.Write() && r.Path == "/v4/lke/clusters" {
			require.NoError(t, json.Unmarshal([]byte(r.Body), &sent))
		}
	}
	tags := cluster.Tags(env, nil)
	assert.Equal(t, "platform-"+env, sent.Label)
	assert.Equal(t, defaultRegion, sent.Region)
	assert.Equal(t, defaultK8sVersion, sent.K8sVersion)
	assert.ElementsMatch(t, tags, sent.Tags)
	require.NotNil(t, sent.ControlPlane)
	require.NotNil(t, sent.ControlPlane.ACL)
	require.NotNil(t, sent.ControlPlane.ACL.Enabled)
	assert.True(t, *sent.ControlPlane.ACL.Enabled, "the API server refuses every address not listed")
	require.NotNil(t, sent.ControlPlane.ACL.Addresses)
	assert.ElementsMatch(t, defaultACL, *sent.ControlPlane.ACL.Addresses.IPv4)
	assert.ElementsMatch(t, defaultACLv6, *sent.ControlPlane.ACL.Addresses.IPv6)
	require.Len(t, sent.NodePools, 1)
	pool := sent.NodePools[0]
	assert.Equal(t, "g6-standard-8", pool.Type)
	assert.Equal(t, 3, pool.Count)
	assert.Equal(t, cluster.PoolTags(env), pool.Tags, "the baseline pool carries the environment's tag")
	assert.Equal(t, linodego.LKENodePoolLabels{cluster.BaselinePoolLabel: "baseline"}, pool.Labels)
	require.NotNil(t, pool.Autoscaler)
	assert.Equal(t, linodego.LKENodePoolAutoscaler{Enabled: true, Min: 3, Max: 10}, *pool.Autoscaler)

	ids := api.Clusters()
	require.Len(t, ids, 1)
	outputs := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(c.stdout("stack", "output", "-s", stack, "--json")), &outputs))
	assert.Equal(t, "create", outputs["clusterMode"])
	assert.EqualValues(t, ids[0], outputs["clusterId"])
	assert.NotContains(t, outputs, "kubeconfig", "the cluster's admin kubeconfig is no output, not even a secret one")
	price, _ := outputs["monthlyListPrice"].(map[string]any)
	assert.EqualValues(t, 576, price["monthly"], "the stack's monthly list price: %v", outputs["monthlyListPrice"])
	assert.EqualValues(t, 1920, price["atMaximum"], "10 nodes at the autoscaler's maximum")
	shown := c.stdout("stack", "output", "-s", stack, "--json", "--show-secrets")
	assert.NotContains(t, shown, "client-key-data", "no output holds a credential")
	assert.NotContains(t, shown, "token:", "no output holds a credential")

	// The platform reached the API server behind the kubeconfig LKE handed out.
	checkNamespace(t, cp.kubeconfig, env, env+"-apps")

	n = len(api.Requests())
	c.must("preview", "-s", stack, "--diff", "--expect-no-changes", "--policy-pack", policyPack)
	assert.Empty(t, writes(api.Since(n)))
}

func cloudModeGPUPool(t *testing.T) {
	const env = "system"
	c, api, _, stack := cloudStack(t, env)
	// As Pulumi.system.yaml has it (the test's stacks are its own, not the repository's files).
	for k, v := range map[string]string{"enabled": "true", "type": "g1-gpu-rtx6000-1", "count": "2"} {
		c.must("config", "set", "-s", stack, "--path", "gpuPool."+k, v)
	}

	c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	ids := api.Clusters()
	require.Len(t, ids, 1)
	id := ids[0]
	created, _ := api.Cluster(id)
	require.Len(t, created.Pools, 2, "the baseline pool and the GPU pool")
	gpu := created.Pools[1]
	assert.Equal(t, "g1-gpu-rtx6000-1", gpu.Type)
	assert.Equal(t, 2, gpu.Count)
	assert.Contains(t, gpu.Tags, config.ExternalPoolTag)
	assert.Equal(t, linodego.LKENodePoolLabels(gpupool.Labels()), gpu.Labels)

	n := len(api.Requests())
	c.must("refresh", "-s", stack, "--yes")
	assert.Empty(t, writes(api.Since(n)), "a refresh only reads")
	c.must("preview", "-s", stack, "--diff", "--expect-no-changes", "--policy-pack", policyPack)
	// And the update the drift runbook runs after a refresh leaves the pools alone.
	c.must("up", "-s", stack, "--yes", "--skip-preview", "--expect-no-changes", "--policy-pack", policyPack)
	assertAllHandled(t, api.Requests())
	assert.Empty(t, writes(api.Since(n)), "nothing changed at Linode after the refresh")
	after, _ := api.Cluster(id)
	assert.Equal(t, created.Pools, after.Pools, "both pools, as created")
	for _, w := range writes(api.Requests()) {
		assert.False(t, strings.HasPrefix(w, "DELETE"), "%s", w)
	}
}
