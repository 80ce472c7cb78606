package secrets_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

const sealedSecretType = "kubernetes:bitnami.com/v1alpha1:SealedSecret"

func labels(env string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/managed-by": "pulumi",
		"app.kubernetes.io/part-of":    "lke-platform",
		"platform.lke/environment":     env,
	}
}

func TestSpecSealsEveryKeyAndDescribesTheSecret(t *testing.T) {
	c := secretstest.NewController(t)
	spec, err := secrets.Spec(secretstest.Sealer(t), &secrets.SealedSecretArgs{
		Namespace: "staging-apps", Name: "sample-service", Labels: labels("staging"),
		Data: map[string]string{"b-key": "value-b-9f8e7d", "a.key": "value-a-1a2b3c"},
	})
	require.NoError(t, err)

	assert.Equal(t, secrets.SecretTemplate{
		Metadata: secrets.TemplateMetadata{Name: "sample-service", Namespace: "staging-apps", Labels: labels("staging")},
		Type:     "Opaque",
	}, spec.Template)
	require.Len(t, spec.EncryptedData, 2)
	assert.Equal(t, "value-a-1a2b3c", c.Unseal(t, "staging-apps", "sample-service", spec.EncryptedData["a.key"]))
	assert.Equal(t, "value-b-9f8e7d", c.Unseal(t, "staging-apps", "sample-service", spec.EncryptedData["b-key"]))

	tls, err := secrets.Spec(secretstest.Sealer(t), &secrets.SealedSecretArgs{
		Namespace: "ns", Name: "cert", Type: "kubernetes.io/tls", Data: map[string]string{"tls.crt": "x", "tls.key": "y"},
	})
	require.NoError(t, err)
	assert.Equal(t, "kubernetes.io/tls", tls.Template.Type)
}

func TestSpecRefusesBadNamesAndKeysWithoutShowingValues(t *testing.T) {
	const value = "do-not-print-me-7c1f"
	for _, tc := range []struct {
		name string
		args secrets.SealedSecretArgs
		want string
	}{
		{"namespace not a label", secrets.SealedSecretArgs{Namespace: "Apps", Name: "x", Data: map[string]string{"k": value}}, `namespace "Apps"`},
		{"namespace empty", secrets.SealedSecretArgs{Name: "x", Data: map[string]string{"k": value}}, `namespace ""`},
		{"name not a subdomain", secrets.SealedSecretArgs{Namespace: "ns", Name: "my_secret", Data: map[string]string{"k": value}}, `name "my_secret"`},
		{"name too long", secrets.SealedSecretArgs{Namespace: "ns", Name: strings.Repeat("a", 254), Data: map[string]string{"k": value}}, "must be no more than 253"},
		{"key with a slash", secrets.SealedSecretArgs{Namespace: "ns", Name: "x", Data: map[string]string{"a/b": value}}, `key "a/b"`},
		{"key dot-dot", secrets.SealedSecretArgs{Namespace: "ns", Name: "x", Data: map[string]string{"..": value}}, `key ".."`},
		{"no data", secrets.SealedSecretArgs{Namespace: "ns", Name: "x"}, "no data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secrets.Spec(secretstest.Sealer(t), &tc.args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), value)
		})
	}
	_, err := secrets.Spec(nil, &secrets.SealedSecretArgs{Namespace: "ns", Name: "x", Data: map[string]string{"k": value}})
	assert.ErrorContains(t, err, "no Sealer")
}

var bundles = []secrets.Bundle{
	{Name: "sample-service", Namespace: "ENV-apps", Data: map[string]string{"api-key": "bundle-plaintext-api-key-5d41402a"}},
	{Name: "alertmanager-slack", Namespace: "monitoring", Data: map[string]string{"webhook-url": "https://hooks.slack.com/services/T000/B000/plaintext-hook"}},
	{Name: "database", Namespace: "ENV-apps", Data: map[string]string{"password": "bundle-plaintext-password-7b52009b", "user": "bundle-plaintext-user-a1"}},
}

func envBundles(env string) []secrets.Bundle {
	out := make([]secrets.Bundle, len(bundles))
	for i, b := range bundles {
		b.Namespace = strings.ReplaceAll(b.Namespace, "ENV", env)
		out[i] = b
	}
	return out
}

func plaintexts() []string {
	var out []string
	for _, b := range bundles {
		for _, v := range b.Data {
			out = append(out, v)
		}
	}
	return out
}

