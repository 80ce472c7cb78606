package ingress_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/ingress"
)

func chartsByName(t *testing.T, env string) map[string]gitops.Chart {
	out := map[string]gitops.Chart{}
	for _, c := range ingress.Charts(args(t, env)) {
		out[c.Name] = c
	}
	return out
}

func TestChartsArePinnedAndInstalledIntoTheirNamespaces(t *testing.T) {
	for _, env := range environments {
		charts := chartsByName(t, env)
		for _, want := range []gitops.Chart{
			{Name: "ingress-nginx", Namespace: "ingress-nginx", RepoURL: "https://kubernetes.github.io/ingress-nginx", Chart: "ingress-nginx", Version: "4.15.1"},
			{Name: "cert-manager", Namespace: "cert-manager", RepoURL: "https://charts.jetstack.io", Chart: "cert-manager", Version: "v1.21.2"},
			{Name: "external-dns", Namespace: "external-dns", RepoURL: "https://kubernetes-sigs.github.io/external-dns/", Chart: "external-dns", Version: "1.21.1"},
		} {
			got, ok := charts[want.Name]
			require.True(t, ok, want.Name)
			got.Values = nil
			assert.Equal(t, want, got, env)
		}
	}
}

func TestIngressNginxValues(t *testing.T) {
	v := chartsByName(t, "staging")["ingress-nginx"].Values
	ctl := v["controller"].(map[string]any)
	assert.Equal(t, map[string]any{
		"name": "nginx", "enabled": true, "default": true, "controllerValue": "k8s.io/ingress-nginx",
	}, ctl["ingressClassResource"])
	assert.Equal(t, "nginx", ctl["ingressClass"])
	assert.Equal(t, map[string]any{"type": "LoadBalancer"}, ctl["service"])
	assert.Equal(t, map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}, ctl["metrics"])
	assert.Equal(t, true, ctl["admissionWebhooks"].(map[string]any)["enabled"])
	assert.Equal(t, false, ctl["allowSnippetAnnotations"])
	hasRequestsAndLimits(t, ctl["resources"])
	hasRequestsAndLimits(t, ctl["admissionWebhooks"].(map[string]any)["createSecretJob"].(map[string]any)["resources"])
	hasRequestsAndLimits(t, ctl["admissionWebhooks"].(map[string]any)["patchWebhookJob"].(map[string]any)["resources"])

	sc := ctl["containerSecurityContext"].(map[string]any)
	assert.Equal(t, true, sc["runAsNonRoot"])
	assert.Equal(t, false, sc["allowPrivilegeEscalation"])
	assert.Equal(t, map[string]any{"drop": []any{"ALL"}, "add": []any{"NET_BIND_SERVICE"}}, sc["capabilities"])
	assert.Equal(t, map[string]any{"type": "RuntimeDefault"}, sc["seccompProfile"])
	assert.Equal(t, map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}, ctl["podSecurityContext"])
	assert.Equal(t, map[string]any{"platform.lke/environment": "staging"}, v["commonLabels"],
		"the charts set app.kubernetes.io/ labels themselves")
}

func TestCertManagerValues(t *testing.T) {
	v := chartsByName(t, "production")["cert-manager"].Values
	assert.Equal(t, map[string]any{"enabled": false, "keep": true}, v["crds"], "the CRDs Application owns the CRDs")
	assert.Equal(t, map[string]any{"enabled": true, "servicemonitor": map[string]any{"enabled": true}}, v["prometheus"])
	assert.Equal(t, map[string]any{
		"commonLabels":   map[string]any{"platform.lke/environment": "production"},
		"leaderElection": map[string]any{"namespace": "cert-manager"},
	}, v["global"])
	for _, component := range []map[string]any{v, v["webhook"].(map[string]any), v["cainjector"].(map[string]any), v["startupapicheck"].(map[string]any)} {
		hasRequestsAndLimits(t, component["resources"])
		assert.Equal(t, map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}, component["securityContext"])
		assert.Equal(t, map[string]any{
			"allowPrivilegeEscalation": false,
			"readOnlyRootFilesystem":   true,
			"capabilities":             map[string]any{"drop": []any{"ALL"}},
			"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
		}, component["containerSecurityContext"])
	}
}

func TestExternalDNSValues(t *testing.T) {
	for _, tc := range []struct{ env, policy string }{
		{"development", "sync"}, {"staging", "sync"}, {"production", "upsert-only"}, {"system", "sync"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			v := chartsByName(t, tc.env)["external-dns"].Values
			assert.Equal(t, map[string]any{"name": "linode"}, v["provider"])
			assert.Equal(t, []any{map[string]any{
				"name":      "LINODE_TOKEN",
				"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "external-dns-linode", "key": "token"}},
			}}, v["env"])
			// The environment's own zone: the Linode provider lists only the zones a filter matches, never a parent.
			assert.Equal(t, []any{tc.env + ".platform.example.com"}, v["domainFilters"])
			assert.Equal(t, "platform-"+tc.env, v["txtOwnerId"])
			assert.Equal(t, []any{"ingress"}, v["sources"])
			assert.Equal(t, tc.policy, v["policy"])
			assert.Equal(t, map[string]any{"enabled": true}, v["serviceMonitor"])
			hasRequestsAndLimits(t, v["resources"])
			sc := v["securityContext"].(map[string]any)
			assert.Equal(t, true, sc["readOnlyRootFilesystem"])
			assert.Equal(t, true, sc["runAsNonRoot"])
			assert.Equal(t, false, sc["allowPrivilegeEscalation"])
			assert.Equal(t, map[string]any{"drop": []any{"ALL"}}, sc["capabilities"])
			assert.Equal(t, map[string]any{"type": "RuntimeDefault"}, sc["seccompProfile"])
		})
	}
}

func TestChartValuesNeverCarryTheToken(t *testing.T) {
	for _, env := range environments {
		for _, c := range ingress.Charts(args(t, env)) {
			assert.NotContains(t, strings.Join(flatten(c.Values), "\n"), dnsToken, c.Name)
		}
	}
}

func hasRequestsAndLimits(t *testing.T, v any) {
	t.Helper()
	r, ok := v.(map[string]any)
	require.True(t, ok, "resources: %v", v)
	for _, k := range []string{"requests", "limits"} {
		m, ok := r[k].(map[string]any)
		require.True(t, ok, k)
		assert.NotEmpty(t, m["cpu"], k)
		assert.NotEmpty(t, m["memory"], k)
	}
}

// flatten lists the strings of a values tree.
func flatten(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, k)
			out = append(out, flatten(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return nil
}
