package vendorcharts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/ingress"
	"github.com/platform-eng/lke-platform/components/observability"
	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/helmrender"
	"github.com/platform-eng/lke-platform/internal/vendorcharts"
)

// rootEnv names another directory laid out as the repository (charts/vendor/<name>) whose trees the tests check
// and render instead of the committed ones: how a refresh of charts not vendored yet is tried out before it is
// committed (`go run ./gen -root DIR -git ...` then `VENDORCHARTS_ROOT=DIR go test`).
const rootEnv = "VENDORCHARTS_ROOT"

// root is the directory the trees are read under, and whether it is this repository.
func root(t *testing.T) (string, bool) {
	if dir := os.Getenv(rootEnv); dir != "" {
		return dir, false
	}
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return dir, true
}

func chartDir(root string, c vendorcharts.Chart) string {
	return filepath.Join(root, filepath.FromSlash(c.Path()))
}

func exists(t *testing.T, dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	if os.IsNotExist(err) {
		return false
	}
	require.NoError(t, err)
	return true
}

// TestPins checks the pin list itself: one pin per add-on chart of the platform, at the version its component
// pins, with a well-formed source and sum.
func TestPins(t *testing.T) {
	want := map[string]string{
		"ingress-nginx":         ingress.IngressNginxVersion,
		"cert-manager":          ingress.CertManagerVersion,
		"external-dns":          ingress.ExternalDNSVersion,
		"kube-prometheus-stack": observability.KubePrometheusStackVersion,
		"loki":                  observability.LokiVersion,
		"promtail":              observability.PromtailVersion,
		"tempo":                 observability.TempoVersion,
		"sealed-secrets":        secrets.ChartVersion,
	}
	got := map[string]string{}
	for _, c := range vendorcharts.All {
		_, dup := got[c.Name]
		assert.False(t, dup, "%s pinned twice", c.Name)
		got[c.Name] = c.Version
	}
	assert.Equal(t, want, got, "the pins are the components' charts at the components' versions")

	hex40 := regexp.MustCompile(`^[0-9a-f]{40}$`)
	sum := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	checkSource := func(what string, s vendorcharts.Source) {
		assert.NotEmpty(t, s.Path, "%s: path inside the source", what)
		if s.Git() {
			assert.Empty(t, s.Module, "%s: a Git source names no module", what)
			assert.Regexp(t, hex40, s.Commit, "%s: a Git source is a full commit hash", what)
			assert.Equal(t, 1, strings.Count(s.Repo, "/"), "%s: owner/name", what)
			return
		}
		assert.NotEmpty(t, s.Module, "%s: a module or a Git repository", what)
		assert.Regexp(t, `^v\d+\.\d+\.\d+`, s.Version, "%s: an exact module version", what)
		assert.Regexp(t, `^h1:`, s.Sum, "%s: the module's go.sum hash", what)
	}
	for _, c := range vendorcharts.All {
		assert.Equal(t, "charts/vendor/"+c.Name, c.Path())
		assert.Regexp(t, sum, c.Sum, c.Name)
		checkSource(c.Name, c.Source)
		for _, d := range c.Dependencies {
			checkSource(c.Name+" dependency "+d.Name, d.Source)
			assert.NotEmpty(t, d.Version, "%s dependency %s", c.Name, d.Name)
		}
		if !c.Vendored() {
			assert.Contains(t, c.Missing, "clone", "%s: Missing says what the refresh command needs", c.Name)
		}
	}

	c, ok := vendorcharts.Lookup("kube-prometheus-stack")
	require.True(t, ok)
	assert.Equal(t, "charts/vendor/kube-prometheus-stack", c.Path())
	assert.Equal(t, "77.14.0", c.Version)
	_, ok = vendorcharts.Lookup("nginx")
	assert.False(t, ok)
}

// TestSums recomputes every vendored chart's sum from the files: an edit to a vendored chart (or a refresh
// without its pin) fails here. In this repository a chart is present exactly when its pin says it is vendored,
// and charts/vendor holds nothing else.
func TestSums(t *testing.T) {
	dir, inRepo := root(t)
	for _, c := range vendorcharts.All {
		t.Run(c.Name, func(t *testing.T) {
			cdir := chartDir(dir, c)
			if !exists(t, cdir) {
				if inRepo {
					assert.False(t, c.Vendored(), "%s is pinned as vendored but %s has no chart", c.Name, c.Path())
				}
				t.Skipf("%s %s is not vendored: %s", c.Name, c.Version, c.Missing)
			}
			if inRepo {
				assert.True(t, c.Vendored(), "%s is present: clear its Missing in pins.go", c.Path())
			}
			sum, err := vendorcharts.TreeSum(os.DirFS(cdir))
			require.NoError(t, err)
			assert.Equal(t, c.Sum, sum, "%s differs from its pin: a vendored chart is never edited by hand; "+
				"restore it with `go generate ./internal/vendorcharts`, or bump the pin", c.Path())
		})
	}
	if inRepo {
		entries, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(vendorcharts.Dir)))
		require.NoError(t, err)
		for _, e := range entries {
			_, pinned := vendorcharts.Lookup(e.Name())
			assert.True(t, pinned, "%s/%s: no pin names it", vendorcharts.Dir, e.Name())
		}
	}
}

