package platform

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/platform/platformtest"
)

const (
	namespaceComponent = "platform:namespace:Namespace"
	applicationSet     = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
	application        = "kubernetes:argoproj.io/v1alpha1:Application"
	sealedSecret       = "kubernetes:bitnami.com/v1alpha1:SealedSecret"
	deployment         = "kubernetes:apps/v1:Deployment"
	lkeCluster         = "linode:index/lkeCluster:LkeCluster"
	lkeNodePool        = "linode:index/lkeNodePool:LkeNodePool"
	k8sProvider        = "pulumi:providers:kubernetes"
)

func run(t *testing.T, stack string, overrides map[string]string) *mocks.Recorder {
	t.Helper()
	rec, err := platformtest.Run(t, stack, platformtest.Config(t, "..", stack, overrides), Program)
	require.NoError(t, err)
	return rec
}

func TestEveryStackComposesThePlatform(t *testing.T) {
	for _, stack := range config.Environments {
		t.Run(stack, func(t *testing.T) {
			rec := run(t, stack, nil)

			counts := map[string]int{}
			for _, r := range rec.Resources() {
				counts[r.Type]++
				// Access packages are never protected: their grants go when they expire (policy/protection.go).
				access := r.Type == "platform:access:Packages" || strings.Contains(r.Parent, "platform:access:Packages")
				// An adopted cluster is protected and retained on delete on every stack (development's 531921 too).
				adopted := r.Type == lkeCluster && r.ImportID != ""
				assert.Equal(t, (stack == config.Production && !access) || adopted, r.Protect, "%s %s: protect only on production and on adopted clusters", r.Type, r.Name)
				if strings.HasPrefix(r.Type, "linode:") { // (the shared CRDs are retained too, decision 20)
					assert.Equal(t, adopted, r.RetainOnDelete, "%s %s: retained on delete only if adopted", r.Type, r.Name)
				}
			}
			for token, n := range map[string]int{
				"platform:cluster:Cluster":                           1,
				"linode:index/lkeCluster:LkeCluster":                 1,
				"pulumi:providers:kubernetes":                        1,
				namespaceComponent:                                   6, // argocd, monitoring, ingress-nginx, cert-manager, external-dns, <env>-apps
				"platform:admission:Policies":                        1,
				applicationSet:                                       1,
				sealedSecret:                                         3, // the sample service's bundle, the Slack webhook, the DNS token
				"kubernetes:cert-manager.io/v1:ClusterIssuer":        1,
				"kubernetes:monitoring.coreos.com/v1:PrometheusRule": 1, // the platform's rules; the sample's are its chart's
				"kubernetes:argoproj.io/v1alpha1:AppProject":         1,
				application:                                          1, // the sample service's, rendered by Argo CD from charts/sample-service
				// Nothing of the sample service's own is Pulumi's: Argo CD applies its chart.
				deployment: 3, // Argo CD's own (repo-server, redis, applicationset-controller)
				"kubernetes:networking.k8s.io/v1:Ingress":                     0,
				"kubernetes:autoscaling/v2:HorizontalPodAutoscaler":           0,
				"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": 20,
			} {
				assert.Equal(t, n, counts[token], "%s", token)
			}
			assert.Equal(t, stack == config.System, counts["linode:index/lkeNodePool:LkeNodePool"] == 1, "GPU pool on system only")

			set := rec.One(t, applicationSet, "platform-"+stack+"-infrastructure")
			assert.Equal(t, "platform-"+stack+"-infrastructure", set.Inputs["metadata"].ObjectValue()["name"].StringValue())
			sample := rec.One(t, application, "platform-"+stack+"-sample-service")
			assert.Equal(t, "argocd", sample.Inputs["metadata"].ObjectValue()["namespace"].StringValue())
			assert.Contains(t, sample.Provider, "pulumi:providers:kubernetes::"+stack, "the Application deploys through the cluster's provider")
			dest := sample.Inputs["spec"].ObjectValue()["destination"].ObjectValue()
			assert.Equal(t, stack+"-apps", dest["namespace"].StringValue())

			secretstest.AssertNoPlaintext(t, rec, platformtest.Plaintexts...)
		})
	}
}

// Tempo is optional per environment: development goes without.
func TestTracingPerStack(t *testing.T) {
	for _, stack := range config.Environments {
		elements := applicationSetElements(t, run(t, stack, nil), stack)
		assert.Equal(t, stack != config.Development, slicesContains(elements, "tempo"), "%s: tempo", stack)
		for _, want := range []string{"kube-prometheus-stack", "loki", "ingress-nginx", "cert-manager", "external-dns", "sealed-secrets"} {
			assert.Contains(t, elements, want, "%s", stack)
		}
	}
}

