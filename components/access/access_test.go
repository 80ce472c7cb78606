package access_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/access"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/platform"
	"github.com/platform-eng/lke-platform/platform/platformtest"
)

const (
	serviceAccountType = "kubernetes:core/v1:ServiceAccount"
	roleBindingType    = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	namespaceType      = "platform:namespace:Namespace"
	request            = "https://example.slack.com/archives/C0PLATFORMACCESS/p1772442000000100"
)

// packagesJSON is an accessPackages value: "drill" (view on apps, 2 hours left) and "old" (edit on apps,
// expired an hour ago), relative to now as the program sees it.
func packagesJSON(t *testing.T, now time.Time) string {
	t.Helper()
	b, err := json.Marshal([]map[string]any{
		{"name": "drill", "subject": "alice@example.com", "role": "view", "namespaces": []string{"apps"},
			"expiresAt": now.Add(2 * time.Hour).UTC().Format(time.RFC3339), "request": request},
		{"name": "old", "subject": "bob@example.com", "role": "edit", "namespaces": []string{"apps"},
			"expiresAt": now.Add(-time.Hour).UTC().Format(time.RFC3339), "request": request},
	})
	require.NoError(t, err)
	return string(b)
}

func meta(r mocks.Resource) map[string]any {
	return r.Inputs.Mappable()["metadata"].(map[string]any)
}

// packaged are the resources of a type that belong to an access package (Argo CD has ServiceAccounts and
// RoleBindings of its own).
func packaged(rec *mocks.Recorder, token string) []mocks.Resource {
	var out []mocks.Resource
	for _, r := range rec.OfType(token) {
		if labels, ok := meta(r)["labels"].(map[string]any); ok && labels[access.PackageLabel] != nil {
			out = append(out, r)
		}
	}
	return out
}

// Each of the four stacks, with the whole program: the package in force gets its ServiceAccount in
// <env>-access and a RoleBinding in <env>-apps, labelled and annotated for the pack; the expired one gets nothing.
func TestEveryStackIssuesItsPackagesAndLeavesExpiredOnesOut(t *testing.T) {
	for _, stack := range config.Environments {
		t.Run(stack, func(t *testing.T) {
			now := time.Now()
			cfg := platformtest.Config(t, "../..", stack, map[string]string{"accessPackages": packagesJSON(t, now)})
			rec, err := platformtest.Run(t, stack, cfg, platform.Program)
			require.NoError(t, err)

			accessNS := stack + "-access"
			assert.Len(t, rec.OfType(namespaceType), 7, "the platform's six namespaces and the access namespace")
			rec.One(t, namespaceType, accessNS)
			rec.One(t, "kubernetes:core/v1:ResourceQuota", accessNS+"-quota")

			sa := rec.One(t, serviceAccountType, stack+"-access-drill")
			require.Len(t, packaged(rec, serviceAccountType), 1, "nothing for the expired package")
			require.Len(t, packaged(rec, roleBindingType), 1, "nothing for the expired package")
			assert.Equal(t, false, sa.Inputs.Mappable()["automountServiceAccountToken"])
			m := meta(sa)
			assert.Equal(t, "access-drill", m["name"])
			assert.Equal(t, accessNS, m["namespace"])
			assert.Equal(t, "drill", m["labels"].(map[string]any)[access.PackageLabel])
			assert.Equal(t, stack, m["labels"].(map[string]any)["platform.lke/environment"])
			expires := m["annotations"].(map[string]any)[access.ExpiresAtAnnotation].(string)
			at, err := time.Parse(time.RFC3339, expires)
			require.NoError(t, err)
			assert.WithinDuration(t, now.Add(2*time.Hour), at, time.Second)

			rb := rec.One(t, roleBindingType, stack+"-access-drill-"+stack+"-apps")
			assert.Equal(t, map[string]any{
				"name": "access-drill", "namespace": stack + "-apps",
				"labels": m["labels"], "annotations": map[string]any{
					access.ExpiresAtAnnotation: expires,
					access.SubjectAnnotation:   "alice@example.com",
					access.RequestAnnotation:   request,
				},
			}, meta(rb))
			assert.Equal(t, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
				rb.Inputs.Mappable()["roleRef"])
			assert.Equal(t, []any{map[string]any{"kind": "ServiceAccount", "name": "access-drill", "namespace": accessNS}},
				rb.Inputs.Mappable()["subjects"])
			assert.Contains(t, rb.Provider, "pulumi:providers:kubernetes::"+stack, "granted through the cluster's provider")
			assert.False(t, rb.Protect || sa.Protect, "never protected: a package's grants go when it expires")

			for _, s := range rec.OfType("kubernetes:core/v1:Secret") {
				assert.NotEqual(t, "kubernetes.io/service-account-token", s.Inputs.Mappable()["type"], s.Name)
			}
		})
	}
}

// Without packages (every committed stack) there is no access namespace and no grant at all.
func TestNoPackagesNoAccessNamespace(t *testing.T) {
	for _, stack := range config.Environments {
		rec, err := platformtest.Run(t, stack, platformtest.Config(t, "../..", stack, nil), platform.Program)
		require.NoError(t, err)
		assert.Len(t, rec.OfType(namespaceType), 6, stack)
		assert.Empty(t, packaged(rec, serviceAccountType), stack)
		assert.Empty(t, packaged(rec, roleBindingType), stack)
	}
}

