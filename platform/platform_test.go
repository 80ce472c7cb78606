package platform

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/access"
	"github.com/platform-eng/lke-platform/components/cluster"
	"github.com/platform-eng/lke-platform/components/observability"
	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/internal/vendorcharts"
	"github.com/platform-eng/lke-platform/platform/platformtest"
)

const (
	namespaceComponent = "platform:namespace:Namespace"
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
				// Access packages are never protected: their grants go when they expire (policy/pack/protection.go).
				access := r.Type == "platform:access:Packages" || strings.Contains(r.Parent, "platform:access:Packages")
				// An adopted cluster is protected and retained on delete on every stack (development's 531921 too).
				adopted := r.Type == lkeCluster && r.ImportID != ""
				assert.Equal(t, (stack == config.Production && !access) || adopted, r.Protect, "%s %s: protect only on production and on adopted clusters", r.Type, r.Name)
				if strings.HasPrefix(r.Type, "linode:") { // (the shared CRDs are retained too, decision 20)
					assert.Equal(t, adopted, r.RetainOnDelete, "%s %s: retained on delete only if adopted", r.Type, r.Name)
				}
			}
			for token, n := range map[string]int{
				"platform:cluster:Cluster":                   1,
				"linode:index/lkeCluster:LkeCluster":         1,
				"linode:index/domain:Domain":                 1, // the environment's own zone (components/dns)
				"pulumi:providers:kubernetes":                1,
				namespaceComponent:                           6, // argocd, monitoring, ingress-nginx, cert-manager, external-dns, <env>-apps
				"platform:admission:Policies":                1,
				"kubernetes:argoproj.io/v1alpha1:AppProject": 1,
				application: 1, // the root, platform-<env>-infrastructure
				// What Argo CD applies is not Pulumi's: the add-ons' CRDs, the issuer, the sealed secrets, the
				// rules, the sample service's chart (the root Application holds them, TestRootHoldsTheEnvironment).
				"kubernetes:argoproj.io/v1alpha1:ApplicationSet": 0,
				sealedSecret: 0,
				"kubernetes:cert-manager.io/v1:ClusterIssuer":                 0,
				"kubernetes:monitoring.coreos.com/v1:PrometheusRule":          0,
				"kubernetes:core/v1:ConfigMap":                                7, // Argo CD's own settings only (notifications' too)
				deployment:                                                    3, // Argo CD's own (repo-server, redis, notifications)
				"kubernetes:networking.k8s.io/v1:Ingress":                     0,
				"kubernetes:autoscaling/v2:HorizontalPodAutoscaler":           0,
				"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": 2, // Argo CD's Application and AppProject
			} {
				assert.Equal(t, n, counts[token], "%s", token)
			}
			assert.Equal(t, stack == config.System, counts["linode:index/lkeNodePool:LkeNodePool"] == 1, "GPU pool on system only")

			root := rec.One(t, application, "platform-"+stack+"-infrastructure")
			assert.Equal(t, "argocd", root.Inputs["metadata"].ObjectValue()["namespace"].StringValue())
			assert.Contains(t, root.Provider, "pulumi:providers:kubernetes::"+stack, "the root deploys through the cluster's provider")
			sample := children(t, rec, stack)["platform-"+stack+"-sample-service"]
			require.NotNil(t, sample, "the root holds the sample service's Application")
			assert.Equal(t, "argocd", sample["metadata"].(map[string]any)["namespace"])
			assert.Equal(t, stack+"-apps", sample["spec"].(map[string]any)["destination"].(map[string]any)["namespace"])

			secretstest.AssertNoPlaintext(t, rec, platformtest.Plaintexts...)
		})
	}
}

// children are the Applications the stack's root Application holds, by name.
func children(t *testing.T, rec *mocks.Recorder, stack string) map[string]map[string]any {
	t.Helper()
	root := rec.One(t, application, "platform-"+stack+"-infrastructure").Inputs.Mappable()
	values := root["spec"].(map[string]any)["source"].(map[string]any)["helm"].(map[string]any)["valuesObject"].(map[string]any)
	out := map[string]map[string]any{}
	for _, o := range values["objects"].([]any) {
		app := o.(map[string]any)
		out[app["metadata"].(map[string]any)["name"].(string)] = app
	}
	return out
}

