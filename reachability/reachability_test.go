package reachability

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/config"
)

// The project directory, from this package's.
const project = ".."

// reports evaluates each environment's stack once per test binary.
var reports = struct {
	sync.Mutex
	byStack map[string]*Report
}{byStack: map[string]*Report{}}

func report(t *testing.T, stack string) *Report {
	t.Helper()
	reports.Lock()
	defer reports.Unlock()
	if r, ok := reports.byStack[stack]; ok {
		return r
	}
	r, err := Evaluate(project, stack)
	require.NoError(t, err)
	reports.byStack[stack] = r
	return r
}

// The check itself: in every environment, every cell of the matrix the policies give is the intended one.
func TestEveryEnvironmentReachesWhatItIntends(t *testing.T) {
	for _, env := range config.Environments {
		r := report(t, env)
		var diffs []string
		for _, d := range r.Differences {
			diffs = append(diffs, d.String())
		}
		assert.Empty(t, diffs, "%s: the NetworkPolicies differ from the intended matrix", env)
	}
}

// The matrix is computed from the objects: the program's policies and what Argo CD renders from this repository
// (the sample service's pods come from its chart, the add-ons' from the vendored charts, Argo CD's from the
// bootstrap). Every add-on chart is vendored, so no Application is left unrendered.
func TestTheMatrixIsComputedFromTheObjects(t *testing.T) {
	r := report(t, config.Staging)
	var workloads []string
	for _, w := range r.Objects.Workloads {
		workloads = append(workloads, w.Namespace+"/"+w.Name)
	}
	for _, want := range []string{"staging-apps/sample-service", "cert-manager/cert-manager-webhook",
		"kube-system/sealed-secrets-controller", "argocd/argocd-application-controller", "argocd/argocd-repo-server",
		"ingress-nginx/ingress-nginx-controller", "external-dns/external-dns", "monitoring/kube-prometheus-stack-operator",
		"monitoring/kube-prometheus-stack-grafana", "monitoring/loki", "monitoring/loki-gateway", "monitoring/promtail",
		"monitoring/tempo"} {
		assert.Contains(t, workloads, want)
	}
	var policies []string
	for _, np := range r.Objects.Policies {
		policies = append(policies, np.Namespace+"/"+np.Name)
	}
	for _, want := range []string{"staging-apps/default-deny-all", "argocd/argocd-allow-egress",
		"argocd/allow-within-namespace", "monitoring/allow-events-from-argocd"} {
		assert.Contains(t, policies, want)
	}
	assert.Empty(t, r.Objects.Unrendered, "Applications whose chart comes from a Helm repository")
	env, err := Stack(project, config.Staging)
	require.NoError(t, err)
	var stoodIn []string
	for _, p := range standIns(env) {
		stoodIn = append(stoodIn, p.Namespace+"/"+p.Name)
	}
	assert.Equal(t, []string{"monitoring/prometheus", "kube-system/coredns", "kube-system/konnectivity-agent"}, stoodIn,
		"only the pods the Prometheus operator creates and the cluster's own are stood in for")
	// The sample service's port comes from its chart, and is probed.
	assert.Contains(t, r.Actual.Ports, Port{8080, "TCP"})
	assert.Contains(t, r.Actual.Ports, Port{53, "UDP"})
	assert.Contains(t, r.Actual.Ports, Port{otherPort, "UDP"})
}

