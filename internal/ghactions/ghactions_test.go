package ghactions

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAnnotationsAreOneLineEach(t *testing.T) {
	var b strings.Builder
	Error(&b, "smoke: healthz, development", "GET https://a/healthz: 50% of\r\nit")
	Warning(&b, "audit event not sent", "plain")
	assert.Equal(t, "::error title=smoke%3A healthz%2C development::GET https://a/healthz: 50%25 of%0D%0Ait\n"+
		"::warning title=audit event not sent::plain\n", b.String())
}

func TestEnabledOnlyOnGitHubActions(t *testing.T) {
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	assert.True(t, Enabled(func(k string) string { return env[k] }))
	assert.False(t, Enabled(func(string) string { return "" }))
}