// The root Application holds every Application of the environment: the add-ons' CRDs, one per chart, the
// folders of objects the components build, the sample service.
func TestRootHoldsTheEnvironment(t *testing.T) {
	for _, stack := range config.Environments {
		apps := children(t, run(t, stack, nil), stack)
		for _, part := range []string{"crds", "network", "secrets", "observability", "sample-service"} {
			assert.Contains(t, apps, "platform-"+stack+"-"+part, stack)
		}
		objects := func(part string) []string {
			var kinds []string
			source := apps["platform-"+stack+"-"+part]["spec"].(map[string]any)["source"].(map[string]any)
			for _, o := range source["helm"].(map[string]any)["valuesObject"].(map[string]any)["objects"].([]any) {
				kinds = append(kinds, o.(map[string]any)["kind"].(string))
			}
			return kinds
		}
		assert.Equal(t, []string{"ClusterIssuer", "SealedSecret"}, objects("network"), stack)
		assert.Equal(t, []string{"SealedSecret"}, objects("secrets"), stack)
		assert.Equal(t, []string{"SealedSecret", "SealedSecret", "ConfigMap", "PrometheusRule"}, objects("observability"), stack)
	}
}

// The charts this repository holds (internal/vendorcharts) come from it; the others from their Helm repositories.
func TestVendoredChartsComeFromThisRepository(t *testing.T) {
	apps := children(t, run(t, config.Staging, nil), config.Staging)
	for _, pin := range vendorcharts.All {
		source := apps["platform-staging-"+pin.Name]["spec"].(map[string]any)["source"].(map[string]any)
		if pin.Vendored() {
			assert.Equal(t, pin.Path(), source["path"], pin.Name)
			assert.NotContains(t, source, "chart", pin.Name)
		} else {
			assert.Equal(t, pin.Name, source["chart"], pin.Name)
			assert.Equal(t, pin.Version, source["targetRevision"], pin.Name)
		}
	}
}

// Tempo is optional per environment: development goes without.
func TestTracingPerStack(t *testing.T) {
	for _, stack := range config.Environments {
		elements := applicationNames(t, run(t, stack, nil), stack)
		assert.Equal(t, stack != config.Development, slicesContains(elements, "tempo"), "%s: tempo", stack)
		for _, want := range []string{"kube-prometheus-stack", "loki", "ingress-nginx", "cert-manager", "external-dns", "sealed-secrets"} {
			assert.Contains(t, elements, want, "%s", stack)
		}
	}
}

