package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/vendorcharts"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	listing, err := vendorcharts.Listing(os.DirFS(dir))
	require.NoError(t, err)
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(listing, "\n"), "\n") {
		names = append(names, line[66:])
	}
	return names
}

// TestPack: the chart's .helmignore leaves out what `helm package` leaves out, and with it the .gitignore that
// would otherwise hide vendored files from Git in this repository.
func TestPack(t *testing.T) {
	src, dest := t.TempDir(), t.TempDir()
	write(t, src, map[string]string{
		".helmignore":            ".gitignore\nci/\nhack/\n*.tgz\n",
		".gitignore":             "charts/*\n",
		"Chart.yaml":             "apiVersion: v2\nname: x\nversion: 1.0.0\n",
		"values.yaml":            "a: 1\n",
		"templates/cm.yaml":      "kind: ConfigMap\n",
		"templates/.hidden.yaml": "x\n", // Helm's default rule: templates/.?*
		"ci/values.yaml":         "b: 2\n",
		"hack/sync.py":           "print()\n",
		"old-1.0.0.tgz":          "archive\n",
		"charts/sub/Chart.yaml":  "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
	})
	require.NoError(t, pack(src, dest))
	assert.Equal(t, []string{".helmignore", "Chart.yaml", "charts/sub/Chart.yaml", "templates/cm.yaml", "values.yaml"}, files(t, dest))
}

func TestCertManagerChartYAML(t *testing.T) {
	in := []byte(`apiVersion: v2
name: cert-manager
annotations:
  artifacthub.io/license: Apache-2.0
kubeVersion: ">= 1.22.0-0"

# The version and appVersion fields are set automatically by the release tool
version: v0.0.0
appVersion: v0.0.0
`)
	out, err := CertManagerChartYAML(in, "fingerprint: ABC\nurl: https://example.com/key.gpg\n", "v1.21.2")
	require.NoError(t, err)
	var got struct {
		Name        string            `yaml:"name"`
		Version     string            `yaml:"version"`
		AppVersion  string            `yaml:"appVersion"`
		KubeVersion string            `yaml:"kubeVersion"`
		Annotations map[string]string `yaml:"annotations"`
	}
	require.NoError(t, yaml.Unmarshal(out, &got))
	assert.Equal(t, "cert-manager", got.Name)
	assert.Equal(t, "v1.21.2", got.Version)
	assert.Equal(t, "v1.21.2", got.AppVersion)
	assert.Equal(t, ">= 1.22.0-0", got.KubeVersion)
	assert.Equal(t, map[string]string{
		"artifacthub.io/license":    "Apache-2.0",
		"artifacthub.io/signKey":    "fingerprint: ABC\nurl: https://example.com/key.gpg\n",
		"artifacthub.io/prerelease": "false",
	}, got.Annotations)
	assert.Contains(t, string(out), "# The version and appVersion fields", "comments are kept")

	out, err = CertManagerChartYAML(in, "k\n", "v1.22.0-alpha.1")
	require.NoError(t, err)
	assert.Contains(t, string(out), `artifacthub.io/prerelease: "true"`)
}

// TestGitExtract reads a chart directory and a packaged chart out of a commit of a local clone, and refuses a
// tag that names another commit than the pin's.
func TestGitExtract(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), out.String())
		return strings.TrimSpace(out.String())
	}
	run("init", "-q")
	write(t, repo, map[string]string{
		"charts/x/Chart.yaml":          "apiVersion: v2\nname: x\nversion: 1.0.0\n",
		"charts/x/templates/cm.yaml":   "kind: ConfigMap\n",
		"charts/xy/Chart.yaml":         "not this one\n",
		"releases/x-1.0.0.tgz":         "\x1f\x8b binary\n",
		"elsewhere/ignored/Chart.yaml": "no\n",
	})
	run("add", ".")
	run("commit", "-q", "-m", "x 1.0.0")
	commit := run("rev-parse", "HEAD")
	run("tag", "x-1.0.0")

	dest := t.TempDir()
	require.NoError(t, gitExtract(repo, vendorcharts.Source{Repo: "o/r", Ref: "x-1.0.0", Commit: commit, Path: "charts/x"}, dest))
	assert.Equal(t, []string{"Chart.yaml", "templates/cm.yaml"}, files(t, dest))

	dest = t.TempDir()
	require.NoError(t, gitExtract(repo, vendorcharts.Source{Repo: "o/r", Commit: commit, Path: "releases/x-1.0.0.tgz"}, dest))
	data, err := os.ReadFile(filepath.Join(dest, "x-1.0.0.tgz"))
	require.NoError(t, err)
	assert.Equal(t, "\x1f\x8b binary\n", string(data))

	write(t, repo, map[string]string{"charts/x/values.yaml": "a: 1\n"})
	run("add", ".")
	run("commit", "-q", "-m", "later")
	run("tag", "-f", "x-1.0.0")
	err = gitExtract(repo, vendorcharts.Source{Repo: "o/r", Ref: "x-1.0.0", Commit: commit, Path: "charts/x"}, t.TempDir())
	assert.ErrorContains(t, err, "the pin says "+commit)

	err = gitExtract(repo, vendorcharts.Source{Repo: "o/r", Commit: strings.Repeat("0", 40), Path: "charts/x"}, t.TempDir())
	assert.ErrorContains(t, err, "lacks commit")
}

// TestNeeded: a chart whose clones are not given is left alone, with one instruction per repository.
func TestNeeded(t *testing.T) {
	c, ok := vendorcharts.Lookup("kube-prometheus-stack")
	require.True(t, ok)
	need := needed(c, clones{})
	require.Len(t, need, 2)
	assert.Contains(t, need[0], "-git prometheus-community/helm-charts=DIR")
	assert.Contains(t, need[0], c.Source.Commit+" (tag kube-prometheus-stack-77.14.0)")
	assert.Contains(t, need[1], "-git grafana/helm-charts=DIR")
	assert.Empty(t, needed(c, clones{"prometheus-community/helm-charts": "a", "grafana/helm-charts": "b"}))

	c, ok = vendorcharts.Lookup("sealed-secrets")
	require.True(t, ok)
	assert.Empty(t, needed(c, clones{}), "a Go module source needs no clone")
}
