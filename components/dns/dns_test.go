package dns

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

func TestZoneIsAMasterZoneOfItsOwn(t *testing.T) {
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "staging-dns", &Args{Zone: "staging.lke.example.com", SOAEmail: "platform@example.org",
			Tags: []string{"environment:staging"}}, pulumi.Protect(true))
		return err
	})
	require.NoError(t, err)
	zone := rec.One(t, "linode:index/domain:Domain", "staging-dns")
	in := zone.Inputs.Mappable()
	assert.Equal(t, "staging.lke.example.com", in["domain"])
	assert.Equal(t, "master", in["type"])
	assert.Equal(t, "platform@example.org", in["soaEmail"])
	assert.Equal(t, []any{"environment:staging"}, in["tags"])
	assert.Contains(t, zone.Parent, "platform:dns:Zone::staging-dns")
	assert.True(t, zone.Protect, "the component's protect reaches the zone")
}

func TestBadArgsRegisterNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		args Args
		want string
	}{
		"zone not a name": {Args{Zone: "staging_lke", SOAEmail: "a@example.org"}, `Zone "staging_lke" is not a DNS name`},
		"no SOA email":    {Args{Zone: "staging.lke.example.com"}, `SOAEmail "" is not an email address`},
		"SOA not email":   {Args{Zone: "staging.lke.example.com", SOAEmail: "example.org"}, `SOAEmail "example.org" is not an email address`},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "staging-dns", &tc.args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.Resources())
		})
	}
}
