//go:build integration

package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The state bucket project (statebucket/) previews with the real Linode provider against the stand-in: the
// provider accepts its configuration and the bucket's and keys' inputs, and the preview asks Linode for nothing
// the stand-in does not serve and changes nothing. A bad value fails before anything is registered.
func TestStateBucketPreviewsWithTheRealProvider(t *testing.T) {
	parallel(t)
	unused := filepath.Join(t.TempDir(), "kubeconfig") // the stand-in hands out no cluster here
	require.NoError(t, os.WriteFile(unused, []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	api := startLinodeAPI(t, unused)
	c := newCLI(t, "statebucket")
	c.vars = append(c.vars, api.env...)
	c.stack("state")

	out := c.must("preview", "-s", "state", "--diff")
	assert.Contains(t, out, "+ linode:index/objectStorageBucket:ObjectStorageBucket: (create)", out)
	assert.Regexp(t, `versioning\s*: true`, out)
	assert.Regexp(t, `objUseTempKeys\s*: "true"`, out)
	assert.Contains(t, out, `permissions: "read_only"`, out)
	assert.Contains(t, out, `permissions: "read_write"`, out)
	assertAllHandled(t, api.Requests())
	assert.Empty(t, writes(api.Requests()), "a preview changes nothing at Linode")

	c.must("config", "set", "-s", "state", "bucket", "Infra_State")
	out, err := c.run(nil, "preview", "-s", "state")
	require.Error(t, err, out)
	assert.Contains(t, out, `lke-platform-state:bucket = "Infra_State" is not allowed`, out)
	assert.NotContains(t, out, "objectStorageBucket", "nothing registered")
}