// applicationNames are the parts of the root's Applications' names: "tempo" for platform-<env>-tempo.
func applicationNames(t *testing.T, rec *mocks.Recorder, stack string) []string {
	t.Helper()
	var names []string
	for name := range children(t, rec, stack) {
		names = append(names, strings.TrimPrefix(name, "platform-"+stack+"-"))
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
	cfg := platformtest.Config(t, "..", config.Staging, map[string]string{"clusterMode": "render"})
	project := t.TempDir()
	t.Chdir(project) // render mode writes under the program's folder: this test's, not the repository's
	rec, err := platformtest.Run(t, config.Staging, cfg, Program)
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		assert.NotContains(t, r.Type, "linode:")
		assert.NotContains(t, fmt.Sprint(r.Inputs), kubeconfig, "%s %s", r.Type, r.Name)
	}
	p := rec.One(t, k8sProvider, config.Staging)
	assert.True(t, strings.HasSuffix(p.Inputs["renderYamlToDirectory"].StringValue(), filepath.Join("generated", "staging", "cluster")))
	assert.Equal(t, "", p.Inputs["kubeconfig"].StringValue())

	// What Argo CD applies is written beside it (the mocks run an update): the Applications and the folders.
	tree := filepath.Join(project, "generated", "staging")
	for _, file := range []string{
		"argo/platform-staging-infrastructure.yaml", "argo/platform-staging-crds.yaml", "argo/platform-staging-sample-service.yaml",
		"network/clusterissuer-letsencrypt-staging.yaml", "network/sealedsecret-external-dns-external-dns-linode.yaml",
		"secrets/sealedsecret-staging-apps-sample-service.yaml", "observability/prometheusrule-monitoring-platform-staging-rules.yaml",
	} {
		assert.FileExists(t, filepath.Join(tree, filepath.FromSlash(file)))
	}
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

// The root Application waits for what Argo CD needs to sync the environment: Argo CD itself with its CRDs, the
// environment's AppProject (Argo CD refuses an Application of a project it does not know), every namespace
// with its quota (Argo CD creates none) and every admission policy's binding (the rules that judge what Argo CD
// applies are in force first).
func TestRootApplicationWaitsForArgoCDItsProjectTheNamespacesAndTheAdmissionPolicies(t *testing.T) {
	rec := run(t, config.Development, nil)
	depends := func(r mocks.Resource, want string) {
		t.Helper()
		assert.True(t, slices.ContainsFunc(r.Dependencies, func(urn string) bool { return strings.HasSuffix(urn, want) }),
			"%s does not wait for %s: %v", r.Name, want, r.Dependencies)
	}
	component := rec.One(t, "platform:gitops:Infrastructure", "development")
	for _, want := range []string{
		"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::applications.argoproj.io",
		"kubernetes:apps/v1:Deployment::argocd-repo-server",
		"kubernetes:core/v1:ResourceQuota::development-apps-quota",
		"kubernetes:core/v1:Namespace::monitoring",
	} {
		depends(component, want)
	}
	// The admission policies judge what Argo CD applies: every one is in force before the root Application.
	bindings := rec.OfType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")
	require.NotEmpty(t, bindings)
	for _, b := range bindings {
		depends(component, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding::"+b.Name)
	}
	depends(rec.One(t, application, "platform-development-infrastructure"), "kubernetes:argoproj.io/v1alpha1:AppProject::platform-development")
}

// The components take their own types; the platform maps the validated configuration onto them, field by field,
// and the values both sides must agree on are the same.
func TestConfigMapsOntoTheComponentsArgs(t *testing.T) {
	for _, m := range config.Modes {
		assert.Contains(t, []cluster.Mode{cluster.Create, cluster.Attach, cluster.Render}, cluster.Mode(m), "mode %s", m)
	}
	assert.Equal(t, cluster.Create, clusterTarget(config.Cluster{Mode: config.Create}).Mode)
	assert.Equal(t, cluster.Attach, clusterTarget(config.Cluster{Mode: config.Attach}).Mode)
	assert.Equal(t, cluster.Render, clusterTarget(config.Cluster{Mode: config.Render}).Mode)
	assert.Equal(t, cluster.Target{
		Mode: cluster.Create, Label: "platform-production", KubernetesVersion: "1.33", HighAvailability: true,
		BaselinePool: cluster.Pool{Type: "g6-standard-8", Count: 6, Min: 6, Max: 10}, ImportID: "531922",
		KubeconfigPath: "/tmp/kubeconfig", Kubeconfig: "apiVersion: v1", KubeContext: "kwok-local",
		RenderDirectory: "/project/generated/production",
		ControlPlaneACL: cluster.ACL{IPv4: []string{"203.0.113.0/28"}, IPv6: []string{"2001:db8:ac1::/48"}},
	}, clusterTarget(config.Cluster{
		Mode: config.Create, Label: "platform-production", KubernetesVersion: "1.33", HighAvailability: true,
		BaselinePool: config.NodePool{Type: "g6-standard-8", Count: 6, Min: 6, Max: 10}, ImportID: "531922",
		KubeconfigPath: "/tmp/kubeconfig", Kubeconfig: "apiVersion: v1", KubeContext: "kwok-local",
		RenderDirectory: "/project/generated/production",
		ControlPlaneACL: config.ACL{IPv4: []string{"203.0.113.0/28"}, IPv6: []string{"2001:db8:ac1::/48"}},
	}))

	expires := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	assert.Equal(t, []access.Package{
		{Name: "a", Subject: "a@example.com", Role: "view", Namespaces: []string{"x-apps"}, ExpiresAt: expires, Request: "r1"},
		{Name: "b", Subject: "b@example.com", Role: "edit", Namespaces: []string{"x-apps", "x-batch"}, ExpiresAt: expires, Request: "r2"},
	}, AccessPackages([]config.AccessPackage{
		{Name: "a", Subject: "a@example.com", Role: "view", Namespaces: []string{"x-apps"}, ExpiresAt: expires, Request: "r1"},
		{Name: "b", Subject: "b@example.com", Role: "edit", Namespaces: []string{"x-apps", "x-batch"}, ExpiresAt: expires, Request: "r2"},
	}))
	assert.Nil(t, AccessPackages(nil))
	assert.Equal(t, config.AccessNamespaceName, access.NamespaceName, "the namespace config keeps free is the one the component creates")
	assert.Equal(t, "lke-platform:accessPackages", AccessPackagesSource, "docs/access-control.md quotes the warning")
}

// Platform namespaces open egress by port, or to named namespaces' pods: no NetworkPolicy lets a pod reach every
// address on every port (what "allow-egress-controllers" did, with ipBlock 0.0.0.0/0 and ::/0).
func TestPlatformEgressIsNarrowedToWhatEachAddOnNeeds(t *testing.T) {
	rec := run(t, config.Staging, nil)
	egress := map[string][]any{} // "<namespace>/<policy>" -> egress rules
	for _, np := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		in := np.Inputs.Mappable()
		meta, spec := in["metadata"].(map[string]any), in["spec"].(map[string]any)
		if rules, ok := spec["egress"].([]any); ok {
			egress[fmt.Sprint(meta["namespace"], "/", meta["name"])] = rules
		}
	}
	for name, rules := range egress {
		for i, r := range rules {
			r := r.(map[string]any)
			if ports, ok := r["ports"].([]any); ok && len(ports) > 0 {
				continue
			}
			peers, _ := r["to"].([]any)
			require.NotEmpty(t, peers, "%s egress[%d] opens every address on every port", name, i)
			for _, p := range peers {
				assert.NotContains(t, p.(map[string]any), "ipBlock", "%s egress[%d] opens an address block on every port", name, i)
			}
		}
	}
	tcp := func(ports ...int) []any {
		out := make([]any, len(ports))
		for i, p := range ports {
			out[i] = map[string]any{"protocol": "TCP", "port": float64(p)}
		}
		return out
	}
	for name, ports := range map[string][]any{
		// The node exporter listens on the environment's own host port (environments may share nodes).
		"monitoring/allow-egress-ports":    tcp(443, 6443, 10250, observability.NodeExporterPort(config.Staging)),
		"ingress-nginx/allow-egress-ports": tcp(443, 6443),
		"cert-manager/allow-egress-ports":  tcp(443, 6443, 80),
		"external-dns/allow-egress-ports":  tcp(443, 6443),
	} {
		require.Contains(t, egress, name)
		assert.Equal(t, []any{map[string]any{"ports": ports}}, egress[name], name)
	}
	// The ingress controller's backends are the workload namespaces, by name: not the platform's, whose upstream
	// policies may open a port to every namespace (Argo CD's metrics).
	assert.Equal(t, []any{map[string]any{"to": []any{map[string]any{"namespaceSelector": map[string]any{
		"matchExpressions": []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": "In", "values": []any{"staging-apps"}}},
	}}}}}, egress["ingress-nginx/allow-egress-to-backends"])
	assert.NotContains(t, egress, "argocd/allow-egress-ports", "Argo CD's egress is the bootstrap's own")
	assert.Contains(t, egress, "argocd/argocd-allow-egress")
	// The one path from Argo CD into the monitoring namespace: the notifications controller to Loki's gateway.
	gateway := map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "gateway"}}
	assert.Equal(t, []any{map[string]any{
		"to": []any{map[string]any{
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}},
			"podSelector":       gateway,
		}},
		"ports": tcp(8080),
	}}, egress["argocd/allow-egress-events-to-loki"])
}