// workload is an object the chart must render: kind and name.
type workload struct{ kind, name string }

func (w workload) String() string { return w.kind + "/" + w.name }

// rendering is one chart with the values a component passes for an environment.
type rendering struct {
	env    string
	chart  gitops.Chart
	want   []workload // rendered
	absent []workload // not rendered by `helm template`: a dependency the values (or the chart's defaults) disable
}

// renderings are the platform's charts with their values, as the components build them for Argo CD, for a
// production and a non-production environment (their values differ), and what each must at least render.
func renderings() []rendering {
	var out []rendering
	for _, env := range []string{"production", "development"} {
		labels := (&config.Environment{Name: env}).Labels()
		args := &ingress.Args{
			Environment: env, Production: env == "production", Labels: labels,
			IngressNamespace: env + "-ingress", CertManagerNamespace: env + "-cert-manager",
			ExternalDNSNamespace: env + "-external-dns", Domain: "platform.example.com", ACMEEmail: "ops@example.com",
		}
		obs := observability.ChartArgs{
			Environment: env, Namespace: env + "-monitoring", Tracing: true,
			EnvironmentNamespaces: []string{env + "-apps", env + "-ingress"},
		}
		out = append(out,
			rendering{env, ingress.IngressNginxChart(args.IngressNamespace, labels), []workload{
				{"Deployment", "ingress-nginx-controller"}, {"Service", "ingress-nginx-controller"}, {"IngressClass", "nginx"},
			}, nil},
			rendering{env, ingress.CertManagerChart(args.CertManagerNamespace, labels), []workload{
				{"Deployment", "cert-manager"}, {"Deployment", "cert-manager-cainjector"}, {"Deployment", "cert-manager-webhook"},
				{"ValidatingWebhookConfiguration", "cert-manager-webhook"}, {"ServiceMonitor", "cert-manager"},
			}, nil},
			rendering{env, ingress.ExternalDNSChart(args), []workload{{"Deployment", "external-dns"}}, nil},
			rendering{env, observability.KubePrometheusStack(obs), []workload{
				{"Deployment", "kube-prometheus-stack-operator"},
				{"Deployment", "kube-prometheus-stack-grafana"},
				{"Deployment", "kube-prometheus-stack-kube-state-metrics"},
				{"DaemonSet", "kube-prometheus-stack-prometheus-node-exporter"},
				{"Prometheus", "kube-prometheus-stack-prometheus"},
				{"Alertmanager", "kube-prometheus-stack-alertmanager"},
			}, []workload{{"DaemonSet", "kube-prometheus-stack-prometheus-windows-exporter"}}},
			rendering{env, observability.Loki(obs), []workload{{"StatefulSet", "loki"}, {"Deployment", "loki-gateway"}}, []workload{
				{"StatefulSet", "loki-minio"}, {"Deployment", "loki-grafana-agent-operator"}, {"Deployment", "loki-rollout-operator"},
			}},
			rendering{env, observability.Promtail(obs), []workload{{"DaemonSet", "promtail"}}, nil},
			rendering{env, observability.Tempo(obs), []workload{{"StatefulSet", "tempo"}}, nil},
			rendering{env, secrets.ControllerChart(env + "-sealed-secrets"), []workload{
				{"Deployment", secrets.ControllerName}, {"Service", secrets.ControllerName},
			}, nil},
		)
	}
	// On the local control plane (config.Environment.LocalControlPlane) the admission webhooks are off, with the
	// hook Jobs that would make their certificates.
	local := observability.ChartArgs{Environment: "development", Namespace: "development-monitoring", LocalControlPlane: true,
		EnvironmentNamespaces: []string{"development-apps"}}
	var kps gitops.Chart
	for _, c := range observability.Charts(local) {
		if c.Name == observability.KubePrometheusStackName {
			kps = c
		}
	}
	labels := (&config.Environment{Name: "development"}).Labels()
	out = append(out,
		rendering{"development-local", ingress.WithoutAdmissionWebhook(ingress.IngressNginxChart("development-ingress", labels)),
			[]workload{{"Deployment", "ingress-nginx-controller"}},
			[]workload{{"ValidatingWebhookConfiguration", "ingress-nginx-admission"}, {"Job", "ingress-nginx-admission-create"}}},
		rendering{"development-local", kps, []workload{{"Deployment", "kube-prometheus-stack-operator"}}, []workload{
			{"ValidatingWebhookConfiguration", "kube-prometheus-stack-admission"},
			{"MutatingWebhookConfiguration", "kube-prometheus-stack-admission"}, {"Job", "kube-prometheus-stack-admission-create"},
		}},
	)
	return out
}

