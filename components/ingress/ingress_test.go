package ingress_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/ingress"
	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

const (
	dnsToken      = "linode-pat-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	componentType = "platform:ingress:Ingress"
)

var environments = []string{"development", "staging", "production", "system"}

func labels(env string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/managed-by": "pulumi",
		"app.kubernetes.io/part-of":    "lke-platform",
		"platform.lke/environment":     env,
	}
}

func args(t *testing.T, env string) *ingress.Args {
	return &ingress.Args{
		Environment:          env,
		Production:           env == "production",
		Labels:               labels(env),
		IngressNamespace:     "ingress-nginx",
		CertManagerNamespace: "cert-manager",
		ExternalDNSNamespace: "external-dns",
		Domain:               "platform.example.com",
		ACMEEmail:            "platform-team@example.com",
		Sealer:               secretstest.Sealer(t),
		DNSToken:             dnsToken,
	}
}

func run(t *testing.T, env string, opts ...pulumi.ResourceOption) (*mocks.Recorder, *ingress.Ingress) {
	t.Helper()
	var ing *ingress.Ingress
	rec, err := mocks.Run(t, env, nil, func(ctx *pulumi.Context) error {
		var err error
		ing, err = ingress.New(ctx, "ingress", args(t, env), opts...)
		return err
	})
	require.NoError(t, err)
	return rec, ing
}

func TestComponentBuildsTheIssuerAndTheSealedToken(t *testing.T) {
	c := secretstest.NewController(t)
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			_, ing := run(t, env)
			issuer, server := "letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"
			if env == "production" {
				issuer, server = "letsencrypt-production", "https://acme-v02.api.letsencrypt.org/directory"
			}
			assert.Equal(t, issuer, ing.ClusterIssuer)
			assert.Equal(t, "nginx", ing.IngressClass)
			require.Len(t, ing.Charts, 3)

			// The objects: the ClusterIssuer, then the SealedSecret of the token.
			require.Len(t, ing.Objects, 2)
			ci := manifest.Untyped(ing.Objects[0])
			assert.Equal(t, "cert-manager.io/v1", ci["apiVersion"])
			assert.Equal(t, "ClusterIssuer", ci["kind"])
			meta := ci["metadata"].(map[string]any)
			assert.Equal(t, issuer, meta["name"])
			assert.NotContains(t, meta, "namespace", "a ClusterIssuer is cluster-scoped")
			assert.Equal(t, env, meta["labels"].(map[string]any)["platform.lke/environment"])
			assert.Equal(t, "cert-manager", meta["labels"].(map[string]any)["app.kubernetes.io/name"])
			assert.Equal(t, map[string]any{"acme": map[string]any{
				"server":              server,
				"email":               "platform-team@example.com",
				"privateKeySecretRef": map[string]any{"name": issuer},
				"solvers":             []any{map[string]any{"http01": map[string]any{"ingress": map[string]any{"ingressClassName": "nginx"}}}},
			}}, ci["spec"])

			ss := manifest.Untyped(ing.Objects[1])
			assert.Equal(t, "bitnami.com/v1alpha1", ss["apiVersion"])
			assert.Equal(t, "SealedSecret", ss["kind"])
			ssMeta := ss["metadata"].(map[string]any)
			assert.Equal(t, "external-dns-linode", ssMeta["name"])
			assert.Equal(t, "external-dns", ssMeta["namespace"])
			assert.Equal(t, env, ssMeta["labels"].(map[string]any)["platform.lke/environment"])
			assert.Equal(t, "external-dns", ssMeta["labels"].(map[string]any)["app.kubernetes.io/name"])
			spec := ss["spec"].(map[string]any)
			data := spec["encryptedData"].(map[string]any)
			assert.Len(t, data, 1)
			assert.Equal(t, dnsToken, c.Unseal(t, "external-dns", "external-dns-linode", data["token"].(string)))
			assert.Equal(t, "Opaque", spec["template"].(map[string]any)["type"])
		})
	}
}

func TestComponentRegistersNoChildResources(t *testing.T) {
	for _, env := range environments {
		rec, _ := run(t, env)
		require.Len(t, rec.Resources(), 1, env)
		assert.Equal(t, componentType, rec.Resources()[0].Type, env)
		assert.Equal(t, "ingress", rec.Resources()[0].Name, env)
	}
}

func TestTheDNSTokenNeverReachesARecordedInputOrAnObject(t *testing.T) {
	for _, env := range environments {
		rec, ing := run(t, env)
		secretstest.AssertNoPlaintext(t, rec, dnsToken)
		secretstest.AssertNoPlaintextInData(t, ing.Objects, dnsToken)
	}
}

