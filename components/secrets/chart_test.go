package secrets_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/platform-eng/lke-platform/components/secrets"
)

func TestControllerChart(t *testing.T) {
	c := secrets.ControllerChart("sealed-secrets")
	assert.Equal(t, "sealed-secrets", c.Name)
	assert.Equal(t, "sealed-secrets", c.Namespace)
	assert.Equal(t, "https://bitnami-labs.github.io/sealed-secrets", c.RepoURL)
	assert.Equal(t, "sealed-secrets", c.Chart)
	assert.Equal(t, "2.19.3", c.Version)

	v := c.Values
	assert.Equal(t, "sealed-secrets-controller", v["fullnameOverride"], "kubeseal's default controller name")
	assert.Equal(t, map[string]any{"tag": "0.40.0"}, v["image"], "the controller matches the module and its vendored CRD")
	assert.NotContains(t, v, "crds", "the chart has no CRD switch; Argo CD's skipCrds applies")
	assert.Equal(t, map[string]any{"serviceMonitor": map[string]any{"enabled": true}}, v["metrics"])

	res := v["resources"].(map[string]any)
	assert.Contains(t, res, "requests")
	assert.Contains(t, res, "limits")

	sc := v["containerSecurityContext"].(map[string]any)
	assert.Equal(t, true, sc["runAsNonRoot"])
	assert.Equal(t, false, sc["allowPrivilegeEscalation"])
	assert.Equal(t, true, sc["readOnlyRootFilesystem"])
	assert.Equal(t, map[string]any{"drop": []any{"ALL"}}, sc["capabilities"])
	assert.Equal(t, map[string]any{"type": "RuntimeDefault"}, sc["seccompProfile"])
	assert.Equal(t, map[string]any{"type": "RuntimeDefault"}, v["podSecurityContext"].(map[string]any)["seccompProfile"])
}
