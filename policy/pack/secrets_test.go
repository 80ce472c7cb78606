package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func secret(name, ns string, fields map[string]any) policyx.AnalyzerResource {
	p := map[string]any{"metadata": meta(name, ns)}
	for k, v := range fields {
		p[k] = v
	}
	return res(secretType, name, p)
}

func TestLiteralSecretsPolicy(t *testing.T) {
	p := literalSecretsPolicy()
	token := map[string]any{"token": "aGVsbG8="}
	assert.Empty(t, checkResource(t, p, secret("argocd-repo", "argocd", map[string]any{"stringData": map[string]any{"url": "https://git.example/repo"}}), nil),
		"Argo CD's namespace")
	assert.Empty(t, checkResource(t, p, secret("empty", "production-apps", nil), nil), "no data")
	assert.Empty(t, checkResource(t, p, secret("empty", "production-apps", map[string]any{"data": map[string]any{}}), nil), "empty data")
	assert.Empty(t, checkResource(t, p, res("kubernetes:bitnami.com/v1alpha1:SealedSecret", "sealed",
		map[string]any{"metadata": meta("sealed", "production-apps"), "spec": map[string]any{"encryptedData": token}}), nil), "sealed")
	assert.Empty(t, checkResource(t, p, secret("later", "production-apps", map[string]any{"data": unknown}), nil),
		"data still to be computed: checked on the update")

	got := checkResource(t, p, secret("db", "production-apps", map[string]any{
		"data": token, "stringData": map[string]any{"password": "hunter2", "token": "again"},
	}), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:core/v1:Secret "db" (namespace "production-apps"): holds literal data (keys password, token) in namespace "production-apps"`)
	assert.Contains(t, got[0], "Fix: seal the values instead")
	assert.NotContains(t, got[0], "hunter2", "a value is never shown")
	assert.NotContains(t, got[0], "aGVsbG8=", "a value is never shown")

	secretValue := resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(token)))
	wrapped := policyx.AnalyzerResource{Type: secretType, Name: "db", URN: "urn:pulumi:test::lke-platform::" + secretType + "::db",
		Properties: resource.FromResourcePropertyMap(resource.PropertyMap{
			"metadata": resource.NewObjectProperty(resource.NewPropertyMapFromMap(meta("db", "production-apps"))),
			"data":     secretValue,
		})}
	assert.Len(t, checkResource(t, p, wrapped, nil), 1, "data marked secret, as the program's secrets are")
	assert.Len(t, checkResource(t, p, secret("db", "argocd", map[string]any{"data": token}), map[string]any{"literalSecretNamespaces": []any{"other"}}), 1,
		"the exemption is policy config")
}
