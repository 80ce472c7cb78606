//go:build integration

package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/platform-eng/lke-platform/components/cluster"
	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/internal/helmrender"
	"github.com/platform-eng/lke-platform/internal/rules"
)

// object is one YAML document that render mode wrote.
type object struct {
	Path string         // relative to the render directory: 0-crd/... or 1-manifest/...
	Raw  []byte         // the document as written
	Obj  map[string]any // the document decoded
}

func (o object) str(path ...string) string {
	var v any = o.Obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (o object) Kind() string      { return o.str("kind") }
func (o object) Name() string      { return o.str("metadata", "name") }
func (o object) Namespace() string { return o.str("metadata", "namespace") }

// renderStack runs the program in render mode as env, with the test secrets and sealing certificate, in a
// fresh copy of the project, and returns the folder it wrote (generated/<env>). The pack runs as in CI: every
// environment's render passing it is the real CLI's proof that each environment, as configured, is compliant.
func renderStack(t *testing.T, envName string) string {
	t.Helper()
	c := newCLI(t, "")
	stack := "render-" + envName
	c.platformStack(stack, envName, "")
	c.must("config", "set", "-s", stack, "clusterMode", "render")
	c.must("config", "rm", "-s", stack, "kubeconfigPath")
	// A render stack is thrown away afterwards: its intermediate checkpoints protect nothing, and writing the
	// state after each of ~150 steps is most of the time (docs/performance.md).
	env := []string{"PULUMI_SKIP_CHECKPOINTS=true"}
	if envName == "production" {
		// Rendering production is an update of production: the pack wants the approval record, as in CI.
		env = append(env, approval(time.Hour)...)
	}
	out, err := c.run(env, "up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	require.NoError(t, err, out)
	require.NotContains(t, out, "[mandatory]", out)
	return filepath.Join(c.dir, "generated", envName)
}

// renders holds each environment's render, made once per test run by the first test that asks for it and
// shared by the others (tests running side by side wait for it, not for each other's environments).
var renders sync.Map // environment → *render

type render struct {
	once sync.Once
	dir  string
	err  error
}

// rendered renders env once per test run and returns the folder.
func rendered(t *testing.T, env string) string {
	t.Helper()
	v, _ := renders.LoadOrStore(env, &render{})
	r := v.(*render)
	r.once.Do(func() {
		// A folder that outlives the test that made it: the CLI's t.TempDir would go with the first test.
		keep, err := os.MkdirTemp("", "lke-platform-rendered-"+env)
		if err != nil {
			r.err = err
			return
		}
		r.dir = keep
		// A failed render fails the test that made it (require stops it here); the others see no folder.
		r.err = fmt.Errorf("rendering %s failed in another test", env)
		r.err = os.CopyFS(keep, os.DirFS(renderStack(t, env)))
	})
	require.NoError(t, r.err)
	return r.dir
}

// renderedCluster is the folder of env's render that holds Pulumi's own objects, as the provider writes them
// (0-crd/, 1-manifest/); what Argo CD applies is beside it (renderedTree).
func renderedCluster(t *testing.T, env string) string {
	return filepath.Join(rendered(t, env), cluster.RenderedObjectsDir)
}

// renderedTree is every object of env's render that Argo CD applies: its Applications and its folders' objects.
func renderedTree(t *testing.T, env string) []object {
	t.Helper()
	var out []object
	for _, sub := range []string{gitops.ArgoDir, "network", "secrets", "observability"} {
		out = append(out, readObjects(t, filepath.Join(rendered(t, env), sub))...)
	}
	return out
}

// renderedDirs are the folders rendered so far, for TestMain to remove.
func renderedDirs() []string {
	var dirs []string
	renders.Range(func(_, v any) bool {
		if r := v.(*render); r.dir != "" {
			dirs = append(dirs, r.dir)
		}
		return true
	})
	return dirs
}

// readObjects reads every document under dir, in a stable order.
func readObjects(t *testing.T, dir string) []object {
	t.Helper()
	var out []object
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return err
			}
			doc, err := yaml.Marshal(obj)
			if err != nil {
				return err
			}
			out = append(out, object{Path: rel, Raw: doc, Obj: obj})
		}
		return nil
	})
	require.NoError(t, err)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// withCharts returns the rendered objects and what Argo CD renders from them: every Application whose source is