// The intent, read on the matrix: DNS to kube-dns only, workloads entered only from the ingress controller and
// Prometheus, nothing from another environment but the public entry and Argo CD's upstream exception.
func TestTheIntentReadsAsTheSpecSays(t *testing.T) {
	r := report(t, config.Development)
	m := r.Actual
	peer := func(name string) int {
		i := slices.IndexFunc(m.Peers, func(p Peer) bool { return p.Name == name })
		require.GreaterOrEqual(t, i, 0, "peer %s", name)
		return i
	}
	open := func(from, to string) []Port {
		var out []Port
		for _, p := range m.Ports {
			if m.Allowed(peer(from), peer(to), p) {
				out = append(out, p)
			}
		}
		return out
	}
	workload, other := "development-apps/sample-service", "staging-apps/sample-service"
	assert.Equal(t, []Port{{53, "TCP"}, {53, "UDP"}}, open(workload, "kube-system/coredns"))
	for _, to := range []string{"internet", "node", "kube-system/konnectivity-agent", "monitoring/loki-gateway", other} {
		assert.Empty(t, open(workload, to), "%s -> %s", workload, to)
	}
	for i, p := range m.Peers {
		entering := open(p.Name, workload)
		switch {
		case p.Name == workload:
		case p.Name == "ingress-nginx/ingress-nginx-controller", p.Name == "monitoring/prometheus":
			assert.Len(t, entering, len(m.Ports), "%s enters the workloads on every port", p.Name)
		default:
			assert.Empty(t, entering, "%s (peer %d) enters %s", p.Name, i, workload)
		}
		if !p.External() && p.Namespace != "kube-system" && p.Name != other {
			assert.NotEmpty(t, open(p.Name, "kube-system/coredns"), "%s resolves names", p.Name)
		}
	}
	// From another environment: the public entry, and Argo CD's metrics (the upstream exception) only.
	for _, p := range m.Peers {
		if !slices.Contains(r.Intent.Namespaces, p.Namespace) || p.External() {
			continue
		}
		got := open(other, p.Name)
		switch {
		case p.Name == "ingress-nginx/ingress-nginx-controller":
			assert.Equal(t, []Port{{80, "TCP"}, {443, "TCP"}, {8443, "TCP"}}, got)
		case strings.HasPrefix(p.Name, "argocd/") && len(got) > 0:
			assert.Len(t, got, 1, "%s: one metrics port", p.Name)
		default:
			assert.Empty(t, got, "%s -> %s", other, p.Name)
		}
	}
	// The node exporter of development, on its own host port.
	assert.Contains(t, open("monitoring/prometheus", "node"), Port{9103, "TCP"})
	assert.NotContains(t, open("monitoring/prometheus", "node"), Port{9100, "TCP"})
}

// The check can fail: a namespace without its guard rails, or with an allow-all policy, differs from the intent on
// the paths that opens; a path the intent needs, closed, is a difference too.
func TestTheCheckFindsWhatAPolicyChangeOpens(t *testing.T) {
	r := report(t, config.Staging)
	recompute := func(policies []*networkingv1.NetworkPolicy) []string {
		m, err := Compute(policies, r.Actual.Peers, r.Actual.Ports)
		require.NoError(t, err)
		var out []string
		for _, d := range Compare(m, r.Intended) {
			out = append(out, d.String())
		}
		return out
	}
	require.Empty(t, recompute(r.Objects.Policies))

	without := func(namespace string, names ...string) []*networkingv1.NetworkPolicy {
		return slices.DeleteFunc(slices.Clone(r.Objects.Policies), func(np *networkingv1.NetworkPolicy) bool {
			return np.Namespace == namespace && slices.Contains(names, np.Name)
		})
	}
	// Alone, the default-deny is redundant: every pod is selected by an allow policy of each direction, which
	// isolates it in that direction too. It is what keeps the namespace closed when one of those goes.
	assert.Empty(t, recompute(without("staging-apps", "default-deny-all")))
	assert.Equal(t, []string{
		"staging-apps/sample-service -> kube-system/coredns on TCP 53: the intent allows it, the policies do not",
		"staging-apps/sample-service -> kube-system/coredns on UDP 53: the intent allows it, the policies do not",
	}, recompute(without("staging-apps", "allow-dns-egress")))
	diffs := recompute(without("staging-apps", "default-deny-all", "allow-dns-egress", "allow-monitoring-scrape", "allow-from-ingress-controller"))
	assert.Contains(t, diffs, "staging-apps/sample-service -> internet on TCP 443: the policies allow it, the intent does not")
	assert.Contains(t, diffs, "kube-system/konnectivity-agent -> staging-apps/sample-service on TCP 8080: the policies allow it, the intent does not")
	assert.Contains(t, diffs, "development-apps/sample-service -> staging-apps/sample-service on TCP 8080: the policies allow it, the intent does not")

	allowAll := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: "monitoring"},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	diffs = recompute(append(slices.Clone(r.Objects.Policies), allowAll))
	assert.Contains(t, diffs, "internet -> monitoring/kube-prometheus-stack-grafana on TCP 3000: the policies allow it, the intent does not")
	assert.Contains(t, diffs, "ingress-nginx/ingress-nginx-controller -> monitoring/prometheus on TCP 443: the policies allow it, the intent does not")
	for _, d := range diffs {
		assert.Contains(t, d, " -> monitoring/", "only paths into the monitoring namespace open")
	}

	// A path the intent needs, closed: the notifications controller's events to Loki.
	assert.Equal(t, []string{"argocd/argocd-notifications-controller -> monitoring/loki-gateway on TCP 8080: the intent allows it, the policies do not"},
		recompute(without("monitoring", "allow-events-from-argocd")))
}

