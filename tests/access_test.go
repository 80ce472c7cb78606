//go:build integration

package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-eng/lke-platform/components/admission"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/internal/rules"
)

// accessPackageConfig is the accessPackages value of the e2e stack (JSON): package "drill", view on apps,
// expiring in 2 hours. The key is declared an array in Pulumi.yaml, so the CLI refuses it as a plain string:
// set it with setAccessPackages.
func accessPackageConfig() string {
	return accessPackagesJSON(drillPackage(time.Now().Add(2 * time.Hour)))
}

func drillPackage(expiresAt time.Time) map[string]any {
	return map[string]any{
		"name": "drill", "subject": "drill@example.com", "role": "view", "namespaces": []string{"apps"},
		"expiresAt": expiresAt.UTC().Format(time.RFC3339),
		"request":   "https://example.slack.com/archives/C0PLATFORMACCESS/p1772442000000100",
	}
}

func accessPackagesJSON(packages ...map[string]any) string {
	b, err := json.Marshal(packages)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// setAccessPackages sets the stack's accessPackages to value (JSON) as structured config, as `pulumi config
// set --path` would field by field: `pulumi config set` would store a string, which the declared type refuses.
func setAccessPackages(c *cli, stack, value string) {
	c.t.Helper()
	var parsed any
	require.NoError(c.t, json.Unmarshal([]byte(value), &parsed))
	entry, err := json.Marshal(map[string]any{"accessPackages": map[string]any{"value": value, "objectValue": parsed, "secret": false}})
	require.NoError(c.t, err)
	c.must("config", "set-all", "-s", stack, "--json", string(entry))
}

// accessScript runs scripts/access of this clone on the project of c, with c's backend.
func accessScript(c *cli, args ...string) (string, error) {
	c.t.Helper()
	full := append([]string{args[0], "-dir", c.dir}, args[1:]...)
	cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "access"), full...)
	cmd.Dir, cmd.Env = c.dir, c.environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// checkAccess issues the kubeconfig of the stack's package "drill" (view on <env>-apps) with scripts/access
// and proves what it can do, and for how long.
func checkAccess(t *testing.T, c *cli, stack, env string) {
	t.Helper()
	issueAndCheck(t, c, stack, env)
}

