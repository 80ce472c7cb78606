package pack

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func binding(typ, name string, annotations map[string]any, subjects ...map[string]any) policyx.AnalyzerResource {
	m := meta(name, "")
	if annotations != nil {
		m["annotations"] = annotations
	}
	list := make([]any, len(subjects))
	for i, s := range subjects {
		list[i] = s
	}
	return res(typ, name, map[string]any{
		"metadata": m, "subjects": list,
		"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
	})
}

func subject(kind, name string) map[string]any { return map[string]any{"kind": kind, "name": name} }

func TestAccessPolicy(t *testing.T) {
	p := accessPolicy(func() time.Time { return testNow })
	in := func(d time.Duration) map[string]any {
		return map[string]any{expiresAtAnnotation: testNow.Add(d).Format(time.RFC3339)}
	}
	check := func(r policyx.AnalyzerResource, cfg map[string]any) []string { return checkResource(t, p, r, cfg) }

	t.Run("pass", func(t *testing.T) {
		assert.Empty(t, check(binding(roleBindingType, "oncall-alice", in(8*time.Hour), subject("User", "alice@example.com")), nil))
		assert.Empty(t, check(binding(clusterRoleBindingType, "sre-view", in(24*time.Hour), subject("Group", "sre")), nil))
		assert.Empty(t, check(binding(roleBindingType, "controller", nil, subject("ServiceAccount", "argocd")), nil), "workload identity")
		assert.Empty(t, check(binding(clusterRoleBindingType, "nodes", nil, subject("Group", "system:nodes")), nil), "Kubernetes' own identities")
		assert.Empty(t, check(res(secretType, "tls", map[string]any{"metadata": meta("tls", "apps"), "type": "kubernetes.io/tls"}), nil))
		assert.Empty(t, check(res(linodeTokenType, "ci", map[string]any{"expiry": "2026-11-25T20:00:00Z"}), nil))
		assert.Empty(t, check(res(linodeTokenType, "ci", map[string]any{"expiry": unknown}), nil), "unknown in a preview")
		assert.Empty(t, check(res(namespaceType, "apps", map[string]any{"metadata": meta("apps", "")}), nil), "not an access package")
		assert.Empty(t, check(binding(roleBindingType, "oncall", in(30*time.Hour), subject("User", "alice")), map[string]any{"maxHours": float64(48)}), "configured limit")
	})

	t.Run("fail: service-account-token Secret", func(t *testing.T) {
		sec := res(secretType, "ci-token", map[string]any{
			"metadata": meta("ci-token", "apps"), "type": resource.MakeSecret(resource.NewStringProperty(serviceAccountToken)),
		})
		got := check(sec, nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `kubernetes:core/v1:Secret "ci-token" (namespace "apps"): is a kubernetes.io/service-account-token Secret, a token that never expires. Fix:`)
		assert.Contains(t, got[0], "kubectl create token --duration=24h")
	})
	t.Run("fail: grant to a person without expiry", func(t *testing.T) {
		got := check(binding(clusterRoleBindingType, "alice-admin", nil, subject("ServiceAccount", "x"), subject("User", "alice")), nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding "alice-admin": the grant to User "alice" has no expiry, so it never expires (annotation platform.lke/expires-at). Fix: annotate it`)
	})
	t.Run("fail: too long, expired, unparseable", func(t *testing.T) {
		got := check(binding(roleBindingType, "oncall", in(25*time.Hour), subject("Group", "oncall")), nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "25h0m0s from now; the most allowed is 24h0m0s")
		assert.Len(t, check(binding(roleBindingType, "oncall", in(-time.Minute), subject("Group", "oncall")), nil), 1)
		assert.Len(t, check(binding(roleBindingType, "oncall", map[string]any{expiresAtAnnotation: "friday"}, subject("Group", "oncall")), nil), 1)
	})
	t.Run("fail: labelled access package or any annotated object", func(t *testing.T) {
		kubeconfig := res(secretType, "alice-kubeconfig", map[string]any{"metadata": map[string]any{
			"name": "alice-kubeconfig", "labels": map[string]any{accessPackageLabel: "alice"},
		}})
		got := check(kubeconfig, nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "the access package has no expiry")
		sa := res("kubernetes:core/v1:ServiceAccount", "temp", map[string]any{"metadata": map[string]any{
			"name": "temp", "annotations": in(72 * time.Hour),
		}})
		assert.Len(t, check(sa, nil), 1)
	})
	t.Run("fail: Linode token without expiry", func(t *testing.T) {
		got := check(res(linodeTokenType, "ci", map[string]any{"label": "ci"}), nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `linode:index/token:Token "ci": the Linode API token has no expiry, so it never expires. Fix: set expiry`)
	})
}
