package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrivilegePolicy(t *testing.T) {
	p := privilegePolicy()
	privileged := goodContainer("agent")
	privileged["securityContext"] = map[string]any{"privileged": true}
	unprivileged := goodContainer("app")
	unprivileged["securityContext"] = map[string]any{"privileged": false, "runAsNonRoot": true}
	hostNet := map[string]any{"hostNetwork": true, "containers": []any{goodContainer("app")}}

	assert.Empty(t, checkResource(t, p, deployment("web", "staging-apps", map[string]any{"containers": []any{unprivileged}}), nil))
	assert.Empty(t, checkResource(t, p, deployment("cni", "kube-system", map[string]any{"hostNetwork": true, "containers": []any{privileged}}), nil))
	assert.Empty(t, checkResource(t, p, deployment("exporter", "monitoring", hostNet), nil))
	inUnknown := res("kubernetes:apps/v1:Deployment", "agent", map[string]any{
		"metadata": map[string]any{"name": "agent", "namespace": unknown},
		"spec":     map[string]any{"template": map[string]any{"spec": hostNet}},
	})
	assert.Empty(t, checkResource(t, p, inUnknown, nil), "unknown namespace in a preview")

	got := checkResource(t, p, deployment("agent", "staging-apps", map[string]any{"hostNetwork": true, "hostPID": true, "containers": []any{privileged}}), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:apps/v1:Deployment "agent" (namespace "staging-apps"): sets hostNetwork: true; sets hostPID: true; container "agent" is privileged in namespace "staging-apps", which is not a system namespace (kube-system, ingress-nginx, monitoring). Fix: drop securityContext.privileged`)

	got = checkResource(t, p, deployment("exporter", "monitoring", hostNet), map[string]any{"systemNamespaces": []any{"kube-system"}})
	assert.Len(t, got, 1, "configured system namespaces")

	ds := res("kubernetes:apps/v1:DaemonSet", "agent", map[string]any{"metadata": meta("agent", "staging-apps"), "spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"initContainers": []any{privileged}, "containers": []any{goodContainer("app")},
	}}}})
	got = checkResource(t, p, ds, nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `init container "agent" is privileged`)
}
