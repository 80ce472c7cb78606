//go:build integration

package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/audit/audittest"
)

// Who and what the audit command is told it reports, in every run of these tests.
const (
	auditActor  = "audit-integration"
	auditCommit = "5e1f0c0ffee0ddba11c0ffee0ddba11c0ffee0dd"
)

// buildAudit builds cmd/audit once for the calling test.
func buildAudit(t *testing.T) string { return buildCommand(t, "audit") }

type auditResult struct {
	code           int
	stdout, stderr string
}

// runAudit runs the built command on a stack of c's project, with c's backend and extra environment.
func runAudit(t *testing.T, bin string, c *cli, stack string, env ...string) auditResult {
	t.Helper()
	cmd := exec.Command(bin, "-stack", stack, "-dir", c.dir)
	var stdout, stderr bytes.Buffer
	cmd.Dir, cmd.Stdout, cmd.Stderr = c.dir, &stdout, &stderr
	cmd.Env = append(c.environ(), env...)
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	res := auditResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("audit -stack %s: exit %d\n%s%s", stack, res.code, res.stdout, res.stderr)
	return res
}

// receivers are the environment that points the command at the stand-ins.
func receivers(loki *audittest.Loki, slack *audittest.Slack) []string {
	return []string{
		"PLATFORM_AUDIT_LOKI_URL=" + loki.URL, "PLATFORM_AUDIT_SLACK_WEBHOOK=" + slack.Webhook,
		"PLATFORM_AUDIT_ACTOR=" + auditActor, "PLATFORM_AUDIT_COMMIT=" + auditCommit, "GITHUB_ACTIONS=",
	}
}

// historyEntry is the part of `pulumi stack history --json` the event is compared with.
type historyEntry struct {
	Version         int            `json:"version"`
	Kind            string         `json:"kind"`
	Result          string         `json:"result"`
	ResourceChanges map[string]int `json:"resourceChanges"`
}

// latestEntry is the newest entry of the stack's history, as the CLI prints it. A self-managed backend
// (local files, object storage) records no version: the event numbers the entry by its place in the history,
// as Pulumi Cloud does, and so does this.
func latestEntry(t *testing.T, c *cli, stack string) historyEntry {
	t.Helper()
	out, combined, err := c.exec(nil, nil, "stack", "history", "-s", stack, "--json")
	require.NoError(t, err, combined)
	var history []historyEntry
	require.NoError(t, json.Unmarshal([]byte(out), &history), out)
	require.NotEmpty(t, history, "stack %s has no history", stack)
	if history[0].Version == 0 {
		history[0].Version = len(history)
	}
	return history[0]
}

// assertEvent checks the newest push the Loki stand-in accepted and the newest Slack message report the
// history entry want of stack, as environment env, with the root Application argoApp ("" for none).
func assertEvent(t *testing.T, loki *audittest.Loki, slack *audittest.Slack, stack, env, argoApp string, want historyEntry) {
	t.Helper()
	assert.Empty(t, loki.Refused(), "Loki would have refused the push")
	pushes := loki.Pushes()
	require.NotEmpty(t, pushes)
	push := pushes[len(pushes)-1]
	assert.Equal(t, env, push.Tenant, "the Loki tenant is the environment")
	require.Len(t, push.Streams, 1)
	labels := push.Streams[0].Labels
	assert.Equal(t, env, labels["environment"])
	assert.Equal(t, stack, labels["stack"])
	assert.Equal(t, auditActor, labels["actor"])
	assert.Equal(t, "infra_change_applied", labels["event"])
	if argoApp != "" {
		assert.Equal(t, argoApp, labels["argo_app"])
	} else {
		assert.NotContains(t, labels, "argo_app")
	}
	require.Len(t, push.Streams[0].Entries, 1)
	entry := push.Streams[0].Entries[0]
	assert.Equal(t, want.ResourceChanges, entry.Changes(), "the counts are the history's")
	assert.Equal(t, want.Kind, entry.Fields["kind"])
	assert.Equal(t, want.Result, entry.Fields["result"])
	assert.Equal(t, auditCommit, entry.Fields["commit"])
	assert.EqualValues(t, want.Version, number(t, entry.Fields["version"]))

	assert.Empty(t, slack.Refused())
	msgs := slack.Messages()
	require.NotEmpty(t, msgs)
	text := msgs[len(msgs)-1].Text
	for _, part := range []string{env + ": " + want.Kind + " of stack " + stack, "succeeded", "by " + auditActor, auditCommit[:7]} {
		assert.Contains(t, text, part)
	}
}

func number(t *testing.T, v any) int64 {
	n, ok := v.(json.Number)
	require.True(t, ok, "%v is not a number", v)
	i, err := n.Int64()
	require.NoError(t, err)
	return i
}

