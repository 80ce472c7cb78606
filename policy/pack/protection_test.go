package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func protected(r policyx.AnalyzerResource, on bool) policyx.AnalyzerResource {
	r.Options.Protect = on
	return r
}

func TestProtectionPolicy(t *testing.T) {
	prod := protectionPolicy(stackFor(production, false))
	lke := res(lkeClusterType, "production", map[string]any{"label": "platform-production"})
	ns := res(namespaceType, "production-apps", map[string]any{"metadata": meta("production-apps", "")})

	assert.Empty(t, checkResource(t, prod, protected(lke, true), nil))
	assert.Empty(t, checkResource(t, prod, protected(ns, true), nil))
	assert.Empty(t, checkResource(t, prod, res(stackRootType, "lke-platform-production", nil), nil), "the root cannot be protected")
	assert.Empty(t, checkResource(t, prod, res("pulumi:providers:linode", "default_4_39_0", nil), nil), "engine default provider")
	assert.Empty(t, checkResource(t, protectionPolicy(stackFor("staging", false)), lke, nil), "only production")
	assert.Empty(t, checkResource(t, prod, ns, map[string]any{"exemptTypes": []any{namespaceType}}), "configured exemption")

	grant := res("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "access-drill-production-apps", nil)
	grant.URN = "urn:pulumi:production::lke-platform::platform:access:Packages$kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::access-drill-production-apps"
	assert.Empty(t, checkResource(t, prod, grant, nil), "access packages are removed when they expire")
	grant.URN = "urn:pulumi:production::lke-platform::platform:namespace:Namespace$kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::access-drill"
	assert.Len(t, checkResource(t, prod, grant, nil), 1, "only under the access packages component")

	// A component type is a name any program may register: under a component called platform:access:Packages,
	// only what the access component itself creates, where it creates it, goes unprotected.
	under := func(r policyx.AnalyzerResource) policyx.AnalyzerResource {
		r.URN = "urn:pulumi:production::lke-platform::platform:access:Packages$" + r.Type + "::" + r.Name
		return r
	}
	accessNS := res(namespaceType, "production-access", map[string]any{"metadata": meta("production-access", "")})
	assert.Empty(t, checkResource(t, prod, under(accessNS), nil), "the access namespace")
	sa := res("kubernetes:core/v1:ServiceAccount", "production-access-drill", map[string]any{"metadata": meta("access-drill", "production-access")})
	assert.Empty(t, checkResource(t, prod, under(sa), nil), "a package's service account")
	assert.Empty(t, checkResource(t, prod, under(res("kubernetes:core/v1:ServiceAccount", "pending", map[string]any{
		"metadata": map[string]any{"name": "access-drill", "namespace": unknown},
	})), nil), "a namespace still to be computed is judged on the update")
	editRole := res("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "platform-production-access-edit",
		map[string]any{"metadata": meta("platform-production-access-edit", "")})
	assert.Empty(t, checkResource(t, prod, under(editRole), nil), "the edit packages' role")
	for name, r := range map[string]policyx.AnalyzerResource{
		"another cluster role":               res("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "admin", map[string]any{"metadata": meta("platform-admin", "")}),
		"the cluster":                        lke,
		"a workload namespace":               ns,
		"a workload namespace's policy":      res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", map[string]any{"metadata": meta("default-deny-all", "production-apps")}),
		"a service account outside":          res("kubernetes:core/v1:ServiceAccount", "sample", map[string]any{"metadata": meta("sample", "production-apps")}),
		"a kind the component never creates": res("kubernetes:apps/v1:Deployment", "sample", map[string]any{"metadata": meta("sample", "production-access")}),
	} {
		assert.Len(t, checkResource(t, prod, under(r), nil), 1, "%s under a component named like the access packages'", name)
	}

	got := checkResource(t, prod, lke, nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `linode:index/lkeCluster:LkeCluster "production": is the production LKE cluster and is not protected`)
	assert.Contains(t, got[0], "Fix: register it with pulumi.Protect(true)")

	got = checkResource(t, prod, ns, nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:core/v1:Namespace "production-apps": is not protected. Fix:`)
	assert.Len(t, checkResource(t, prod, res("pulumi:providers:kubernetes", "production", nil), nil), 1, "the program's own provider")
	assert.Len(t, checkResource(t, protectionPolicy(stackFor("staging", false)), ns, map[string]any{"environments": []any{"staging"}}), 1)
}
