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
	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

const componentType = "platform:secrets:Secrets"

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

func TestSealedSecretIsTheObjectOfItsSpec(t *testing.T) {
	c := secretstest.NewController(t)
	args := &secrets.SealedSecretArgs{
		Namespace: "staging-apps", Name: "sample-service", Labels: labels("staging"),
		Data: map[string]string{"api-key": "object-plaintext-3e7a91"},
	}
	obj, err := secrets.SealedSecret(secretstest.Sealer(t), args)
	require.NoError(t, err)
	spec, err := secrets.Spec(secretstest.Sealer(t), args)
	require.NoError(t, err)

	in := manifest.Untyped(obj)
	assert.Equal(t, "bitnami.com/v1alpha1", in["apiVersion"])
	assert.Equal(t, "SealedSecret", in["kind"])
	assert.Equal(t, map[string]any{"name": "sample-service", "namespace": "staging-apps", "labels": anyMap(labels("staging"))}, in["metadata"])
	assert.Equal(t, manifest.Untyped(spec), in["spec"], "sealing is deterministic: the object's spec is Spec's")
	sealed := in["spec"].(map[string]any)["encryptedData"].(map[string]any)["api-key"].(string)
	assert.Equal(t, "object-plaintext-3e7a91", c.Unseal(t, "staging-apps", "sample-service", sealed))
	secretstest.AssertNoPlaintextInData(t, obj, "object-plaintext-3e7a91")
}

func TestSealedSecretRefusesWhatSpecRefuses(t *testing.T) {
	const value = "do-not-print-me-7c1f"
	obj, err := secrets.SealedSecret(nil, &secrets.SealedSecretArgs{Namespace: "ns", Name: "x", Data: map[string]string{"k": value}})
	assert.ErrorContains(t, err, "no Sealer")
	assert.Zero(t, obj)
	obj, err = secrets.SealedSecret(secretstest.Sealer(t), &secrets.SealedSecretArgs{Namespace: "Apps", Name: "x", Data: map[string]string{"a/b": value}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `namespace "Apps"`)
	assert.Contains(t, err.Error(), `key "a/b"`)
	assert.NotContains(t, err.Error(), value)
	assert.Zero(t, obj)
	_, err = secrets.SealedSecret(secretstest.Sealer(t), nil)
	assert.ErrorContains(t, err, "no arguments")
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

func runComponent(t *testing.T, env string) (*mocks.Recorder, *secrets.Secrets) {
	t.Helper()
	var s *secrets.Secrets
	rec, err := mocks.Run(t, env, nil, func(ctx *pulumi.Context) error {
		var err error
		s, err = secrets.New(ctx, "secrets", &secrets.Args{Sealer: secretstest.Sealer(t), Labels: labels(env), Bundles: envBundles(env)})
		return err
	})
	require.NoError(t, err)
	want := []string{env + "-apps/database", env + "-apps/sample-service", "monitoring/alertmanager-slack"}
	sort.Strings(want)
	assert.Equal(t, want, s.Names)
	return rec, s
}

// object returns the component's object of the Secret namespace/name, in map form, failing unless there is one.
func object(t *testing.T, s *secrets.Secrets, namespace, name string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, o := range s.Objects {
		if o.Metadata.Namespace == namespace && o.Metadata.Name == name {
			found = append(found, manifest.Untyped(o))
		}
	}
	require.Len(t, found, 1, "%s/%s", namespace, name)
	return found[0]
}

func TestComponentSealsOneSecretPerBundle(t *testing.T) {
	c := secretstest.NewController(t)
	for _, env := range []string{"development", "staging", "production", "system"} {
		t.Run(env, func(t *testing.T) {
			_, s := runComponent(t, env)
			require.Len(t, s.Objects, 3)
			for i, o := range s.Objects {
				assert.Equal(t, s.Names[i], o.Metadata.Namespace+"/"+o.Metadata.Name, "objects come in Names order")
			}

			db := object(t, s, env+"-apps", "database")
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

			slack := object(t, s, "monitoring", "alertmanager-slack")
			sealed := slack["spec"].(map[string]any)["encryptedData"].(map[string]any)["webhook-url"].(string)
			assert.Equal(t, "https://hooks.slack.com/services/T000/B000/plaintext-hook", c.Unseal(t, "monitoring", "alertmanager-slack", sealed))
		})
	}
}

func TestNoPlaintextReachesAnyRecordedInputOrObject(t *testing.T) {
	for _, env := range []string{"development", "staging", "production", "system"} {
		rec, s := runComponent(t, env)
		secretstest.AssertNoPlaintext(t, rec, plaintexts()...)
		secretstest.AssertNoPlaintextInData(t, s.Objects, plaintexts()...)
	}
}

func TestComponentIsStableAcrossRuns(t *testing.T) {
	firstRec, first := runComponent(t, "staging")
	secondRec, second := runComponent(t, "staging")
	names := func(rec *mocks.Recorder) []string {
		var out []string
		for _, r := range rec.Resources() {
			out = append(out, r.Type+" "+r.Name)
		}
		return out
	}
	assert.Equal(t, names(firstRec), names(secondRec))
	assert.Equal(t, first.Names, second.Names)
	require.Len(t, second.Objects, len(first.Objects))
	for i, o := range first.Objects {
		assert.Equal(t, manifest.Untyped(o), manifest.Untyped(second.Objects[i]), "sealing twice must give the same ciphertext: %s", first.Names[i])
	}
}

func TestComponentRegistersNoChildResources(t *testing.T) {
	for _, env := range []string{"development", "production"} {
		rec, _ := runComponent(t, env)
		require.Len(t, rec.Resources(), 1, env)
		assert.Equal(t, componentType, rec.Resources()[0].Type, env)
		assert.Equal(t, "secrets", rec.Resources()[0].Name, env)
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
