//go:build integration

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli runs the real pulumi CLI in a copy of the project, on its own local state.
type cli struct {
	t   *testing.T
	dir string
	env []string
}

func newCLI(t *testing.T, subdir string) *cli {
	state := t.TempDir()
	return &cli{t: t, dir: filepath.Join(programDir(t), subdir), env: append(os.Environ(),
		"PULUMI_BACKEND_URL=file://"+state,
		"PULUMI_CONFIG_PASSPHRASE=integration-test-only",
		"PULUMI_CONFIG_PASSPHRASE_FILE=",
	)}
}

// run runs pulumi with args and returns its combined output.
func (c *cli) run(extraEnv []string, args ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command("pulumi", append(args, "--non-interactive")...)
	cmd.Dir, cmd.Env = c.dir, append(append([]string(nil), c.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(nil, args...)
	require.NoError(c.t, err, out)
	return out
}

// stack makes a stack with the given config (key=value, in the project's namespace).
func (c *cli) stack(name string, config ...string) {
	c.t.Helper()
	c.must("stack", "init", name)
	for _, kv := range config {
		k, v, _ := strings.Cut(kv, "=")
		c.must("config", "set", "-s", name, k, v)
	}
}

// platformStack makes a stack of the program as environment env, attached to the local control plane, with
// the test secrets set as secrets (through stdin, as an operator would, never on a command line).
func (c *cli) platformStack(name, env string) {
	c.t.Helper()
	c.must("stack", "init", name)
	for k, v := range platformConfig(env) {
		// --plaintext: the CLI takes a random temporary path for something that looks like a secret.
		c.must("config", "set", "--plaintext", "-s", name, k, v)
	}
	for k, v := range testSecrets {
		cmd := exec.Command("pulumi", "config", "set", "--secret", "-s", name, k, "--non-interactive")
		cmd.Dir, cmd.Env, cmd.Stdin = c.dir, c.env, strings.NewReader(v)
		out, err := cmd.CombinedOutput()
		require.NoError(c.t, err, string(out))
	}
}

// TestPolicyPackRefusesEachViolation previews, with the real CLI and the compiled pack, a program that makes
// one non-compliant object per case, and checks the pack refuses it with the policy's message. The compliant
// case passes, and the advisory policy warns without failing.
func TestPolicyPackRefusesEachViolation(t *testing.T) {
	c := newCLI(t, "tests/policyviolations")
	cases := []struct {
		name, stack, protect string
		policy, message      string
		advisory             bool
	}{
		{"compliant", "violation-compliant", "false", "", "", false},
		{"namespace-without-guardrails", "violation-bare", "false", "namespace-quota-and-limits", `kubernetes:core/v1:Namespace "bare"`, false},
		{"namespace-without-guardrails", "violation-bare-deny", "false", "namespace-default-deny", `kubernetes:core/v1:Namespace "bare"`, false},
		{"quota-too-large", "violation-quota", "false", "quota-within-bounds", "pods", false},
		{"container-without-limits", "violation-limits", "false", "container-requests-and-limits", `"web"`, false},
		{"ingress-from-everywhere", "violation-ingress", "false", "no-ingress-from-everywhere", `"open"`, false},
		{"loadbalancer", "violation-lb", "false", "no-loadbalancer-outside-ingress", "LoadBalancer", false},
		{"latest-image", "violation-image", "false", "images-pinned", "registry.example/web:latest", false},
		{"privileged", "violation-privileged", "false", "no-privileged-outside-system", "privileged", false},
		{"service-account-token", "violation-token", "false", "access-credentials-expire", `"forever-token"`, false},
		{"compliant", "production", "false", "production-resources-protected", "protect", false},
		{"compliant", "production-protected", "true", "", "", false},
		{"gpu-toleration-without-request", "violation-gpu", "false", "gpu-tolerations-request-gpus", "nvidia.com/gpu", true},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			c.t = t
			c.stack(tc.stack, "case="+tc.name, "kubeconfigPath="+kubeconfig, "protect="+tc.protect)
			out, err := c.run(nil, "preview", "-s", tc.stack, "--policy-pack", policyPack)
			if tc.policy == "" || tc.advisory {
				require.NoError(t, err, "a compliant program must pass the pack:\n%s", out)
			} else {
				require.Error(t, err, "the pack let a violation of %s through:\n%s", tc.policy, out)
				assert.Contains(t, out, "[mandatory]  "+tc.policy, out)
			}
			if tc.policy != "" {
				assert.Contains(t, out, tc.message, out)
				assert.Contains(t, out, "Fix:", "every message says how to fix it")
			}
			if tc.advisory {
				assert.Contains(t, out, "[advisory]  "+tc.policy, out)
			}
		})
	}
}

// TestProductionUpdateNeedsApproval runs `pulumi up` of the real program as production, attached to the local
// control plane, without an approval record: it is refused and nothing is created. Each refused up runs the whole
// program (minutes here), so one is enough: the pack's unit tests cover every defect of a record (self-approved,
// too few approvers, expired), TestEveryEnvironmentPassesThePack shows a production preview is never blocked,
// and TestEnvironmentLifecycle/production deploys production with a valid record.
func TestProductionUpdateNeedsApproval(t *testing.T) {
	c := newCLI(t, "")
	const stack = "approval-production"
	c.platformStack(stack, "production")
	out, err := c.run([]string{"PLATFORM_APPROVAL_RECORD="}, "up", "-s", stack, "--yes", "--policy-pack", policyPack)
	require.Error(t, err, out)
	assert.Contains(t, out, "[mandatory]  production-change-approved", out)
	assert.Contains(t, out, "PLATFORM_APPROVAL_RECORD", out)
	_, getErr := kubectl(t, "get", "namespace", "production-apps")
	require.Error(t, getErr, "a refused update must not create anything")
}

// TestEveryEnvironmentPassesThePack previews each of the four environments, attached to the local control
// plane, with the pack and no approval record: as configured, every one of them is compliant, and production's
// preview is not blocked for want of an approval.
func TestEveryEnvironmentPassesThePack(t *testing.T) {
	c := newCLI(t, "")
	for _, env := range []string{"development", "staging", "production", "system"} {
		t.Run(env, func(t *testing.T) {
			c.t = t
			stack := "pack-" + env
			c.platformStack(stack, env)
			out, err := c.run(nil, "preview", "-s", stack, "--policy-pack", policyPack)
			require.NoError(t, err, out)
			assert.Contains(t, out, "lke-platform", out)
			assert.NotContains(t, out, "[mandatory]", out)
		})
	}
}