// Only the workload namespaces admit the ingress controller: the platform's namespaces serve nothing through it
// (Grafana is not exposed), so the monitoring namespace is closed to it.
func TestOnlyWorkloadNamespacesAdmitTheIngressController(t *testing.T) {
	rec := run(t, config.Staging, nil)
	var admitting []string
	for _, np := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		meta := np.Inputs.Mappable()["metadata"].(map[string]any)
		if meta["name"] == "allow-from-ingress-controller" {
			admitting = append(admitting, meta["namespace"].(string))
		}
	}
	assert.Equal(t, []string{"staging-apps"}, admitting)
}

// In create mode the environment gets its own zone, <env>.<domain>, and external-dns writes to it only; attach
// and render modes make no Linode call.
func TestTheEnvironmentsOwnZone(t *testing.T) {
	zone := run(t, config.Staging, nil).One(t, "linode:index/domain:Domain", "staging-dns").Inputs.Mappable()
	assert.Equal(t, "staging."+platformtest.Domain, zone["domain"])
	assert.Equal(t, "master", zone["type"])
	assert.Equal(t, platformtest.ACMEEmail, zone["soaEmail"])
	assert.Contains(t, zone["tags"], "environment:staging")

	render := platformtest.Config(t, "..", config.Development, map[string]string{"clusterMode": "render", "importClusterId": ""})
	t.Chdir(t.TempDir()) // render mode writes under the program's folder: this test's, not the repository's
	rec, err := platformtest.Run(t, config.Development, render, Program)
	require.NoError(t, err)
	assert.Empty(t, rec.OfType("linode:index/domain:Domain"), "render mode makes no Linode call")
}

