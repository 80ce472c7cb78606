package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One stack's matrix as markdown, exit 0 when it is the intended one.
func TestPrintsAStacksMatrix(t *testing.T) {
	var out strings.Builder
	code, err := run(&out, "../..", "production", "")
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out.String(), "# production (`Pulumi.production.yaml`)\n"), out.String())
	assert.Contains(t, out.String(), "| internet | ingress-nginx/ingress-nginx-controller | TCP 80, 443, 8443 |\n")
	assert.Contains(t, out.String(), "| production-apps/sample-service | kube-system/coredns | TCP 53; UDP 53 |\n")
}

func TestRefusesUnclearArguments(t *testing.T) {
	for _, args := range [][2]string{{"", ""}, {"staging", "docs/reachability.md"}} {
		code, err := run(&strings.Builder{}, "../..", args[0], args[1])
		assert.Equal(t, 1, code)
		assert.EqualError(t, err, "give either -stack NAME or -doc FILE")
	}
	code, err := run(&strings.Builder{}, "../..", "nope", "")
	assert.Equal(t, 1, code)
	assert.ErrorContains(t, err, "stack nope")
}