// a chart of this repository (a path, with Helm values: the root Application's charts/manifests, the folders',
// the sample service's chart), rendered with Helm's SDK from this working tree as Argo CD's repo-server renders
// it, and again for the Applications those renders hold.
func withCharts(t *testing.T, objs []object) []object {
	t.Helper()
	out := slices.Clone(objs)
	for i := 0; i < len(out); i++ {
		app := out[i]
		if app.Kind() != "Application" {
			continue
		}
		spec := applicationSpec(t, app)
		if spec.Source.Path == "" || spec.Source.Helm == nil {
			continue
		}
		rendered, err := helmrender.Render(filepath.Join(repoRoot(), filepath.FromSlash(spec.Source.Path)),
			helmrender.Release{Name: spec.Source.Helm.ReleaseName, Namespace: spec.Destination.Namespace},
			spec.Source.Helm.ValuesObject)
		require.NoError(t, err, "Application %s", app.Name())
		for _, r := range rendered {
			doc, err := yaml.Marshal(r.Object)
			require.NoError(t, err)
			out = append(out, object{Path: app.Path + " -> " + app.Name(), Raw: doc, Obj: r.Object})
		}
	}
	return out
}

// applicationSpec is a rendered Application's source and destination, in the gitops component's types.
func applicationSpec(t *testing.T, app object) (spec struct {
	Source      gitops.ApplicationSource      `json:"source"`
	Destination gitops.ApplicationDestination `json:"destination"`
}) {
	t.Helper()
	raw, err := json.Marshal(app.Obj["spec"])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &spec))
	return spec
}

// find returns the rendered objects of a kind (and, if given, a name).
func find(objs []object, kind, name string) []object {
	var out []object
	for _, o := range objs {
		if o.Kind() == kind && (name == "" || o.Name() == name) {
			out = append(out, o)
		}
	}
	return out
}

