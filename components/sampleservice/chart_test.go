package sampleservice

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/helmrender"
)

// chartDir is charts/sample-service, from this package's folder.
var chartDir = filepath.Join("..", "..", filepath.FromSlash(ChartPath))

// TestChartRefusesBadValues: the schema refuses unknown keys and wrong types, and the chart refuses a replica
// range the wrong way round, each with the key named, before anything is rendered.
func TestChartRefusesBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(v map[string]any)
		want string
	}{
		"mistyped key":  {func(v map[string]any) { v["imgae"] = "x" }, "additional properties 'imgae' not allowed"},
		"wrong type":    {func(v map[string]any) { v["autoscaling"] = map[string]any{"minReplicas": "2", "maxReplicas": 3} }, "minReplicas"},
		"missing host":  {func(v map[string]any) { delete(v, "host") }, "host"},
		"bad host":      {func(v map[string]any) { v["host"] = "Sample Service" }, "host"},
		"replica range": {func(v map[string]any) { v["autoscaling"] = map[string]any{"minReplicas": 4, "maxReplicas": 3} }, "autoscaling.minReplicas (4) is above autoscaling.maxReplicas (3)"},
	} {
		t.Run(name, func(t *testing.T) {
			values := testArgs("development").Values()
			tc.edit(values)
			_, err := helmrender.Render(chartDir, helmrender.Release{Name: AppName, Namespace: "development-apps"}, values)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// normalize gives a value the shapes JSON decoding gives (numbers float64, maps map[string]any), so a
// declared input and a rendered object compare field by field.
func normalize(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