// issueAndCheck is checkAccess; it returns the issued kubeconfig's path.
func issueAndCheck(t *testing.T, c *cli, stack, env string) string {
	t.Helper()
	c.t = t
	var packages map[string]struct {
		ExpiresAt string `json:"expiresAt"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.must("stack", "output", "accessPackages", "--json", "-s", stack)), &packages))
	require.Contains(t, packages, "drill", "the stack output accessPackages")
	expiresAt, err := time.Parse(time.RFC3339, packages["drill"].ExpiresAt)
	require.NoError(t, err)

	list, err := accessScript(c, "list", stack)
	require.NoError(t, err, list)
	assert.Regexp(t, `drill\s+drill@example.com\s+view\s+`+env+`-apps\s+\S+\s+in force, `, list)

	issued, out := issue(t, c, stack, "drill")

	var kubeconfigFile struct {
		Users []struct {
			User map[string]any `yaml:"user"`
		} `yaml:"users"`
	}
	b, err := os.ReadFile(issued)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &kubeconfigFile))
	require.Len(t, kubeconfigFile.Users, 1)
	assert.Len(t, kubeconfigFile.Users[0].User, 1, "a token and nothing of the admin's credentials")
	token, _ := kubeconfigFile.Users[0].User["token"].(string)
	require.NotEmpty(t, token)
	assert.NotContains(t, out, token, "the token is never printed")

	// The API server enforces the token's expiry: at most 24 hours, and not after the package's.
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3, "a JWT")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct {
		Exp int64 `json:"exp"`
		Sub string
	}
	require.NoError(t, json.Unmarshal(payload, &claims))
	exp := time.Unix(claims.Exp, 0)
	assert.False(t, exp.After(time.Now().Add(24*time.Hour)), "token exp %s is more than 24 h ahead", exp)
	assert.False(t, exp.After(expiresAt), "token exp %s is after the package's expiresAt %s", exp, expiresAt)
	assert.True(t, exp.After(time.Now()), "token exp %s has passed", exp)
	assert.Equal(t, "system:serviceaccount:"+env+"-access:access-drill", claims.Sub)

	assert.Equal(t, "yes", canI(issued, "list", "pods", env+"-apps"))
	assert.Equal(t, "no", canI(issued, "create", "deployments", env+"-apps"))
	assert.Equal(t, "no", canI(issued, "list", "secrets", "kube-system"))
	assert.Equal(t, "no", canI(issued, "list", "secrets", env+"-apps"), "view does not read secrets")
	return issued
}

// issue issues the kubeconfig of the stack's package pkg with scripts/access into a private file, and returns
// its path and what the script printed.
func issue(t *testing.T, c *cli, stack, pkg string) (string, string) {
	t.Helper()
	issued := filepath.Join(t.TempDir(), pkg+".kubeconfig")
	out, err := accessScript(c, "issue", stack, pkg, issued)
	require.NoError(t, err, out)
	st, err := os.Stat(issued)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the issued kubeconfig is private")
	assert.Contains(t, out, "its token expires at ")
	return issued, out
}

// canI asks the API server whether the identity of a kubeconfig may do verb on resource in ns: "yes" or "no".
func canI(kubeconfigPath, verb, resource, ns string, extra ...string) string {
	cmd := exec.Command("kubectl", append([]string{"auth", "can-i", verb, resource, "-n", ns, "--kubeconfig", kubeconfigPath}, extra...)...)
	out, _ := cmd.Output() // "no" exits 1
	return strings.TrimSpace(string(out))
}

// TestAccessPackageOnTheLocalControlPlane deploys tests/accessprogram (the platform's Namespace and access
// components) with the pack: a package in force is issued and can do what its role allows; an expired one is
// left out with a warning; removing a package from the config and updating revokes the tokens already issued
// (their ServiceAccount is deleted); the docs' `pulumi config set --path` commands add one back.
func TestAccessPackageOnTheLocalControlPlane(t *testing.T) {
	needsCluster(t)
	parallel(t)
	c := newCLI(t, "tests/accessprogram")
	const stack, env = "access-local", "sandbox"
	c.stack(stack, "environment="+env, "kubeconfigPath="+kubeconfig)
	old := drillPackage(time.Now().Add(-time.Hour))
	old["name"], old["subject"] = "old", "old@example.com"
	dev := drillPackage(time.Now().Add(time.Hour))
	dev["name"], dev["subject"], dev["role"] = "dev", "dev@example.com", "edit"
	setAccessPackages(c, stack, accessPackagesJSON(drillPackage(time.Now().Add(2*time.Hour)), old, dev))

	t.Cleanup(func() {
		if out, err := c.run(nil, "destroy", "-s", stack, "--yes"); err != nil {
			t.Errorf("destroy: %v\n%s", err, out)
		}
	})
	out := c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	assert.Contains(t, out, `access package "old" (old@example.com, view on sandbox-apps) expired at`, out)

	issued := issueAndCheck(t, c, stack, env)

	// An edit package runs workloads in its namespaces but cannot undo their isolation or outlive itself.
	edit, _ := issue(t, c, stack, "dev")
	apps := env + "-apps"
	for _, can := range [][2]string{{"create", "deployments"}, {"delete", "pods"}, {"create", "sealedsecrets.bitnami.com"}, {"get", "secrets"}} {
		assert.Equal(t, "yes", canI(edit, can[0], can[1], apps), "edit may %s %s", can[0], can[1])
	}
	for _, cannot := range [][2]string{
		{"delete", "networkpolicies"}, {"create", "networkpolicies"}, {"create", "serviceaccounts"},
		{"create", "secrets"}, {"create", "rolebindings"},
	} {
		assert.Equal(t, "no", canI(edit, cannot[0], cannot[1], apps), "edit may not %s %s", cannot[0], cannot[1])
	}
	assert.Equal(t, "no", canI(edit, "create", "serviceaccounts", apps, "--subresource=token"), "edit may not mint tokens")
	assert.Equal(t, "no", canI(edit, "create", "deployments", "kube-system"), "only in its namespaces")
	checkPlatformObjectsKept(t, edit, env)
	_, err := kubectl(t, "get", "serviceaccount", "access-old", "-n", env+"-access")
	require.Error(t, err, "nothing is made for an expired package")
	c.t = t
	c.must("preview", "-s", stack, "--expect-no-changes", "--policy-pack", policyPack)

	out, err = accessScript(c, "issue", stack, "old")
	require.Error(t, err, out)
	assert.Contains(t, out, "package old of stack access-local is not in force: expired, removed", out)

	// Revocation: out of the config, up, and the token issued before is refused at once.
	c.must("config", "rm", "-s", stack, "--path", "accessPackages[0]")
	out = c.must("preview", "-s", stack, "--diff", "--policy-pack", policyPack)
	assert.Contains(t, out, "- kubernetes:core/v1:ServiceAccount", out)
	c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	refused, err := exec.Command("kubectl", "auth", "can-i", "list", "pods", "-n", env+"-apps", "--kubeconfig", issued).CombinedOutput()
	require.Error(t, err, "a token of a deleted package still works: %s", refused)
	assert.Contains(t, string(refused), "Unauthorized")

	// The docs' commands (docs/access-control.md), for this stack.
	c.must("config", "rm", "-s", stack, "accessPackages")
	expires := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	for _, kv := range [][2]string{
		{"accessPackages[0].name", "drill"},
		{"accessPackages[0].subject", "drill@example.com"},
		{"accessPackages[0].role", "view"},
		{"accessPackages[0].namespaces[0]", "apps"},
		{"accessPackages[0].expiresAt", expires},
		{"accessPackages[0].request", "https://example.slack.com/archives/C0PLATFORMACCESS/p1772442000000100"},
	} {
		c.must("config", "set", "-s", stack, "--path", kv[0], kv[1])
	}
	// The deploy workflow's way (docs/delivery.md): a preview with the pack saves the plan, and `up --plan`
	// applies it and nothing else. A change made after the plan (here the role) is refused, and the stack is
	// left as it was; the plan applies once the configuration is what was planned again.
	plan := filepath.Join(t.TempDir(), "plan.json")
	c.must("preview", "-s", stack, "--policy-pack", policyPack, "--save-plan", plan)
	experimental := []string{"PULUMI_EXPERIMENTAL=true"}
	c.must("config", "set", "-s", stack, "--path", "accessPackages[0].role", "edit")
	out, err = c.run(experimental, "up", "-s", stack, "--yes", "--policy-pack", policyPack, "--plan", plan)
	require.Error(t, err, "an update beyond its plan: %s", out)
	assert.Contains(t, out, "violates plan", out)
	_, err = kubectl(t, "get", "serviceaccount", "access-drill", "-n", env+"-access")
	require.Error(t, err, "the refused update created nothing")
	c.must("config", "set", "-s", stack, "--path", "accessPackages[0].role", "view")
	out, err = c.run(experimental, "up", "-s", stack, "--yes", "--policy-pack", policyPack, "--plan", plan)
	require.NoError(t, err, out)
	issueAndCheck(t, c, stack, env)

	// More than 24 hours is refused before anything is registered.
	c.must("config", "set", "-s", stack, "--path", "accessPackages[0].expiresAt", time.Now().Add(25*time.Hour).UTC().Format(time.RFC3339))
	out, err = c.run(nil, "preview", "-s", stack, "--policy-pack", policyPack)
	require.Error(t, err, out)
	assert.Contains(t, out, "accessPackages[0].expiresAt", out)
	assert.Contains(t, out, "access packages expire within 24 hours", out)
}

// checkPlatformObjectsKept: beyond RBAC, the admission rule platform-objects-kept holds an edit package (which
// may delete ConfigMaps) to deleting what is not the platform's: a ConfigMap labelled part-of the platform is
// refused, one of the team's own is deleted, and the platform's identity (the admin kubeconfig) deletes both.
func checkPlatformObjectsKept(t *testing.T, edit, env string) {
	t.Helper()
	ns := env + "-apps"
	configMap := func(name string, labels map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		}
	}
	for _, cm := range []*corev1.ConfigMap{
		configMap("platform-owned", map[string]string{names.PartOfLabel: names.PartOf}),
		configMap("team-owned", map[string]string{names.PartOfLabel: "team-app"}),
	} {
		out, err := kubectlApply(t, cm)
		require.NoError(t, err, out)
	}
	deleteAs := func(kubeconfigPath, name string, extra ...string) (string, error) {
		return kubectlInputOn(kubeconfigPath, nil, append([]string{"delete", "configmap", name, "-n", ns}, extra...)...)
	}
	want := fmt.Sprintf("ValidatingAdmissionPolicy '%[1]s' with binding '%[1]s' denied request: ", admission.Name(env, rules.PlatformObjectsKept))
	// The policies were just created: wait (with a dry run, which admission judges too) until they are enforced.
	var out string
	assert.Eventually(t, func() bool {
		out, _ = deleteAs(edit, "platform-owned", "--dry-run=server")
		return strings.Contains(out, want)
	}, enforcementDelay, 200*time.Millisecond)
	require.Contains(t, out, want, "the package's delete of a platform object was not refused")
	out, err := deleteAs(edit, "platform-owned")
	require.Error(t, err, out)
	assert.Contains(t, out, want+`ConfigMap "platform-owned" in namespace "`+ns+`": is the platform's (app.kubernetes.io/part-of=lke-platform) `+
		`and only the platform deletes it; system:serviceaccount:`+env+`-access:access-dev is not one of its identities. Fix: `)
	out, err = deleteAs(edit, "team-owned")
	require.NoError(t, err, "the package deletes what is not the platform's: %s", out)
	out, err = deleteAs(kubeconfig, "platform-owned")
	require.NoError(t, err, "the platform deletes its own: %s", out)
}
