package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestState(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	later, earlier := "2026-03-02T11:00:00Z", "2026-03-02T08:00:00Z"
	assert.Equal(t, "in force, 2h0m0s left", state(later, true, now))
	assert.Equal(t, "expired (its tokens too): run pulumi up to remove its grants", state(earlier, true, now))
	assert.Equal(t, "expired, removed: remove it from the config", state(earlier, false, now))
	assert.Equal(t, "not deployed yet: run pulumi up", state(later, false, now))
	assert.Equal(t, "invalid expiresAt: the next preview says why", state("soon", false, now))
}

func TestPackageKubeconfigHoldsTheClusterAndTheTokenOnly(t *testing.T) {
	b, err := packageKubeconfig(cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: "Q0E="}, "local-development", "drill",
		issued{Namespace: "development-access", ServiceAccount: "access-drill", Namespaces: []string{"development-apps"}}, "TOKEN")
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, yaml.Unmarshal(b, &got))
	assert.Equal(t, map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "local-development-access-drill",
		"clusters": []any{map[string]any{"name": "local-development", "cluster": map[string]any{
			"server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="}}},
		"users": []any{map[string]any{"name": "local-development-access-drill", "user": map[string]any{"token": "TOKEN"}}},
		"contexts": []any{map[string]any{"name": "local-development-access-drill", "context": map[string]any{
			"cluster": "local-development", "user": "local-development-access-drill", "namespace": "development-apps"}}},
	}, got)
}

func TestWritePrivateReplacesAnyFileWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drill.kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, writePrivate(path, []byte("new")))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, _ := os.ReadFile(path)
	assert.Equal(t, "new", string(b))
	entries, _ := os.ReadDir(filepath.Dir(path))
	assert.Len(t, entries, 1, "no temporary file left")
}

func TestAdminKubeconfigIsTheAttachedFileElseTheOperators(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kubeconfig"), nil, 0o600))
	operator := filepath.Join(dir, "operator.kubeconfig")
	require.NoError(t, os.WriteFile(operator, nil, 0o600))

	path, err := adminKubeconfig("kubeconfig", operator, dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "kubeconfig"), path, "the stack's own, a path relative to the project")
	path, err = adminKubeconfig("", operator, dir)
	require.NoError(t, err)
	assert.Equal(t, operator, path, "a stack that exports none: the operator's")

	_, err = adminKubeconfig("", "", dir)
	assert.ErrorContains(t, err, "exports no kubeconfig (a cluster-admin kubeconfig is never a stack output): pass -kubeconfig FILE")
	_, err = adminKubeconfig("", filepath.Join(dir, "missing"), dir)
	assert.ErrorContains(t, err, "no such file")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"issue", "development"}, {"revoke", "development", "drill"}} {
		err := run(args, &bytes.Buffer{}, time.Now)
		assert.ErrorIs(t, err, errUsage, "%v", args) // main prints the usage after it
	}
}