// A deferred stack (staging and system as committed) is previewed on every pull request but never applied: an
// update in create or attach mode refuses before registering anything, naming the key and how to roll it out;
// its preview registers the whole environment, and render mode still writes its YAML.
func TestDeferredStacksArePreviewedNotApplied(t *testing.T) {
	for _, stack := range config.Environments {
		values, err := config.StackValues("..", stack)
		require.NoError(t, err)
		want := strconv.FormatBool(stack == config.Staging || stack == config.System)
		assert.Equal(t, want, values["deferred"], "Pulumi.%s.yaml: the spec defers staging and system", stack)
	}
	for _, stack := range []string{config.Staging, config.System} {
		t.Run(stack, func(t *testing.T) {
			deferred := map[string]string{"deferred": "true"}
			rec, err := platformtest.Run(t, stack, platformtest.Config(t, "..", stack, deferred), Program)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `stack "`+stack+`" is deferred (lke-platform:deferred = true)`)
			assert.Contains(t, err.Error(), "pulumi config set deferred false -s "+stack)
			assert.Empty(t, rec.Resources(), "nothing is registered")

			rec, err = platformtest.Preview(t, stack, platformtest.Config(t, "..", stack, deferred), Program)
			require.NoError(t, err)
			assert.NotEmpty(t, rec.OfType(lkeCluster), "the preview shows the whole environment")
		})
	}
	t.Run("render", func(t *testing.T) {
		cfg := platformtest.Config(t, "..", config.Staging, map[string]string{"deferred": "true", "clusterMode": "render"})
		t.Chdir(t.TempDir()) // render mode writes under the program's folder
		_, err := platformtest.Run(t, config.Staging, cfg, Program)
		require.NoError(t, err)
		assert.DirExists(t, filepath.Join("generated", config.Staging, "argo"))
	})
}

// The committed domain and acmeEmail are placeholders (RFC 2606 names): a preview of a create-mode stack warns
// about them, an update refuses them before registering anything, naming each key; attach and render modes
// keep them (the local control plane, the tests).
func TestAnUpdateRefusesThePlaceholders(t *testing.T) {
	values, err := config.StackValues("..", config.Development)
	require.NoError(t, err)
	placeholders := map[string]string{"domain": values["domain"], "acmeEmail": values["acmeEmail"]}
	assert.True(t, config.ReservedDomain(values["domain"]), "the committed domain %q is a placeholder", values["domain"])

	rec, err := platformtest.Run(t, config.Development, platformtest.Config(t, "..", config.Development, placeholders), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:domain = "`+values["domain"]+`" is not allowed; want a DNS zone of yours`)
	assert.Contains(t, err.Error(), `lke-platform:acmeEmail = "`+values["acmeEmail"]+`" is not allowed; want a mailbox of yours`)
	assert.Empty(t, rec.Resources(), "nothing is registered")

	rec, err = platformtest.Preview(t, config.Development, platformtest.Config(t, "..", config.Development, placeholders), Program)
	require.NoError(t, err, "a preview goes on")
	assert.NotEmpty(t, rec.OfType(lkeCluster))

	attach := maps.Clone(placeholders)
	attach["clusterMode"], attach["kubeconfigPath"], attach["importClusterId"] = "attach", kubeconfigAt(t, listening(t)), ""
	_, err = platformtest.Run(t, config.Development, platformtest.Config(t, "..", config.Development, attach), Program)
	require.NoError(t, err, "attach mode keeps the placeholders")

	for _, name := range []string{"example.com", "lke.example.org", "x.example", "cluster.test", "a.invalid", "localhost", "LKE.Example.NET."} {
		assert.True(t, config.ReservedDomain(name), name)
	}
	for _, name := range []string{"platform-eng.dev", "example.company.com", "notexample.com", "testing.io"} {
		assert.False(t, config.ReservedDomain(name), name)
	}
}
