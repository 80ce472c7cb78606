package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSelect(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.yaml", "a.yaml", "README.md"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755))

	names, err := Select(dir, []string{"*.yaml"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a.yaml", "b.yaml"}, names, "directories and other extensions are left out")

	names, err = Select(dir, []string{"*"})
	require.NoError(t, err)
	assert.Equal(t, []string{"README.md", "a.yaml", "b.yaml"}, names)

	_, err = Select(dir, []string{"a.yaml", "gone.yaml"})
	assert.ErrorContains(t, err, `pattern "gone.yaml" matches no file`)
}