func runComponent(t *testing.T, env string) *mocks.Recorder {
	t.Helper()
	rec, err := mocks.Run(t, env, nil, func(ctx *pulumi.Context) error {
		s, err := secrets.New(ctx, "secrets", &secrets.Args{Sealer: secretstest.Sealer(t), Labels: labels(env), Bundles: envBundles(env)})
		if err != nil {
			return err
		}
		want := []string{env + "-apps/database", env + "-apps/sample-service", "monitoring/alertmanager-slack"}
		sort.Strings(want)
		assert.Equal(t, want, s.Names)
		return nil
	})
	require.NoError(t, err)
	return rec
}

func TestComponentSealsOneSecretPerBundle(t *testing.T) {
	c := secretstest.NewController(t)
	for _, env := range []string{"development", "staging", "production", "system"} {
		t.Run(env, func(t *testing.T) {
			rec := runComponent(t, env)
			require.Len(t, rec.OfType(sealedSecretType), 3)

			db := rec.One(t, sealedSecretType, "secrets-"+env+"-apps/database").Inputs.Mappable()
			assert.Equal(t, "bitnami.com/v1alpha1", db["apiVersion"])
			assert.Equal(t, "SealedSecret", db["kind"])
			assert.Equal(t, map[string]any{"name": "database", "namespace": env + "-apps", "labels": anyMap(labels(env))}, db["metadata"])
			spec := db["spec"].(map[string]any)
			assert.Equal(t, map[string]any{
				"metadata": map[string]any{"name": "database", "namespace": env + "-apps", "labels": anyMap(labels(env))},
				"type":     "Opaque",
			}, spec["template"])
			data := spec["encryptedData"].(map[string]any)
			assert.Len(t, data, 2)
			assert.Equal(t, "bundle-plaintext-password-7b52009b", c.Unseal(t, env+"-apps", "database", data["password"].(string)))

			slack := rec.One(t, sealedSecretType, "secrets-monitoring/alertmanager-slack").Inputs.Mappable()
			sealed := slack["spec"].(map[string]any)["encryptedData"].(map[string]any)["webhook-url"].(string)
			assert.Equal(t, "https://hooks.slack.com/services/T000/B000/plaintext-hook", c.Unseal(t, "monitoring", "alertmanager-slack", sealed))
		})
	}
}

func TestNoPlaintextReachesAnyRecordedInput(t *testing.T) {
	for _, env := range []string{"development", "staging", "production", "system"} {
		secretstest.AssertNoPlaintext(t, runComponent(t, env), plaintexts()...)
	}
}

func TestComponentIsStableAcrossRuns(t *testing.T) {
	first, second := runComponent(t, "staging"), runComponent(t, "staging")
	names := func(rec *mocks.Recorder) []string {
		var out []string
		for _, r := range rec.Resources() {
			out = append(out, r.Type+" "+r.Name)
		}
		return out
	}
	assert.Equal(t, names(first), names(second))
	for _, r := range first.OfType(sealedSecretType) {
		again := second.One(t, sealedSecretType, r.Name)
		assert.Equal(t, r.Inputs.Mappable(), again.Inputs.Mappable(), "sealing twice must give the same ciphertext: %s", r.Name)
	}
}

func TestChildrenAreParentedToTheComponent(t *testing.T) {
	for _, r := range runComponent(t, "production").OfType(sealedSecretType) {
		assert.Contains(t, r.Parent, "platform:secrets:Secrets::secrets", r.Name)
	}
}

func TestComponentRefusesBadBundlesBeforeRegisteringAnything(t *testing.T) {
	for _, tc := range []struct {
		name string
		args secrets.Args
		want string
	}{
		{"no sealer", secrets.Args{Bundles: envBundles("staging")}, "no Sealer"},
		{"duplicate", secrets.Args{Sealer: secretstest.Sealer(t), Bundles: []secrets.Bundle{
			{Name: "a", Namespace: "ns", Data: map[string]string{"k": "v1"}},
			{Name: "a", Namespace: "ns", Data: map[string]string{"k": "v2"}},
		}}, "bundle ns/a is declared twice"},
		{"bad key", secrets.Args{Sealer: secretstest.Sealer(t), Bundles: []secrets.Bundle{
			{Name: "a", Namespace: "ns", Data: map[string]string{"bad key": "hidden-value-123"}},
		}}, `key "bad key"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				_, err := secrets.New(ctx, "secrets", &tc.args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hidden-value-123")
			assert.Empty(t, rec.Resources())
		})
	}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
