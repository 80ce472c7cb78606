package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

// committed is the config the CLI hands the program for the committed stack: Pulumi.yaml's defaults (the stack
// file sets nothing of this project's), then the overrides.
func committed(t *testing.T, overrides map[string]string) map[string]string {
	t.Helper()
	values, err := config.StackValues(".", "state")
	require.NoError(t, err)
	cfg := map[string]string{}
	for k, v := range values {
		cfg[namespace+":"+k] = v
	}
	for k, v := range overrides {
		cfg[namespace+":"+k] = v
	}
	return cfg
}

func TestTheStateBucket(t *testing.T) {
	rec, err := mocks.Run(t, "state", committed(t, nil), program)
	require.NoError(t, err)

	provider := rec.One(t, "pulumi:providers:linode", "linode")
	assert.Equal(t, true, provider.Inputs.Mappable()["objUseTempKeys"], "a temporary key for the S3 calls, no standing one")

	bucket := rec.One(t, "linode:index/objectStorageBucket:ObjectStorageBucket", "infra-state")
	assert.True(t, bucket.Protect, "losing the bucket loses every stack's state")
	assert.True(t, bucket.RetainOnDelete)
	in := bucket.Inputs.Mappable()
	assert.Equal(t, "infra-state", in["label"])
	assert.Equal(t, "fr-par", in["region"])
	assert.Equal(t, "private", in["acl"])
	assert.Equal(t, true, in["versioning"])
	assert.Equal(t, []any{map[string]any{
		"id": "expire-old-versions", "enabled": true,
		"noncurrentVersionExpiration":        map[string]any{"days": 90.0},
		"abortIncompleteMultipartUploadDays": 7.0,
	}}, in["lifecycleRules"])

	keys := rec.OfType("linode:index/objectStorageKey:ObjectStorageKey")
	require.Len(t, keys, 2)
	permissions := map[string]string{}
	for _, k := range keys {
		assert.True(t, k.Protect, k.Name)
		access := k.Inputs["bucketAccesses"].ArrayValue()
		require.Len(t, access, 1, "%s: limited to the one bucket", k.Name)
		a := access[0].ObjectValue()
		assert.Equal(t, "infra-state", a["bucketName"].StringValue())
		assert.Equal(t, "fr-par", a["region"].StringValue())
		assert.False(t, k.Inputs.HasValue("regions"), "%s: no right to create buckets", k.Name)
		permissions[k.Name] = a["permissions"].StringValue()
	}
	assert.Equal(t, map[string]string{"infra-state-writer": "read_write", "infra-state-reader": "read_only"}, permissions)
}

func TestBadConfigurationNamesEachKey(t *testing.T) {
	_, err := mocks.Run(t, "state", committed(t, map[string]string{
		"region": "Paris", "bucket": "Infra_State", "noncurrentVersionDays": "0",
	}), program)
	require.Error(t, err)
	for _, want := range []string{
		`lke-platform-state:region = "Paris" is not allowed; want a Linode Object Storage region such as fr-par`,
		`lke-platform-state:bucket = "Infra_State" is not allowed; want a bucket name of 3..63 lowercase letters, digits and hyphens`,
		`lke-platform-state:noncurrentVersionDays = "0" is not allowed; want an integer in 1..3650`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Contains(t, err.Error(), "invalid stack configuration (3 problems")
}
