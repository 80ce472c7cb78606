//go:build integration

package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/rules"
)

// TestPolicyPackRefusesEachViolation previews, with the real CLI and the compiled pack, a program that makes
// one non-compliant object per case, and checks the pack refuses it with the policy's message. The compliant
// case passes, and the advisory policy warns without failing. Last, an update of a compliant production stack
// without an approval record is refused before anything is created. Each preview of this small program takes
// seconds; that every environment of the real program passes the pack is proven under mocks
// (policy/pack/program_test.go) and through the real CLI by each environment's render (render_test.go).
func TestPolicyPackRefusesEachViolation(t *testing.T) {
	needsCluster(t)
	parallel(t)
	c := newCLI(t, "tests/policyviolations")
	const production = "lke-platform:environment=production" // the pack's environment, as the program's stacks set it
	cases := []struct {
		name, stack, protect, env string
		policy, message           string
		advisory                  bool
	}{
		{"compliant", "violation-compliant", "false", "", "", "", false},
		{"namespace-without-guardrails", "violation-bare", "false", "", rules.NamespaceQuota, `kubernetes:core/v1:Namespace "bare"`, false},
		{"namespace-without-guardrails", "violation-bare-deny", "false", "", rules.NamespaceDefaultDeny, `kubernetes:core/v1:Namespace "bare"`, false},
		{"quota-too-large", "violation-quota", "false", "", rules.QuotaWithinBounds, "pods", false},
		{"container-without-limits", "violation-limits", "false", "", rules.ContainerResources, `"web"`, false},
		{"ingress-from-everywhere", "violation-ingress", "false", "", rules.IngressFromEverywhere, `"open"`, false},
		{"loadbalancer", "violation-lb", "false", "", rules.LoadBalancers, "LoadBalancer", false},
		{"latest-image", "violation-image", "false", "", rules.ImagesPinned, "registry.example/web:latest", false},
		{"privileged", "violation-privileged", "false", "", rules.Privileged, "privileged", false},
		{"service-account-token", "violation-token", "false", "", rules.AccessExpires, `"forever-token"`, false},
		{"compliant", "production-unprotected", "false", production, rules.ProductionProtected, "protect", false},
		// Without an approval record: a preview of production is never blocked.
		{"compliant", "production-protected", "true", production, "", "", false},
		{"gpu-toleration-without-request", "violation-gpu", "false", "", rules.GPUTolerationsRequests, "nvidia.com/gpu", true},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			c.t = t
			config := []string{"case=" + tc.name, "kubeconfigPath=" + kubeconfig, "protect=" + tc.protect}
			if tc.env != "" {
				config = append(config, tc.env)
			}
			c.stack(tc.stack, config...)
			out, err := c.run([]string{"PLATFORM_APPROVAL_RECORD="}, "preview", "-s", tc.stack, "--policy-pack", policyPack)
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

	// The update itself needs the record: refused at the first resource, so nothing is created.
	t.Run("production update without approval", func(t *testing.T) {
		c.t = t
		out, err := c.run([]string{"PLATFORM_APPROVAL_RECORD="}, "up", "-s", "production-protected", "--yes", "--skip-preview", "--policy-pack", policyPack)
		require.Error(t, err, out)
		assert.Contains(t, out, "[mandatory]  production-change-approved", out)
		assert.Contains(t, out, "PLATFORM_APPROVAL_RECORD", out)
		_, getErr := kubectl(t, "get", "namespace", "violations-apps")
		require.Error(t, getErr, "a refused update must not create anything")
		assert.Contains(t, getErr.Error(), "NotFound")
	})
}

// approval is the environment of an approved production update: a valid approval record that expires after ttl,
// and the commit it approves as the one being deployed (as GitHub Actions sets GITHUB_SHA).
func approval(ttl time.Duration) []string {
	const commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	record := fmt.Sprintf(`{"change":"PR#1","commit":%q,"author":"alice","approvers":["bob","carol"],"expires":%q}`,
		commit, time.Now().Add(ttl).UTC().Format(time.RFC3339))
	return []string{"PLATFORM_APPROVAL_RECORD=" + record, "GITHUB_SHA=" + commit}
}
