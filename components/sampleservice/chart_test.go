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

// TestChartRendersWhatTheComponentDeclares renders charts/sample-service with Helm's SDK and the values Args.Values
// gives, for every environment, and compares each object with the one the component declares: the chart Argo CD
// reconciles and the component are the same service, object for object and field for field.
func TestChartRendersWhatTheComponentDeclares(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			args := testArgs(env)
			rendered, err := helmrender.Render(chartDir, helmrender.Release{Name: AppName, Namespace: args.Namespace}, args.Values())
			require.NoError(t, err)
			rec := run(t, args)
			tokens := []string{deploymentType, serviceType, ingressType, hpaType, pdbType, serviceMonitorType, ruleType}
			require.Len(t, rendered, len(tokens), "one rendered object per object of the component")
			byKind := map[string]map[string]any{}
			for _, obj := range rendered {
				byKind[obj.GetAPIVersion()+":"+obj.GetKind()] = normalize(t, obj.Object)
			}
			for _, token := range tokens {
				declared := normalize(t, inputs(t, rec, token))
				// Pulumi's await switch is the program's business, not the object's.
				if annotations, ok := at(t, declared, "metadata").(map[string]any)["annotations"].(map[string]any); ok {
					delete(annotations, "pulumi.com/skipAwait")
				}
				key := declared["apiVersion"].(string) + ":" + declared["kind"].(string)
				require.Contains(t, byKind, key, "the chart renders no %s", key)
				assert.Equal(t, declared, byKind[key], "%s: the chart and the component differ", key)
			}
		})
	}
}

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