// assertSendFailuresReported runs the command with Loki on a closed port and the webhook answering 500: it
// exits 0, reports both on stderr (and as workflow warnings on GitHub Actions), and never prints the webhook.
func assertSendFailuresReported(t *testing.T, bin string, c *cli, stack string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "internal_error", http.StatusInternalServerError)
	}))
	defer failing.Close()
	webhook := failing.URL + audittest.SecretPath
	res := runAudit(t, bin, c, stack, "PLATFORM_AUDIT_LOKI_URL="+closed, "PLATFORM_AUDIT_SLACK_WEBHOOK="+webhook, "PLATFORM_AUDIT_ACTOR="+auditActor,
		"PLATFORM_AUDIT_COMMIT="+auditCommit, "GITHUB_ACTIONS=true")
	assert.Equal(t, 0, res.code, "a failure to send never fails the command")
	assert.Contains(t, res.stderr, "the Loki event of stack "+stack)
	assert.Contains(t, res.stderr, "connection refused")
	assert.Contains(t, res.stderr, "Slack webhook (PLATFORM_AUDIT_SLACK_WEBHOOK): answered 500 Internal Server Error: internal_error")
	assert.Equal(t, 2, strings.Count(res.stdout, "::warning "), "one workflow warning per failure")
	for _, out := range []string{res.stdout, res.stderr} {
		assert.NotContains(t, out, audittest.SecretPath)
		assert.NotContains(t, out, webhook)
	}
}

// checkAudit is called by TestPlatformDeploysEndToEnd on the deployed e2e stack (environment env), after the
// rollback drill: it runs cmd/audit against Loki and Slack stand-ins and checks the event it pushes for the
// latest update. Should the latest entry be anything else (a refresh, which is not reported: that is checked),
// an update that changes nothing gives the command something to report. Every kind of entry is
// TestAuditEventsForAnUpdate's, on a small program.
func checkAudit(t *testing.T, c *cli, stack, env string) {
	t.Helper()
	bin := buildAudit(t)
	loki, slack := audittest.NewLoki(t), audittest.NewSlack(t)
	if latest := latestEntry(t, c, stack); latest.Kind != "update" {
		res := runAudit(t, bin, c, stack, receivers(loki, slack)...)
		require.Equal(t, 0, res.code, res.stderr)
		assert.Contains(t, res.stdout, "it is a "+latest.Kind+", which changes no infrastructure")
		assert.Empty(t, loki.Pushes())
		assert.Empty(t, slack.Messages())
		c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	}

	res := runAudit(t, bin, c, stack, receivers(loki, slack)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, res.stderr)
	assertEvent(t, loki, slack, stack, env, "platform-"+env+"-infrastructure", latestEntry(t, c, stack))

	assertSendFailuresReported(t, bin, c, stack)
}

// TestAuditEventsForAnUpdate runs cmd/audit on a tiny program's stack (audit/testdata/program: one ConfigMap
// on the local control plane) through its life: never updated, created, updated, refreshed, sends failing,
// destroyed, and a stack that does not exist. Each event is checked against the stand-ins and the stack's
// history as the CLI prints it.
func TestAuditEventsForAnUpdate(t *testing.T) {
	needsCluster(t)
	parallel(t)
	const env = "development"
	c := newCLI(t, filepath.Join("audit", "testdata", "program"))
	stack := "audit-" + env
	c.stack(stack, "environment="+env, "kubeconfigPath="+kubeconfig, "revision=1")
	bin := buildAudit(t)
	loki, slack := audittest.NewLoki(t), audittest.NewSlack(t)
	argoApp := "platform-" + env + "-infrastructure"

	res := runAudit(t, bin, c, stack, receivers(loki, slack)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "has never been updated: nothing to report")
	assert.Empty(t, loki.Pushes())

	c.must("up", "-s", stack, "--yes", "--skip-preview")
	created := latestEntry(t, c, stack)
	assert.Equal(t, map[string]int{"create": 3}, created.ResourceChanges, "the stack, the provider, the ConfigMap")
	res = runAudit(t, bin, c, stack, receivers(loki, slack)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, res.stderr)
	assertEvent(t, loki, slack, stack, env, argoApp, created)

	c.must("config", "set", "-s", stack, "revision", "2")
	c.must("up", "-s", stack, "--yes", "--skip-preview")
	updated := latestEntry(t, c, stack)
	assert.Equal(t, map[string]int{"update": 1, "same": 2}, updated.ResourceChanges, "the ConfigMap's annotation changed")
	res = runAudit(t, bin, c, stack, receivers(loki, slack)...)
	require.Equal(t, 0, res.code, res.stderr)
	assertEvent(t, loki, slack, stack, env, argoApp, updated)
	require.Len(t, loki.Pushes(), 2)

	c.must("refresh", "-s", stack, "--yes", "--skip-preview")
	res = runAudit(t, bin, c, stack, receivers(loki, slack)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "is not reported: it is a refresh, which changes no infrastructure")
	assert.Len(t, loki.Pushes(), 2, "a refresh sends nothing")
	assert.Len(t, slack.Messages(), 2)

	c.must("up", "-s", stack, "--yes", "--skip-preview")
	assertSendFailuresReported(t, bin, c, stack)

	c.must("destroy", "-s", stack, "--yes", "--skip-preview")
	destroyed := latestEntry(t, c, stack)
	res = runAudit(t, bin, c, stack, receivers(loki, slack)...)
	require.Equal(t, 0, res.code, res.stderr)
	assertEvent(t, loki, slack, stack, env, "", destroyed)
	assert.Equal(t, 3, destroyed.ResourceChanges["delete"])

	res = runAudit(t, bin, c, "no-such-stack", receivers(loki, slack)...)
	assert.Equal(t, 1, res.code, "a stack that cannot be read fails the command")
	assert.Contains(t, res.stderr, "no-such-stack")
	assert.Len(t, loki.Pushes(), 3)
}
