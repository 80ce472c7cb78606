package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/rules"
)

func TestRefusalsJudgeTheObject(t *testing.T) {
	object := func(image string) map[string]any {
		return map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "namespace": "production-apps"},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "web", "image": image, "resources": map[string]any{
					"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
					"limits":   map[string]any{"cpu": "500m", "memory": "256Mi"},
				}}},
			}}},
		}
	}
	r, err := KubernetesResource(object("registry.example/web:1.4.2"))
	require.NoError(t, err)
	assert.Equal(t, "kubernetes:apps/v1:Deployment", r.Type)
	refused, err := Refusals(t.Context(), stackFor(production, true), RealWorld, r)
	require.NoError(t, err)
	assert.Empty(t, refused, "a compliant object on production: protection is Pulumi's option, not the object's")

	r, err = KubernetesResource(object("registry.example/web:latest"))
	require.NoError(t, err)
	refused, err = Refusals(t.Context(), stackFor(production, true), RealWorld, r)
	require.NoError(t, err)
	require.Contains(t, refused, rules.ImagesPinned)
	assert.Len(t, refused, 1)
	assert.Contains(t, refused[rules.ImagesPinned][0], `container "web" image "registry.example/web:latest"`)

	core, err := KubernetesResource(map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web"}})
	require.NoError(t, err)
	assert.Equal(t, "kubernetes:core/v1:Service", core.Type)
	_, err = KubernetesResource(map[string]any{"kind": "Service"})
	assert.ErrorContains(t, err, "not a Kubernetes object")
}
