package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
)

// As committed, CI applies development and production; staging and system are deferred (spec).
func TestTheCommittedStacksCIApplies(t *testing.T) {
	out, err := exec.Command("go", "run", ".", "-dir", "../..").Output()
	require.NoError(t, err)
	assert.Equal(t, `["development","production"]`, strings.TrimSpace(string(out)))
}

// project copies Pulumi.yaml and the environments' stack files into a folder of the test's, with deferred set
// in each stack file as given (left to the default where absent).
func project(t *testing.T, deferred map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../../Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), b, 0o644))
	for _, stack := range config.Environments {
		content := "config:\n  lke-platform:environment: " + stack + "\n"
		if v, ok := deferred[stack]; ok {
			content += "  lke-platform:deferred: " + v + "\n"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(content), 0o644))
	}
	return dir
}

func TestAppliedFollowsEachStackFile(t *testing.T) {
	applied, err := Applied(project(t, nil))
	require.NoError(t, err)
	assert.Equal(t, config.Environments, applied, "not deferred by default")

	applied, err = Applied(project(t, map[string]string{"development": "false", "system": "true"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"development", "staging", "production"}, applied)

	_, err = Applied(project(t, map[string]string{"staging": "later"}))
	require.Error(t, err)
	assert.Equal(t, `stack file Pulumi.staging.yaml: lke-platform:deferred = "later" is not allowed; want true or false`, err.Error())
}