func applicationSetElements(t *testing.T, rec *mocks.Recorder, stack string) []string {
	t.Helper()
	set := rec.One(t, applicationSet, "platform-"+stack+"-infrastructure").Inputs.Mappable()
	var names []string
	for _, g := range set["spec"].(map[string]any)["generators"].([]any) {
		for _, e := range g.(map[string]any)["list"].(map[string]any)["elements"].([]any) {
			names = append(names, e.(map[string]any)["name"].(string))
		}
	}
	return names
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// kubeconfigAt writes a kubeconfig whose API server is https://addr.
func kubeconfigAt(t *testing.T, addr string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "https://`+addr+`"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: t}}]
`), 0o600))
	return path
}

// listening is the address of a loopback listener that lives as long as the test: an API server as far as the
// program's attach-mode reachability check can tell (it only connects).
func listening(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

func TestAttachModeRegistersNoLinodeResource(t *testing.T) {
	kubeconfig := kubeconfigAt(t, listening(t))
	rec := run(t, config.Development, map[string]string{"clusterMode": "attach", "importClusterId": "", "kubeconfigPath": kubeconfig})
	for _, r := range rec.Resources() {
		assert.NotContains(t, r.Type, "linode:", "attach mode must not touch the Linode API")
	}
	assert.Len(t, rec.OfType(namespaceComponent), 6)
}

func TestRenderModeTouchesNoCluster(t *testing.T) {
	// As after `scripts/local up`, which prints `export KUBECONFIG=…` as the way to look around: the render stack
	// must not pick it up (the provider refuses a kubeconfig beside renderYamlToDirectory).
	kubeconfig := kubeconfigAt(t, listening(t))
	t.Setenv("KUBECONFIG", kubeconfig)
	rec := run(t, config.Staging, map[string]string{"clusterMode": "render"})
	for _, r := range rec.Resources() {
		assert.NotContains(t, r.Type, "linode:")
		assert.NotContains(t, fmt.Sprint(r.Inputs), kubeconfig, "%s %s", r.Type, r.Name)
	}
	p := rec.One(t, k8sProvider, config.Staging)
	assert.True(t, strings.HasSuffix(p.Inputs["renderYamlToDirectory"].StringValue(), filepath.Join("generated", "staging")))
	assert.Equal(t, "", p.Inputs["kubeconfig"].StringValue())
}

// The GPU pool is its own LkeNodePool: the cluster lists the external pool tag, the GPU pool carries it and the
// baseline pool does not, so after a refresh the cluster's pools are the baseline pool alone and no update ever
// deletes the GPU pool.
func TestGPUPoolIsExternalToTheCluster(t *testing.T) {
	rec := run(t, config.System, nil)
	cl := rec.One(t, lkeCluster, config.System).Inputs.Mappable()
	assert.Equal(t, []any{config.ExternalPoolTag}, cl["externalPoolTags"])
	pools := cl["pools"].([]any)
	require.Len(t, pools, 1, "the cluster declares the baseline pool only")
	assert.Equal(t, []any{"environment:system"}, pools[0].(map[string]any)["tags"], "the baseline pool carries the environment's tag (cluster.PoolTags)")
	assert.NotContains(t, pools[0].(map[string]any)["tags"], config.ExternalPoolTag)

	gpu := rec.One(t, lkeNodePool, config.System+"-gpu").Inputs.Mappable()
	assert.Contains(t, gpu["tags"], config.ExternalPoolTag)
	for _, tag := range cl["tags"].([]any) {
		assert.Contains(t, gpu["tags"], tag, "the GPU pool carries the environment's tags too")
	}
}

// development and production adopt the inventory's clusters; staging and system create theirs. Only the adopted
// ones are retained on delete (and protected whatever the stack): destroying development never deletes 531921.
func TestAdoptedClustersAreNeverDeleted(t *testing.T) {
	for stack, id := range map[string]string{config.Development: "531921", config.Production: "531922", config.Staging: "", config.System: ""} {
		lke := run(t, stack, nil).One(t, lkeCluster, stack)
		assert.Equal(t, id, lke.ImportID, stack)
		assert.Equal(t, id != "", lke.RetainOnDelete, "%s: retained on delete", stack)
		assert.Equal(t, id != "" || stack == config.Production, lke.Protect, "%s: protected", stack)
	}
}

// The control plane ACL comes from controlPlaneAcl: by default CI's and the operators' ranges, on every stack
// that creates or adopts its cluster.
func TestControlPlaneACLFromConfig(t *testing.T) {
	lke := run(t, config.Staging, map[string]string{"controlPlaneAcl": `["203.0.113.9","2001:db8:ac1::/48","192.0.2.0/24"]`}).One(t, lkeCluster, config.Staging)
	assert.Equal(t, map[string]any{"enabled": true, "addresses": []any{map[string]any{
		"ipv4s": []any{"203.0.113.9", "192.0.2.0/24"},
		"ipv6s": []any{"2001:db8:ac1::/48"},
	}}}, lke.Inputs.Mappable()["controlPlane"].(map[string]any)["acl"])

	values, err := config.StackValues("..", config.Production)
	require.NoError(t, err)
	var defaults []any
	require.NoError(t, json.Unmarshal([]byte(values["controlPlaneAcl"]), &defaults))
	acl := run(t, config.Production, nil).One(t, lkeCluster, config.Production).Inputs.Mappable()["controlPlane"].(map[string]any)["acl"].(map[string]any)
	assert.Equal(t, true, acl["enabled"])
	addresses := acl["addresses"].([]any)[0].(map[string]any)
	assert.ElementsMatch(t, defaults, append(addresses["ipv4s"].([]any), addresses["ipv6s"].([]any)...), "production gets Pulumi.yaml's default")
}

// A production API server open to every address is refused before anything is registered.
func TestProductionACLOpenToEveryAddressRegistersNothing(t *testing.T) {
	for _, open := range []string{"0.0.0.0/0", "::/0"} {
		rec, err := platformtest.Run(t, "production", platformtest.Config(t, "..", config.Production, map[string]string{
			"controlPlaneAcl": `["203.0.113.0/28","` + open + `"]`,
		}), Program)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `lke-platform:controlPlaneAcl[1] = "`+open+`" is not allowed; want only the ranges that must reach the production API server`)
		assert.Empty(t, rec.Resources())
	}
}

// TestUnreachableClusterRegistersNothing: an attach-mode kubeconfig whose server does not answer fails the
// program before any resource is registered, naming the key, the server and what to do.
func TestUnreachableClusterRegistersNothing(t *testing.T) {
	// A loopback port nothing listens on: a listener's, closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	kubeconfig := kubeconfigAt(t, closed)
	rec, err := platformtest.Run(t, "development", platformtest.Config(t, "..", config.Development, map[string]string{
		"clusterMode": "attach", "importClusterId": "", "kubeconfigPath": kubeconfig,
	}), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:kubeconfigPath = "`+kubeconfig+`"`)
	assert.Contains(t, err.Error(), "https://"+closed)
	assert.Contains(t, err.Error(), "scripts/cluster up")
	assert.Empty(t, rec.Resources(), "the check happens before any resource is registered")
}