// TestRenderModeWritesEveryObject renders each environment and checks what GitOps promotion would take: the
// network policies, the sealed secrets, the observability values and the Argo CD manifests are there; every
// document of a built-in kind decodes strictly into its Kubernetes API type; no secret is in plain text.
func TestRenderModeWritesEveryObject(t *testing.T) {
	t.Parallel()
	strict := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	for _, env := range []string{"development", "staging", "production", "system"} {
		t.Run(env, func(t *testing.T) {
			parallel(t)
			objs := readObjects(t, renderedCluster(t, env))
			require.NotEmpty(t, objs)

			builtin, custom := 0, 0
			for _, o := range objs {
				gvk := o.str("apiVersion")
				if _, _, err := strict.Decode(o.Raw, nil, nil); err == nil {
					builtin++
					continue
				} else if !strings.Contains(err.Error(), "no kind") {
					t.Errorf("%s (%s) does not decode strictly: %v", o.Path, gvk, err)
					continue
				}
				custom++ // a custom resource: checked against its CRD by the API server (TestRenderedYAMLAppliesWithKubectl)
			}
			t.Logf("%s: %d objects of built-in kinds decoded strictly, %d custom objects", env, builtin, custom)

			ns := env + "-apps"
			for _, policy := range []string{"default-deny-all", "allow-dns-egress", "allow-from-ingress-controller", "allow-monitoring-scrape"} {
				np := find(objs, "NetworkPolicy", policy)
				assert.True(t, containsNamespace(np, ns), "NetworkPolicy %s/%s is rendered", ns, policy)
			}
			// Pulumi's part: the root Application; Argo CD's, what it holds.
			assert.Len(t, find(objs, "Application", "platform-"+env+"-infrastructure"), 1)
			assert.Empty(t, find(objs, "ApplicationSet", ""))
			assert.Empty(t, find(objs, "SealedSecret", ""), "sealed secrets are Argo CD's to apply")
			assert.Empty(t, find(objs, "CustomResourceDefinition", "sealedsecrets.bitnami.com"), "the add-ons' CRDs are Argo CD's")
			all := withCharts(t, objs)
			crds := find(all, "Application", "platform-"+env+"-crds")
			require.Len(t, crds, 1)
			assert.Equal(t, gitops.AddonCRDsPath, crds[0].str("spec", "source", "path"))
			assert.Len(t, find(all, "SealedSecret", "sample-service"), 1)
			assert.Len(t, find(all, "SealedSecret", "alertmanager-slack"), 1)
			assert.Len(t, find(all, "SealedSecret", "external-dns-linode"), 1)
			assert.Len(t, find(all, "ClusterIssuer", ""), 1)
			assert.Len(t, find(all, "Application", "platform-"+env+"-sample-service"), 1)
			var platformRules, chartRules int
			for _, r := range find(all, "PrometheusRule", "") {
				if strings.HasSuffix(r.Path, " -> platform-"+env+"-kube-prometheus-stack") {
					chartRules++ // kube-prometheus-stack's own rules (vendored chart)
				} else {
					platformRules++
				}
			}
			assert.Equal(t, 2, platformRules, "the platform's rules and the sample service's chart's")
			assert.NotZero(t, chartRules, "kube-prometheus-stack's default rules")
			dashboards := find(all, "ConfigMap", "env-"+env+"-overview-dashboard")
			require.Len(t, dashboards, 1)
			var dashboard struct{ UID, Title string }
			require.NoError(t, json.Unmarshal([]byte(dashboards[0].str("data", env+"-overview.json")), &dashboard))
			assert.Equal(t, "env-"+env, dashboard.UID)
			assert.Equal(t, env+"-overview", dashboard.Title)

			// The tree written beside Pulumi's objects is exactly what Argo CD renders from the root: every
			// Application it holds, and every object of the folders.
			tree := renderedTree(t, env)
			assert.Len(t, find(tree, "Application", ""), len(find(all, "Application", "")))
			rendersOfRoot := map[string]bool{}
			for _, a := range all[len(objs):] {
				rendersOfRoot[string(mustJSON(t, a.Obj))] = true
			}
			for _, o := range tree {
				if o.Name() == gitops.RootName(env) {
					continue // Pulumi's, in cluster/ (with the revision annotation the program adds)
				}
				assert.True(t, rendersOfRoot[string(mustJSON(t, o.Obj))], "%s is not what Argo CD renders from the root Application", o.Path)
			}
			for _, kind := range []string{"SealedSecret", "ClusterIssuer", "PrometheusRule", "ConfigMap"} {
				assert.NotEmpty(t, find(tree, kind, ""), "the tree holds the %s objects", kind)
			}

			// What Argo CD applies from this repository's charts never goes through a preview, so the pack
			// never sees it there: it must pass the pack here.
			for _, o := range all[len(objs):] {
				refused := packRefusals(t, env, o.Obj)
				if alertmanagerConfigSecret(o) {
					// The one exception: kube-prometheus-stack writes Alertmanager's configuration as a Secret,
					// the only place the Prometheus operator reads it from. It holds the routing only: the Slack
					// webhooks are files of the sealed alertmanager-slack (slackWebhookFiles). In the cluster the
					// monitoring namespace is a platform namespace, which the admission policies leave alone.
					refused = slices.DeleteFunc(refused, func(rule string) bool { return rule == rules.LiteralSecrets })
				}
				assert.Empty(t, refused, "%s %s (%s) is refused by the pack", o.Kind(), o.Name(), o.Path)
			}

			for _, o := range all {
				for _, secret := range plaintexts {
					assert.NotContains(t, string(o.Raw), secret, "%s holds a secret in plain text", o.Path)
				}
			}
		})
	}
}

// alertmanagerConfigSecret reports whether o is the Secret kube-prometheus-stack renders Alertmanager's
// configuration into, in the monitoring namespace, holding that configuration and nothing else.
func alertmanagerConfigSecret(o object) bool {
	data, _ := o.Obj["data"].(map[string]any)
	_, config := data["alertmanager.yaml"]
	return o.Kind() == "Secret" && o.Namespace() == "monitoring" && o.Name() == "alertmanager-kube-prometheus-stack-alertmanager" &&
		len(data) == 1 && config && o.Obj["stringData"] == nil
}

func containsNamespace(objs []object, ns string) bool {
	for _, o := range objs {
		if o.Namespace() == ns {
			return true
		}
	}
	return false
}

// TestRenderingTwiceGivesIdenticalFiles renders the same stack twice, from two fresh copies and two stacks,
// and compares the trees byte for byte: promotion diffs show only real changes.
func TestRenderingTwiceGivesIdenticalFiles(t *testing.T) {
	parallel(t)
	first := rendered(t, "staging")
	second := renderStack(t, "staging")
	a, b := tree(t, first), tree(t, second)
	require.NotEmpty(t, a)
	assert.Equal(t, slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)), "the same files")
	for name, content := range a {
		assert.Equal(t, content, b[name], "%s differs between two renders", name)
	}
}

func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(b)
		return err
	}))
	return out
}
