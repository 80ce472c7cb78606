package pack

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var goodRecord = `{"change": "PR#123", "commit": "` + deployedSHA + `", "author": "alice", "approvers": ["bob", "carol"], "expires": "2026-11-25T15:00:00Z"}`

func envWith(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func approvalCheck(t *testing.T, stack Stack, record *string, cfg map[string]any) []string {
	t.Helper()
	vars := map[string]string{DeployedCommitEnv: deployedSHA}
	if record != nil {
		vars[ApprovalEnv] = *record
	}
	p := approvalPolicy(stack, envWith(vars), func() time.Time { return testNow })
	root := res(stackRootType, "lke-platform-production", nil)
	return checkResource(t, p, root, cfg)
}

func TestApprovalPolicy(t *testing.T) {
	update, preview := stackFor(production, false), stackFor(production, true)
	str := func(s string) *string { return &s }

	t.Run("pass: valid record on a production update", func(t *testing.T) {
		assert.Empty(t, approvalCheck(t, update, str(goodRecord), nil))
	})
	t.Run("pass: previews are never blocked", func(t *testing.T) {
		assert.Empty(t, approvalCheck(t, preview, nil, nil))
		assert.Empty(t, approvalCheck(t, preview, str("garbage"), nil))
	})
	t.Run("pass: other environments need no record", func(t *testing.T) {
		for _, env := range []string{"development", "staging", "system"} {
			assert.Empty(t, approvalCheck(t, stackFor(env, false), nil, nil), env)
		}
	})
	t.Run("fail: no record", func(t *testing.T) {
		got := approvalCheck(t, update, nil, nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `update of stack "production" (environment production), at pulumi:pulumi:Stack "lke-platform-production": no approval record: PLATFORM_APPROVAL_RECORD is not set. Fix: have CI export PLATFORM_APPROVAL_RECORD=`)
		assert.Empty(t, approvalCheck(t, stackFor("production", true), nil, nil))
	})
	t.Run("fail: empty record", func(t *testing.T) {
		assert.Len(t, approvalCheck(t, update, str("  "), nil), 1)
	})
	t.Run("fail: not JSON", func(t *testing.T) {
		got := approvalCheck(t, update, str("{bob and carol said yes}"), nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "PLATFORM_APPROVAL_RECORD is not a valid approval record")
	})
	t.Run("fail: says exactly what is missing", func(t *testing.T) {
		got := approvalCheck(t, update, str(`{"change": "PR#123", "commit": "`+deployedSHA+`", "author": "alice", "approvers": ["bob", "alice"], "expires": "2026-11-25T15:00:00Z"}`), nil)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `the approval record is not sufficient: approver "alice" is the change's author and cannot approve it; 1 distinct approver(s) other than the author ("bob"); 2 required: 1 more needed. Fix:`)
	})
	t.Run("config: more approvers, another environment", func(t *testing.T) {
		got := approvalCheck(t, update, str(goodRecord), map[string]any{"minApprovers": float64(3)})
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "2 distinct approver(s)")
		assert.Contains(t, got[0], "[3 or more logins")
		assert.Len(t, approvalCheck(t, stackFor("staging", false), nil, map[string]any{"environments": []any{"staging", "production"}}), 1)
	})
	t.Run("every resource is checked, not only the root", func(t *testing.T) {
		p := approvalPolicy(update, envWith(nil), func() time.Time { return testNow })
		lke := res(lkeClusterType, "production", nil)
		assert.Len(t, checkResource(t, p, lke, nil), 1)
	})
}

// The pack factory gets a pulumi.Context built from the engine's ConfigureStack request, as policyx builds it.
func TestStackFromContext(t *testing.T) {
	newCtx := func(stack string, cfg map[string]string, dryRun bool) *pulumi.Context {
		ctx, err := pulumi.NewContext(t.Context(), pulumi.RunInfo{Project: "lke-platform", Stack: stack, Config: cfg, DryRun: dryRun, Parallel: 1})
		require.NoError(t, err)
		return ctx
	}
	assert.Equal(t, Stack{Project: "lke-platform", Name: "prod-eu", Environment: "production", DryRun: true},
		StackFromContext(newCtx("prod-eu", map[string]string{EnvironmentKey: "production"}, true)), "config names the environment")
	assert.Equal(t, Stack{Project: "lke-platform", Name: "production", Environment: "production"},
		StackFromContext(newCtx("production", nil, false)), "else the stack name")
	assert.Equal(t, Stack{Project: "lke-platform", Name: "production", Environment: "production"},
		StackFromContext(newCtx("production", map[string]string{EnvironmentKey: "staging"}, false)),
		"a stack named after an environment is that environment, whatever its stack file says")
}