func TestBadConfigRegistersNothing(t *testing.T) {
	rec, err := platformtest.Run(t, "staging", platformtest.Config(t, "..", config.Staging, map[string]string{
		"baselinePool": `{"type":"g6-standard-8","count":3,"min":8,"max":4}`,
	}), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:baselinePool.min = "8" is not allowed; want at most baselinePool.max (4)`)
	assert.Empty(t, rec.Resources(), "validation happens before any resource is registered")
}

func TestBadCertificateRegistersNothing(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "cert.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o644))
	rec, err := platformtest.Run(t, "staging", platformtest.Config(t, "..", config.Staging, map[string]string{
		"sealedSecretsCertificate": notPEM,
	}), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lke-platform:sealedSecretsCertificate ("+notPEM+")")
	assert.Empty(t, rec.Resources())
}

func TestUnknownKeyIsRefused(t *testing.T) {
	t.Setenv(pulumi.EnvConfig, `{"lke-platform:environment":"staging","lke-platform:baselinPool":"{}"}`)
	rec, err := platformtest.Run(t, "staging", platformtest.Config(t, "..", config.Staging, nil), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown configuration keys lke-platform:baselinPool")
	assert.Empty(t, rec.Resources())
}

// The sample service's Application waits for what Argo CD needs to sync it: Argo CD's CRDs, the environment's
// AppProject (Argo CD refuses an Application of a project it does not know) and the namespace with its quota.
func TestSampleApplicationWaitsForItsProjectAndNamespace(t *testing.T) {
	rec := run(t, config.Development, nil)
	component := rec.One(t, "platform:sampleservice:SampleService", "development-sample")
	for _, want := range []string{
		"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::applications.argoproj.io",
		"kubernetes:argoproj.io/v1alpha1:AppProject::platform-development",
		"kubernetes:core/v1:ResourceQuota::development-apps-quota",
	} {
		assert.True(t, slices.ContainsFunc(component.Dependencies, func(urn string) bool { return strings.HasSuffix(urn, want) }),
			"the sample service does not wait for %s: %v", want, component.Dependencies)
	}
}