func pkg(name, role string, expiresIn time.Duration, namespaces ...string) access.Package {
	return access.Package{Name: name, Subject: name + "@example.com", Role: role, Namespaces: namespaces,
		ExpiresAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(expiresIn), Request: request}
}

func runComponent(t *testing.T, packages ...access.Package) (*mocks.Recorder, map[string]any) {
	t.Helper()
	// Issued is built from plain values, so no output of the context's waits for it: the program's end does not
	// mean the apply has run. The channel does.
	issued := make(chan map[string]any, 1)
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		c, err := access.New(ctx, "staging", &access.Args{
			Environment: "staging", Labels: map[string]string{"platform.lke/environment": "staging"},
			Packages: packages, Source: "lke-platform:accessPackages", Now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
			IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
		})
		if err != nil {
			return err
		}
		c.Issued.ApplyT(func(m map[string]any) error { issued <- m; return nil })
		return nil
	})
	require.NoError(t, err)
	select {
	case m := <-issued:
		return rec, m
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the component's Issued output never resolved")
		return nil, nil
	}
}

func TestEditOnSeveralNamespacesAndTheIssuedRecord(t *testing.T) {
	rec, issued := runComponent(t, pkg("carol", "edit", 8*time.Hour, "staging-apps", "staging-batch"))
	for _, ns := range []string{"staging-apps", "staging-batch"} {
		rb := rec.One(t, roleBindingType, "staging-access-carol-"+ns)
		assert.Equal(t, ns, meta(rb)["namespace"])
		assert.Equal(t, "platform-staging-access-edit", rb.Inputs.Mappable()["roleRef"].(map[string]any)["name"])
	}
	role := rec.One(t, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "platform-staging-access-edit").Inputs.Mappable()
	assert.Equal(t, "platform-staging-access-edit", role["metadata"].(map[string]any)["name"])
	assert.Len(t, role["rules"], len(access.EditRules))
	for _, r := range rec.Resources() {
		if r.Type != "platform:access:Packages" {
			assert.Contains(t, r.Parent, "platform:access:Packages", "%s %s", r.Type, r.Name)
		}
	}
	assert.Equal(t, map[string]any{"carol": map[string]any{
		"serviceAccount": "access-carol", "namespace": "staging-access", "subject": "carol@example.com",
		"role": "edit", "namespaces": []string{"staging-apps", "staging-batch"}, "expiresAt": "2026-03-02T17:00:00Z",
		"request": request,
	}}, issued)
}

// The edit role lets a package run workloads but not widen itself: no write to NetworkPolicies, no
// ServiceAccounts or tokens, no Secret values, nothing about RBAC, no wildcards.
func TestTheEditRoleCannotWidenItself(t *testing.T) {
	grants := map[string][]string{} // "group/resource" -> verbs
	for _, r := range access.EditRules {
		for _, g := range r.Groups {
			for _, res := range r.Resources {
				grants[g+"/"+res] = append(grants[g+"/"+res], r.Verbs...)
			}
		}
	}
	for _, never := range []string{"/serviceaccounts/token", "rbac.authorization.k8s.io/roles", "rbac.authorization.k8s.io/rolebindings", "/namespaces"} {
		assert.NotContains(t, grants, never)
	}
	for _, readOnly := range []string{"networking.k8s.io/networkpolicies", "/serviceaccounts", "/secrets", "/resourcequotas", "/limitranges"} {
		assert.ElementsMatch(t, []string{"get", "list", "watch"}, grants[readOnly], readOnly)
	}
	for key, verbs := range grants {
		assert.NotContains(t, key, "*", key)
		assert.NotContains(t, verbs, "*", key)
		assert.NotContains(t, verbs, "impersonate", key)
		assert.NotContains(t, verbs, "escalate", key)
		assert.NotContains(t, verbs, "bind", key)
	}
	assert.Contains(t, grants["apps/deployments"], "create", "it still deploys")
	assert.Contains(t, grants["bitnami.com/sealedsecrets"], "create", "secret values arrive sealed")
}

func TestOnlyExpiredPackagesLeaveNothing(t *testing.T) {
	rec, issued := runComponent(t, pkg("old", "view", -time.Minute, "staging-apps"), pkg("now", "view", 0, "staging-apps"))
	require.Len(t, rec.Resources(), 1, "the component alone: %v", rec.Resources())
	assert.Empty(t, issued)
}

func TestSplitAndTheWarning(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	a, b, c := pkg("a", "view", time.Hour, "x-apps"), pkg("b", "edit", -time.Hour, "x-apps", "x-batch"), pkg("c", "view", time.Second, "x-apps")
	active, expired := access.Split([]access.Package{a, b, c}, now)
	assert.Equal(t, []access.Package{a, c}, active)
	assert.Equal(t, []access.Package{b}, expired)
	assert.Equal(t, `access package "b" (b@example.com, edit on x-apps, x-batch) expired at 2026-03-02T08:00:00Z: it is left out, `+
		`so this update deletes its ServiceAccount and RoleBindings; remove it from lke-platform:accessPackages`, access.ExpiredMessage(b, "lke-platform:accessPackages"))
	assert.Equal(t, "staging-access", access.Namespace("staging"))
	assert.Equal(t, "access-drill", access.ServiceAccountName("drill"))
}
