package gitops

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// files reads every file under dir by its slash-separated path.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}

func TestWriteTreeWritesTheApplicationsAndTheFoldersObjects(t *testing.T) {
	dir := t.TempDir()
	args := infraArgs("staging")
	// What an earlier render left: gone after this one. A folder the tree does not own is left alone.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "argo"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "argo", "platform-staging-tempo.yaml"), []byte("stale"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "cluster"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cluster", "kept.yaml"), []byte("kept"), 0o644))
	require.NoError(t, WriteTree(dir, args))

	got := files(t, dir)
	var names []string
	for name := range got {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{
		"argo/platform-staging-infrastructure.yaml", "argo/platform-staging-crds.yaml",
		"argo/platform-staging-ingress-nginx.yaml", "argo/platform-staging-cert-manager.yaml",
		"argo/platform-staging-loki.yaml", "argo/platform-staging-promtail.yaml",
		"argo/platform-staging-observability.yaml", "argo/platform-staging-sample.yaml",
		"observability/configmap-monitoring-dashboard.yaml", "cluster/kept.yaml",
	}, names)

	// Each file is the object as Argo CD gets it: the root is Root's, the folder's object the one given.
	var root map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(got["argo/platform-staging-infrastructure.yaml"]), &root))
	want, err := yaml.Marshal(Root(args, Children(args)))
	require.NoError(t, err)
	assert.Equal(t, string(want), got["argo/platform-staging-infrastructure.yaml"])
	var cm map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(got["observability/configmap-monitoring-dashboard.yaml"]), &cm))
	assert.Equal(t, testObject(), cm)

	// The same arguments, the same bytes.
	again := t.TempDir()
	require.NoError(t, WriteTree(again, args))
	for name, content := range files(t, again) {
		assert.Equal(t, got[name], content, name)
	}
}

func TestWriteTreeRefusesTwoObjectsOfOneName(t *testing.T) {
	args := infraArgs("staging")
	args.Folders[0].Objects = append(args.Folders[0].Objects, testObject())
	assert.ErrorContains(t, WriteTree(t.TempDir(), args), "folder observability holds observability/configmap-monitoring-dashboard.yaml twice")
}

func TestFolderObjectsNeedTheirTypeAndName(t *testing.T) {
	args := infraArgs("staging")
	args.Folders[0].Objects = []Object{map[string]any{"kind": "ConfigMap", "metadata": map[string]any{}}}
	err := args.Validate()
	assert.ErrorContains(t, err, `Folders[0] ("observability"): Objects[0] has no apiVersion`)
	assert.ErrorContains(t, err, `Folders[0] ("observability"): Objects[0] has no metadata.name`)
}
