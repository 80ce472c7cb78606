package pack

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSettingsReadPolicyConfig(t *testing.T) {
	n := intSetting{Key: "n", Default: 24, Min: 1}
	for cfg, want := range map[*map[string]any]int{
		{}:                          24,
		{"n": nil}:                  24,
		{"n": float64(48)}:          48, // JSON, as the engine delivers it
		{"n": 12}:                   12,
		{"other": "x", "n": 1.0000}: 1,
	} {
		got, err := n.from(*cfg)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	for _, bad := range []any{"24", 2.5, float64(0), true} {
		_, err := n.from(map[string]any{"n": bad})
		assert.ErrorContains(t, err, "policy config n", "%v", bad)
	}

	list := stringsSetting{Key: "l", Default: []string{"a"}}
	got, err := list.from(nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, got)
	got[0] = "changed"
	again, _ := list.from(nil)
	assert.Equal(t, []string{"a"}, again, "the default is not shared")
	got, err = list.from(map[string]any{"l": []any{"x", "y"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, got)
	_, err = list.from(map[string]any{"l": []any{"x", 1.0}})
	assert.ErrorContains(t, err, "l[1]")
	_, err = list.from(map[string]any{"l": "x"})
	assert.ErrorContains(t, err, "want a list of strings")

	s := stringSetting{Key: "s", Default: "d"}
	str, err := s.from(map[string]any{"s": "v"})
	require.NoError(t, err)
	assert.Equal(t, "v", str)
	_, err = s.from(map[string]any{"s": 1.0})
	assert.ErrorContains(t, err, "want a string")
}

// Each default must satisfy its own schema, or the engine would refuse the pack's defaults.
func TestSettingDefaultsMatchTheirSchema(t *testing.T) {
	pattern := regexp.MustCompile(quantityPattern)
	for _, q := range []quantitySetting{maxRequestsCPU, maxRequestsMemory, maxLimitsCPU, maxLimitsMemory} {
		assert.Regexp(t, pattern, q.Default, q.Key)
		_, err := q.from(nil)
		assert.NoError(t, err, q.Key)
	}
	for _, bad := range []string{"32 cores", "-1", "1.5.2Gi", ""} {
		assert.NotRegexp(t, pattern, bad)
	}
	for _, n := range []intSetting{maxPods, maxServices, minApprovers, maxValidityHours, maxAccessHours} {
		assert.GreaterOrEqual(t, n.Default, n.Min, n.Key)
	}
}
