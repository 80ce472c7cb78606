//go:build integration

package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/upstream"
)

// TestVendoredFilesMatchTheirModules compares every vendored upstream file (the add-ons' CRDs, Argo CD's
// install manifest) byte for byte with the file in the upstream project's Go module at the pinned version.
func TestVendoredFilesMatchTheirModules(t *testing.T) {
	t.Parallel() // no program of its own: takes no turn (harness_test.go)
	dirs := map[string]string{}
	for _, s := range upstream.Sources() {
		key := s.Module + "@" + s.Version
		dir, ok := dirs[key]
		if !ok {
			cmd := exec.Command("go", "mod", "download", "-json", key)
			// Outside this module, so nothing touches go.mod; argo-cd v3 declares a newer go than this machine's,
			// which `go mod download` only reads with GOTOOLCHAIN=auto.
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=auto")
			out, err := cmd.Output()
			require.NoError(t, err, "go mod download %s", key)
			var mod struct{ Dir string }
			require.NoError(t, json.Unmarshal(out, &mod))
			dir, dirs[key] = mod.Dir, mod.Dir
		}
		want, err := os.ReadFile(filepath.Join(dir, s.Path))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(s.Content()), "upstream/%s differs from %s %s: run go generate ./upstream", s.Embedded, key, s.Path)
	}
}
