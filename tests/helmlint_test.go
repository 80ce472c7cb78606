//go:build integration

package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
)

// The spec's Helm lint step: every chart this repository carries (charts/sample-service, charts/manifests, the
// vendored add-on charts under charts/vendor/) passes the real `helm lint` of the toolchain, with the values
// each environment's Application gives it, as Argo CD renders it.
func TestEveryChartPassesHelmLint(t *testing.T) {
	t.Parallel() // no program of its own: takes no turn (harness_test.go)
	linted := map[string]bool{}
	for _, env := range config.Environments {
		for _, app := range find(withCharts(t, readObjects(t, renderedCluster(t, env))), "Application", "") {
			spec := applicationSpec(t, app)
			if !strings.HasPrefix(spec.Source.Path, "charts/") || spec.Source.Helm == nil {
				continue
			}
			values, err := json.Marshal(spec.Source.Helm.ValuesObject) // JSON is YAML
			require.NoError(t, err)
			file := filepath.Join(t.TempDir(), "values.yaml")
			require.NoError(t, os.WriteFile(file, values, 0o600))
			out := run(t, "helm", "lint", "--strict", filepath.Join(repoRoot(), filepath.FromSlash(spec.Source.Path)), "-f", file)
			assert.Contains(t, out, "0 chart(s) failed", "%s: %s", app.Name(), out)
			linted[spec.Source.Path] = true
		}
	}
	var charts []string
	for _, pattern := range []string{"charts/*/Chart.yaml", "charts/vendor/*/Chart.yaml"} {
		matches, err := filepath.Glob(filepath.Join(repoRoot(), pattern))
		require.NoError(t, err)
		for _, m := range matches {
			rel, err := filepath.Rel(repoRoot(), filepath.Dir(m))
			require.NoError(t, err)
			charts = append(charts, filepath.ToSlash(rel))
		}
	}
	slices.Sort(charts)
	require.NotEmpty(t, charts)
	for _, chart := range charts {
		assert.True(t, linted[chart], "chart %s is linted with an environment's values: no Application renders it", chart)
	}
}