func TestProtectReachesTheComponent(t *testing.T) {
	rec, _ := run(t, "production", pulumi.Protect(true))
	require.NotEmpty(t, rec.Resources())
	for _, r := range rec.Resources() {
		assert.True(t, r.Protect, "%s %s", r.Type, r.Name)
	}
	rec, _ = run(t, "staging")
	require.NotEmpty(t, rec.Resources())
	for _, r := range rec.Resources() {
		assert.False(t, r.Protect, "%s %s", r.Type, r.Name)
	}
}

func TestSealingIsStableAcrossRuns(t *testing.T) {
	_, first := run(t, "staging")
	_, second := run(t, "staging")
	require.Len(t, first.Objects, 2)
	require.Len(t, second.Objects, 2)
	for i := range first.Objects {
		assert.Equal(t, manifest.Untyped(first.Objects[i]), manifest.Untyped(second.Objects[i]), first.Objects[i].Kind)
	}
}

func TestValidateNamesTheFieldButNeverTheToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*ingress.Args)
		want   string
	}{
		{"environment", func(a *ingress.Args) { a.Environment = "" }, `Environment ""`},
		{"ingress namespace", func(a *ingress.Args) { a.IngressNamespace = "Ingress" }, `IngressNamespace "Ingress"`},
		{"cert-manager namespace", func(a *ingress.Args) { a.CertManagerNamespace = "" }, `CertManagerNamespace ""`},
		{"external-dns namespace", func(a *ingress.Args) { a.ExternalDNSNamespace = "external_dns" }, `ExternalDNSNamespace "external_dns"`},
		{"domain empty", func(a *ingress.Args) { a.Domain = "" }, `Domain ""`},
		{"domain single label", func(a *ingress.Args) { a.Domain = "localhost" }, "at least two labels"},
		{"domain upper case", func(a *ingress.Args) { a.Domain = "Example.com" }, `Domain "Example.com"`},
		{"domain trailing dot", func(a *ingress.Args) { a.Domain = "example.com." }, `Domain "example.com."`},
		{"domain label with leading hyphen", func(a *ingress.Args) { a.Domain = "-a.example.com" }, `Domain "-a.example.com"`},
		{"email not an address", func(a *ingress.Args) { a.ACMEEmail = "platform-team" }, `ACMEEmail "platform-team": not an email address`},
		{"email with a display name", func(a *ingress.Args) { a.ACMEEmail = "Platform <platform@example.com>" }, "bare address"},
		{"token empty", func(a *ingress.Args) { a.DNSToken = "" }, "DNSToken is empty"},
		{"token blank", func(a *ingress.Args) { a.DNSToken = " \n" }, "DNSToken is empty"},
		{"no sealer", func(a *ingress.Args) { a.Sealer = nil }, "Sealer is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args(t, "staging")
			tc.change(a)
			err := a.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), dnsToken)
		})
	}
	require.NoError(t, args(t, "staging").Validate())
}

func TestAllProblemsAreReportedAtOnceAndNothingIsRegistered(t *testing.T) {
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		a := args(t, "staging")
		a.Domain, a.ACMEEmail = "bad_domain", "nobody"
		_, err := ingress.New(ctx, "ingress", a)
		return err
	})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "Domain") && strings.Contains(err.Error(), "ACMEEmail"), err.Error())
	assert.NotContains(t, err.Error(), dnsToken)
	assert.Empty(t, rec.Resources())
}

func TestIssuer(t *testing.T) {
	for _, tc := range []struct {
		production   bool
		name, server string
	}{
		{true, "letsencrypt-production", "https://acme-v02.api.letsencrypt.org/directory"},
		{false, "letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"},
	} {
		assert.Equal(t, tc.name, ingress.IssuerName(tc.production))
		assert.Equal(t, tc.server, ingress.ACMEServer(tc.production))
		spec := ingress.IssuerSpec(tc.production, "ops@example.com")
		assert.Equal(t, tc.server, spec.ACME.Server)
		assert.Equal(t, "ops@example.com", spec.ACME.Email)
		assert.Equal(t, tc.name, spec.ACME.PrivateKeySecretRef.Name)
		require.Len(t, spec.ACME.Solvers, 1)
		assert.Equal(t, "nginx", spec.ACME.Solvers[0].HTTP01.Ingress.IngressClassName)
	}
}
