package names

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlatform(t *testing.T) {
	assert.Equal(t, "platform-staging", Platform("staging"))
	assert.Equal(t, "platform-staging-infrastructure", Platform("staging", "infrastructure"))
	assert.Equal(t, "platform-production-sample-service", Platform("production", "sample-service"))
}

func TestDNSLabel(t *testing.T) {
	for _, ok := range []string{"a", "apps", "development-apps", "a1", "1a", strings.Repeat("a", 63)} {
		assert.True(t, DNSLabel.MatchString(ok), ok)
	}
	for _, bad := range []string{"", "-a", "a-", "A", "a_b", "a.b", strings.Repeat("a", 64), "apps\n"} {
		assert.False(t, DNSLabel.MatchString(bad), "%q", bad)
	}
}