// An exception of the intent is there because the policies need it: without it, the check fails. Once upstream's
// path is gone, this test says the exception can go too.
func TestEveryExceptionIsStillNeeded(t *testing.T) {
	r := report(t, config.Production)
	for _, exception := range r.Intent.Exceptions() {
		without := *r.Intent
		without.Ingress = slices.DeleteFunc(slices.Clone(r.Intent.Ingress), func(rule Rule) bool { return rule.Why == exception.Why })
		without.Egress = slices.DeleteFunc(slices.Clone(r.Intent.Egress), func(rule Rule) bool { return rule.Why == exception.Why })
		assert.NotEmpty(t, Compare(r.Actual, without.Intended(r.Actual.Peers, r.Actual.Ports)),
			"the exception is no longer needed; remove it from the intent: %s", exception.Why)
	}
}

// docs/reachability.md is what the code computes.
func TestTheDocumentIsGenerated(t *testing.T) {
	want, err := Document(project)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(project, DocumentPath))
	require.NoError(t, err)
	if string(got) != want {
		t.Errorf("%s is not what the code computes: run `go generate ./reachability` (or `go run ./cmd/reachability -doc %s`) and commit it", DocumentPath, DocumentPath)
	}
}

// A chart this check cannot render must not make NetworkPolicies of its own.
func TestAnUnrenderedChartMayNotTurnOnItsNetworkPolicies(t *testing.T) {
	assert.Equal(t, "", networkPolicyKey(&gitops.HelmSource{ValuesObject: map[string]any{"controller": map[string]any{"replicaCount": 2}}}))
	assert.Equal(t, "controller.networkPolicy", networkPolicyKey(&gitops.HelmSource{ValuesObject: map[string]any{
		"controller": map[string]any{"networkPolicy": map[string]any{"enabled": true}},
	}}))
	o := &Objects{Namespaces: map[string]map[string]string{}}
	app := gitops.Application{Metadata: gitops.ObjectMeta{Name: "platform-staging-ingress-nginx"}}
	app.Spec.Source = gitops.ApplicationSource{RepoURL: "https://kubernetes.github.io/ingress-nginx", Chart: "ingress-nginx",
		Helm: &gitops.HelmSource{ValuesObject: map[string]any{"controller": map[string]any{"networkPolicy": map[string]any{"enabled": true}}}}}
	err := o.render(app, project)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "platform-staging-ingress-nginx: its chart ingress-nginx comes from https://kubernetes.github.io/ingress-nginx, which is not rendered here, and its values set controller.networkPolicy")
}

// Any stack file works, not only the environments' own: the development review stack renders instead of
// adopting a cluster, which changes nothing in the matrix.
func TestAnyStackFile(t *testing.T) {
	review, err := Evaluate(project, "development-review")
	require.NoError(t, err)
	dev := report(t, config.Development)
	assert.Empty(t, review.Differences)
	assert.Equal(t, dev.Actual.Paths(), review.Actual.Paths())

	_, err = Evaluate(project, "no-such-stack")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stack no-such-stack")
}

// A folder of plain manifests (an Application's directory source) is read as Argo CD applies it: its
// NetworkPolicies count, in the destination namespace when they name none; excluded paths are left out.
func TestAFolderOfManifestsIsRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	policy := "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: %s\nspec:\n  podSelector: {}\n"
	write("objects/a.yaml", strings.ReplaceAll(policy, "%s", "from-folder")+"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
	write("objects/nested/b.yaml", strings.ReplaceAll(policy, "%s", "nested"))
	write("objects/skipped/c.yaml", strings.ReplaceAll(policy, "%s", "excluded"))
	o := &Objects{Namespaces: map[string]map[string]string{}}
	app := gitops.Application{Metadata: gitops.ObjectMeta{Name: "folder"}}
	app.Spec.Source = gitops.ApplicationSource{Path: "objects", Directory: &gitops.DirectorySource{Recurse: true, Exclude: "skipped/*"}}
	app.Spec.Destination = gitops.ApplicationDestination{Namespace: "staging-apps"}
	require.NoError(t, o.render(app, dir))
	var got []string
	for _, np := range o.Policies {
		got = append(got, np.Namespace+"/"+np.Name)
	}
	assert.Equal(t, []string{"staging-apps/from-folder", "staging-apps/nested"}, got)
}
