package gitops

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// argocd-cm keeps upstream's settings and gains the one diff exception, exactly the claim templates' apiVersion
// and kind.
func TestArgoCDSettingsIgnoreOnlyTheClaimTemplatesTypeFields(t *testing.T) {
	objs, err := ArgoCDObjects(bootstrapArgs("staging"))
	require.NoError(t, err)
	cm, err := findObject(objs, "ConfigMap", SettingsConfigMap)
	require.NoError(t, err)
	data := cm["data"].(map[string]any)
	assert.Contains(t, data, "resource.exclusions", "upstream's settings stay")
	var ignored map[string][]string
	require.NoError(t, yaml.Unmarshal([]byte(data[statefulSetDiffKey].(string)), &ignored))
	assert.Equal(t, map[string][]string{"jqPathExpressions": {
		".spec.volumeClaimTemplates[]?.apiVersion", ".spec.volumeClaimTemplates[]?.kind",
	}}, ignored)
}