// TestRender renders every vendored chart with the values the platform's components pass, twice:
//
//   - with internal/helmrender, the repository's helper (values checked against the chart's values.schema.json,
//     then rendered);
//   - as `helm template` does in Argo CD's repo-server (helmTemplate): every dependency of Chart.yaml present,
//     the dependencies the values disable dropped, import-values applied, the schema checked, then rendered.
//
// and checks that the chart's workloads come out under the names the platform expects, in the release's
// namespace, and that what the values disable stays out. A chart not vendored is skipped with the reason.
func TestRender(t *testing.T) {
	dir, _ := root(t)
	covered := map[string]bool{}
	for _, r := range renderings() {
		covered[r.chart.Name] = true
		t.Run(r.chart.Name+"/"+r.env, func(t *testing.T) {
			c, ok := vendorcharts.Lookup(r.chart.Name)
			require.True(t, ok, "no pin for the component's chart %s", r.chart.Name)
			assert.Equal(t, c.Version, r.chart.Version, "the component pins another version than the vendored one")
			cdir := chartDir(dir, c)
			if !exists(t, cdir) {
				t.Skipf("%s %s is not vendored: %s", c.Name, c.Version, c.Missing)
			}
			release := helmrender.Release{Name: r.chart.Name, Namespace: r.chart.Namespace}
			rendered, err := helmrender.Render(cdir, release, r.chart.Values)
			require.NoError(t, err, "helmrender: the values of the component do not fit the chart")
			templated, err := helmTemplate(cdir, release, r.chart.Values)
			require.NoError(t, err, "helm template: the values of the component do not fit the chart")

			for _, objects := range [][]*unstructured.Unstructured{rendered, templated} {
				have := inventory(objects)
				for _, w := range r.want {
					assert.Contains(t, have, w.String(), "%s renders no %s", c.Name, w)
				}
				assert.GreaterOrEqual(t, len(objects), 3, "%s renders next to nothing", c.Name)
			}
			have := inventory(templated)
			for _, w := range r.absent {
				assert.NotContains(t, have, w.String(), "%s: the values disable %s", c.Name, w)
			}
			for _, o := range templated {
				if ns := o.GetNamespace(); ns != r.chart.Namespace && ns != "kube-system" && namespaced(o.GetKind()) {
					t.Errorf("%s: %s/%s is in namespace %q, not the release's", c.Name, o.GetKind(), o.GetName(), ns)
				}
			}
		})
	}
	for _, c := range vendorcharts.All {
		assert.True(t, covered[c.Name], "%s is vendored but no test renders it", c.Name)
	}
}

// helmTemplate renders the chart at dir as `helm template` (action.Install, client-only) does: it fails on a
// dependency of Chart.yaml missing from charts/ (the error that makes Argo CD's repo-server run `helm
// dependency build`), drops the dependencies whose condition or tags the values turn off, applies
// import-values, checks the values against the schemas and renders. Objects without a namespace get the
// release's, as Argo CD applies them.
func helmTemplate(dir string, release helmrender.Release, values map[string]any) ([]*unstructured.Unstructured, error) {
	raw, err := json.Marshal(values) // as an Application's valuesObject reaches Helm
	if err != nil {
		return nil, err
	}
	values = nil
	if err := json.Unmarshal(raw, &values); err != nil {
		return nil, err
	}
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	for _, req := range chrt.Metadata.Dependencies {
		if !slices.ContainsFunc(chrt.Dependencies(), func(sub *chart.Chart) bool { return sub.Name() == req.Name }) {
			return nil, fmt.Errorf("found in Chart.yaml, but missing in charts/ directory: %s", req.Name)
		}
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, values); err != nil {
		return nil, err
	}
	vals, err := chartutil.ToRenderValues(chrt, values, chartutil.ReleaseOptions{
		Name: release.Name, Namespace: release.Namespace, IsInstall: true, Revision: 1,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		if base := path.Base(name); !strings.HasPrefix(base, "_") && base != "NOTES.txt" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []*unstructured.Unstructured
	for _, name := range names {
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(files[name])), 4096)
		for {
			var obj map[string]any
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if len(obj) == 0 {
				continue
			}
			u := &unstructured.Unstructured{Object: obj}
			if u.GetNamespace() == "" {
				u.SetNamespace(release.Namespace)
			}
			out = append(out, u)
		}
	}
	return out, nil
}

func inventory(objects []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objects))
	for _, o := range objects {
		out = append(out, fmt.Sprintf("%s/%s", o.GetKind(), o.GetName()))
	}
	slices.Sort(out)
	return out
}

// clusterScoped are the cluster-scoped kinds the charts render; helmrender gives every object without a namespace
// the release's, so only these may legitimately differ.
var clusterScoped = []string{
	"ClusterRole", "ClusterRoleBinding", "IngressClass", "ValidatingWebhookConfiguration",
	"MutatingWebhookConfiguration", "CustomResourceDefinition", "PriorityClass", "Namespace",
}

func namespaced(kind string) bool { return !slices.Contains(clusterScoped, kind) }
