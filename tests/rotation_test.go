//go:build integration

package tests

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The quarterly rotation check (cmd/rotation-check) reads a real stack's history from the real CLI: two updates,
// the second with a new dnsApiToken; judged as of just under a period after the second, the webhook set by the
// first is overdue (exit 2) and the token is not, each named with the update it dates from, no value printed.
// Judged as of the second update, nothing is overdue (exit 0). The empty program stands in for the platform:
// the check reads only the history.
func TestRotationCheckReadsTheStacksHistory(t *testing.T) {
	needsCluster(t)
	parallel(t)
	c := newCLI(t, "bench/emptyprogram")
	const stack = "rotation"
	c.stack(stack, "lke-platform-empty:kubeconfigPath="+kubeconfig)
	c.must("config", "set", "-s", stack, "--plaintext", "lke-platform:sealedSecretsCertificate", sealingCert)
	setSecret := func(key, value string) {
		_, out, err := c.exec(strings.NewReader(value), nil, "config", "set", "--secret", "-s", stack, key)
		require.NoError(t, err, out)
	}
	setSecret("lke-platform:slackWebhookUrl", "https://hooks.slack.com/services/T/B/rotationWebhookV1")
	setSecret("lke-platform:dnsApiToken", "rotationTokenV1-q8Zt")
	c.must("up", "-s", stack, "--yes", "--skip-preview")
	time.Sleep(2 * time.Second) // history times are whole seconds
	setSecret("lke-platform:dnsApiToken", "rotationTokenV2-w3Kp")
	c.must("up", "-s", stack, "--yes", "--skip-preview")

	var history []struct{ StartTime string }
	require.NoError(t, json.Unmarshal([]byte(c.stdout("stack", "history", "-s", stack, "--json")), &history))
	require.Len(t, history, 2)
	second, err := time.Parse(time.RFC3339, history[0].StartTime)
	require.NoError(t, err)

	bin := buildCommand(t, "rotation-check")
	check := func(now time.Time) (int, string) {
		cmd := exec.Command(bin, "-stack", stack, "-dir", c.dir, "-max-age", "24h", "-now", now.Format(time.RFC3339))
		cmd.Env = c.environ()
		return exitCode(t, cmd)
	}

	code, out := check(second.Add(24*time.Hour - time.Second))
	assert.Equal(t, 2, code, out)
	assert.Regexp(t, `lke-platform:slackWebhookUrl\s+unchanged since update 1 .* OVERDUE: rotate it`, out)
	assert.Regexp(t, `lke-platform:dnsApiToken\s+unchanged since update 2 .* ok`, out)
	assert.Regexp(t, `sealing certificate\s+[\d.]+ days old`, out)
	for _, value := range []string{"rotationWebhookV1", "rotationTokenV1", "rotationTokenV2"} {
		assert.NotContains(t, out, value, "no value is printed")
	}

	code, out = check(second)
	assert.Equal(t, 0, code, out)
	assert.NotContains(t, out, "OVERDUE")
}
