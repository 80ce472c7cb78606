package rollback

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanSetsBackChangedAndMissingKeysAndRemovesNewOnes(t *testing.T) {
	current := Config{
		"lke-platform:environment":        {Value: "development"},
		"lke-platform:sampleServiceImage": {Value: "ghcr.io/platform-eng/sample-service:0.1.1"},
		"lke-platform:slackWebhookUrl":    {Value: "https://hooks.example/new", Secret: true},
		"lke-platform:tracing":            {Value: "true"},
	}
	target := Config{
		"lke-platform:environment":        {Value: "development"},
		"lke-platform:sampleServiceImage": {Value: "ghcr.io/platform-eng/sample-service:0.1.0"},
		"lke-platform:slackWebhookUrl":    {Value: "https://hooks.example/old", Secret: true},
		"lke-platform:namespaces":         {Value: `["apps"]`},
	}
	changes := Plan(current, target)
	var lines []string
	for _, c := range changes {
		lines = append(lines, c.String())
	}
	assert.Equal(t, []string{
		`set    lke-platform:namespaces = "[\"apps\"]" (not set now)`,
		`set    lke-platform:sampleServiceImage = "ghcr.io/platform-eng/sample-service:0.1.0" (now "ghcr.io/platform-eng/sample-service:0.1.1")`,
		`set    lke-platform:slackWebhookUrl = [secret] (the secret differs)`,
		`remove lke-platform:tracing (now "true")`,
	}, lines)
	for _, l := range lines {
		assert.NotContains(t, l, "hooks.example", "a secret value is shown")
	}
	assert.Empty(t, Plan(target, target), "nothing to do at the target")

	// Structured values compare by content: the stack file and the history space their JSON differently.
	packages := func(text string) Value {
		return Value{Value: text, Object: []any{map[string]any{"name": "drill", "role": "view"}}}
	}
	assert.Empty(t, Plan(Config{"k": packages(`[{"name":"drill","role":"view"}]`)},
		Config{"k": packages(`[{"name": "drill", "role": "view"}]`)}))
}

func TestTargetMustBeASucceededUpdate(t *testing.T) {
	history := []Update{
		{Version: 4, Kind: "update", Result: "failed"},
		{Version: 3, Kind: "refresh", Result: "succeeded"},
		{Version: 2, Kind: "update", Result: "succeeded"},
		{Version: 1, Kind: "update", Result: "succeeded"},
	}
	got, err := Target(history, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version)

	_, err = Target(history, 4)
	assert.EqualError(t, err, "version 4 is a update that failed; roll back to an update that succeeded (see `pulumi stack history`)")
	_, err = Target(history, 3)
	assert.EqualError(t, err, "version 3 is a refresh that succeeded; roll back to an update that succeeded (see `pulumi stack history`)")
	_, err = Target(history, 9)
	assert.EqualError(t, err, "version 9 is not in the stack's history; updates that succeeded: 2, 1")
}

func TestCheckCommit(t *testing.T) {
	assert.NoError(t, CheckCommit(2, "", "abc"), "an update run outside git cannot be checked")
	assert.NoError(t, CheckCommit(2, "abc", "abc"))
	assert.EqualError(t, CheckCommit(2, "abc", "def"), "version 2 was deployed from commit abc, and this checkout "+
		"is at def: run the rollback from a checkout of that commit (git worktree add ../rollback-2 abc)")
}

func TestNumberCountsFromTheOldestWhenTheBackendRecordsNoVersion(t *testing.T) {
	history := []Update{{Kind: "refresh"}, {Kind: "update"}, {Kind: "update"}}
	Number(history)
	assert.Equal(t, []int{3, 2, 1}, []int{history[0].Version, history[1].Version, history[2].Version})

	cloud := []Update{{Version: 7}, {Version: 6}}
	Number(cloud)
	assert.Equal(t, 7, cloud[0].Version, "recorded versions are kept")
}
