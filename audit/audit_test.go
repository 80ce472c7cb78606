package audit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/audit"
	"github.com/platform-eng/lke-platform/audit/audittest"
)

// source is a stack as the Automation API would read it.
type source struct {
	update      audit.Update
	never       bool
	historyErr  error
	outputs     map[string]string
	outputErr   error
	environment string
}

func (s source) Latest(context.Context) (audit.Update, bool, error) {
	return s.update, !s.never, s.historyErr
}

func (s source) Output(_ context.Context, name string) (string, error) {
	return s.outputs[name], s.outputErr
}

func (s source) Environment(context.Context, audit.Update) (string, error) {
	if s.environment == "" {
		return "", errors.New("the config key lke-platform:environment is not set")
	}
	return s.environment, nil
}

// applied is a development update that just ended: 2 created, 1 updated, 1 deleted, 40 unchanged.
func applied() source {
	end := time.Now().Add(-5 * time.Second).Truncate(time.Second)
	return source{
		update: audit.Update{Version: 7, Kind: "update", Result: "succeeded", Start: end.Add(-83 * time.Second), End: end,
			Changes:  map[string]int{"create": 2, "update": 1, "delete": 1, "same": 40},
			Metadata: map[string]string{"git.head": "0123456789abcdef0123456789abcdef01234567"}},
		outputs:     map[string]string{"rootApplication": "platform-development-infrastructure"},
		environment: "development",
	}
}

func config(loki, slack string) audit.Config {
	return audit.Config{Stack: "development", LokiURL: loki, SlackWebhook: slack, Actor: "octocat",
		Commit: "fedcba9876543210fedcba9876543210fedcba98", Timeout: 2 * time.Second}
}

func run(t *testing.T, cfg audit.Config, src source) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = audit.Run(context.Background(), cfg, src, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUpdateIsPushedToLokiAndSummarisedOnSlack(t *testing.T) {
	loki, slack := audittest.NewLoki(t), audittest.NewSlack(t)
	src := applied()
	code, stdout, stderr := run(t, config(loki.URL, slack.Webhook), src)

	require.Equal(t, audit.ExitOK, code, stderr)
	assert.Empty(t, stderr)
	assert.Empty(t, loki.Refused())
	require.Len(t, loki.Pushes(), 1, stdout)
	push := loki.Pushes()[0]
	assert.Equal(t, "development", push.Tenant, "the tenant is the environment")
	require.Len(t, push.Streams, 1)
	assert.Equal(t, map[string]string{
		"job": audit.Job, "event": audit.EventName, "environment": "development", "stack": "development",
		"actor": "octocat", "argo_app": "platform-development-infrastructure",
	}, push.Streams[0].Labels)
	require.Len(t, push.Streams[0].Entries, 1)
	entry := push.Streams[0].Entries[0]
	assert.True(t, entry.Time.Equal(src.update.End), "the entry is timed at the end of the update")
	assert.Equal(t, src.update.Changes, entry.Changes())
	assert.Equal(t, "fedcba9876543210fedcba9876543210fedcba98", entry.Fields["commit"], "PLATFORM_AUDIT_COMMIT wins")
	assert.Equal(t, "update", entry.Fields["kind"])
	assert.Equal(t, "succeeded", entry.Fields["result"])
	assert.EqualValues(t, "7", entry.Fields["version"].(interface{ String() string }).String())
	assert.EqualValues(t, "83", entry.Fields["duration_seconds"].(interface{ String() string }).String())
	assert.EqualValues(t, "4", entry.Fields["changed"].(interface{ String() string }).String())

	require.Len(t, slack.Messages(), 1)
	msg := slack.Messages()[0]
	assert.Equal(t, "#platform-infra", msg.Channel)
	assert.Equal(t, "development: update of stack development (version 7) succeeded: 2 created, 1 updated, "+
		"0 replaced, 1 deleted, 40 unchanged; by octocat at fedcba9 in 1m23s", msg.Text)
	assert.Contains(t, stdout, "Loki: sent")
	assert.Contains(t, stdout, "Slack: sent")
}

func TestDestroyAndFailedUpdatesAreReported(t *testing.T) {
	for _, tc := range []struct{ kind, result string }{{"destroy", "succeeded"}, {"update", "failed"}} {
		t.Run(tc.kind+" "+tc.result, func(t *testing.T) {
			loki := audittest.NewLoki(t)
			src := applied()
			src.update.Kind, src.update.Result = tc.kind, tc.result
			src.outputs = nil // a destroyed stack has no outputs: no argo_app label
			code, _, stderr := run(t, config(loki.URL, ""), src)
			require.Equal(t, audit.ExitOK, code, stderr)
			require.Len(t, loki.Pushes(), 1, loki.Refused())
			stream := loki.Pushes()[0].Streams[0]
			assert.NotContains(t, stream.Labels, "argo_app")
			assert.Equal(t, tc.kind, stream.Entries[0].Fields["kind"])
			assert.Equal(t, tc.result, stream.Entries[0].Fields["result"])
		})
	}
}

// Entries that change no infrastructure, or have not finished, are not reported, and the command says why.
func TestOtherEntriesAreNotReported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*source)
		says   string
	}{
		{"refresh", func(s *source) { s.update.Kind = "refresh" }, "it is a refresh, which changes no infrastructure"},
		{"stack import", func(s *source) { s.update.Kind = "import" }, "it is a import"},
		{"resource import", func(s *source) { s.update.Kind = "resource-import" }, "it is a resource-import"},
		{"in progress", func(s *source) { s.update.Result, s.update.End = "in-progress", time.Time{} }, "has not finished"},
		{"never updated", func(s *source) { s.never = true }, "has never been updated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loki, slack := audittest.NewLoki(t), audittest.NewSlack(t)
			src := applied()
			tc.change(&src)
			code, stdout, stderr := run(t, config(loki.URL, slack.Webhook), src)
			assert.Equal(t, audit.ExitOK, code, stderr)
			assert.Contains(t, stdout, tc.says)
			assert.Empty(t, loki.Pushes())
			assert.Empty(t, slack.Messages())
		})
	}
}

func TestUnreadableStackExitsOne(t *testing.T) {
	src := applied()
	src.historyErr = errors.New("error: no stack named 'development' found")
	code, _, stderr := run(t, config("", ""), src)
	assert.Equal(t, audit.ExitReadFailed, code)
	assert.Contains(t, stderr, "reading the history of stack development: error: no stack named 'development' found")

	src = applied()
	src.environment = ""
	code, _, stderr = run(t, config("", ""), src)
	assert.Equal(t, audit.ExitReadFailed, code)
	assert.Contains(t, stderr, "lke-platform:environment is not set")
}

func TestUnreadableOutputsStillSendTheEvent(t *testing.T) {
	loki := audittest.NewLoki(t)
	src := applied()
	src.outputErr = errors.New("passphrase must be set")
	code, _, stderr := run(t, config(loki.URL, ""), src)
	assert.Equal(t, audit.ExitOK, code)
	assert.Contains(t, stderr, "the argo_app label is left out): passphrase must be set")
	require.Len(t, loki.Pushes(), 1)
	assert.NotContains(t, loki.Pushes()[0].Streams[0].Labels, "argo_app")
}

// Label values are always ones Loki accepts, whatever the actor or stack name.
func TestLabelValuesAreValid(t *testing.T) {
	loki := audittest.NewLoki(t)
	src := applied()
	cfg := config(loki.URL, "")
	cfg.Actor = "  "
	cfg.Stack = "org/lke-platform/" + strings.Repeat("é", 1500) + "\xff"
	code, _, stderr := run(t, cfg, src)
	require.Equal(t, audit.ExitOK, code, stderr)
	require.Len(t, loki.Pushes(), 1, loki.Refused())
	labels := loki.Pushes()[0].Streams[0].Labels
	assert.Equal(t, "unknown", labels["actor"])
	assert.LessOrEqual(t, len(labels["stack"]), audittest.MaxLabelValue)
}

// closedURL is an address nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// answering is a receiver that answers every request with status and body.
func answering(t *testing.T, status int, body string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, body, status)
	}))
	t.Cleanup(s.Close)
	return s
}

// hanging is a receiver that never answers (until the client gives up).
func hanging(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// The server notices the client hanging up only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// A failure to send never fails the command: exit 0, each failure reported on stderr (and as a workflow
// warning on GitHub Actions), and the Slack webhook's URL appears nowhere.
func TestSendFailuresAreReportedNotFatal(t *testing.T) {
	loki, slack := audittest.NewLoki(t), audittest.NewSlack(t)
	secret := audittest.SecretPath
	for _, tc := range []struct {
		name       string
		loki, hook func(t *testing.T) string
		want       []string
	}{
		{"Loki answers 500",
			func(t *testing.T) string {
				return answering(t, 500, "ingester unavailable: too many outstanding requests").URL
			},
			func(*testing.T) string { return slack.Webhook },
			[]string{"Loki event of stack development version 7 was not sent", "500 Internal Server Error: ingester unavailable: too many outstanding requests"}},
		{"Loki unreachable", closedURL, func(*testing.T) string { return slack.Webhook },
			[]string{"Loki event", "connection refused"}},
		{"Loki times out", func(t *testing.T) string { return hanging(t).URL }, func(*testing.T) string { return slack.Webhook },
			[]string{"Loki event", "deadline exceeded"}},
		{"Loki URL not absolute", func(*testing.T) string { return "loki:3100" }, func(*testing.T) string { return slack.Webhook },
			[]string{"PLATFORM_AUDIT_LOKI_URL is not an absolute URL"}},
		{"Slack answers 500", func(*testing.T) string { return loki.URL },
			func(t *testing.T) string { return answering(t, 500, "internal_error").URL + secret },
			[]string{"Slack event of stack development version 7 was not sent", "500 Internal Server Error: internal_error"}},
		{"Slack answers 404 quoting the URL", func(*testing.T) string { return loki.URL },
			func(t *testing.T) string { return answering(t, 404, "no_service: "+secret).URL + secret },
			[]string{"Slack webhook (PLATFORM_AUDIT_SLACK_WEBHOOK): answered 404 Not Found: no_service: <redacted>"}},
		{"Slack unreachable", func(*testing.T) string { return loki.URL },
			func(t *testing.T) string { return closedURL(t) + secret },
			[]string{"Slack webhook (PLATFORM_AUDIT_SLACK_WEBHOOK): dial tcp", "connection refused"}},
		{"Slack times out", func(*testing.T) string { return loki.URL },
			func(t *testing.T) string { return hanging(t).URL + secret },
			[]string{"Slack webhook (PLATFORM_AUDIT_SLACK_WEBHOOK): context deadline exceeded"}},
		{"Slack webhook not a URL", func(*testing.T) string { return loki.URL },
			func(*testing.T) string { return "https://hooks.slack.com\x7f" + secret },
			[]string{"Slack webhook (PLATFORM_AUDIT_SLACK_WEBHOOK) is not a valid URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(tc.loki(t), tc.hook(t))
			cfg.Timeout = 300 * time.Millisecond
			cfg.GitHubActions = true
			start := time.Now()
			code, stdout, stderr := run(t, cfg, applied())
			assert.Less(t, time.Since(start), 5*time.Second, "each request is bounded")
			assert.Equal(t, audit.ExitOK, code, "a failure to send never fails the command")
			for _, want := range tc.want {
				assert.Contains(t, stderr, want)
			}
			assert.Equal(t, 1, strings.Count(stdout, "::warning title=audit event not sent::"), stdout)
			for _, out := range []string{stdout, stderr} {
				assert.NotContains(t, out, secret)
				assert.NotContains(t, out, "auditWebhookSecret3Xq")
			}
		})
	}
	assert.Empty(t, loki.Refused())
	assert.Empty(t, slack.Refused())
}

func TestConfigFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	cfg := audit.ConfigFromEnv(env(map[string]string{"GITHUB_ACTOR": "octocat", "USER": "runner", "GITHUB_SHA": "abc",
		"GITHUB_ACTIONS": "true", "PLATFORM_AUDIT_LOKI_URL": "http://loki:3100"}), "staging", ".")
	assert.Equal(t, "octocat", cfg.Actor)
	assert.Empty(t, cfg.Commit)
	assert.Equal(t, "abc", cfg.GitHubSHA)
	assert.True(t, cfg.GitHubActions)
	assert.Equal(t, "http://loki:3100", cfg.LokiURL)
	assert.Empty(t, cfg.SlackWebhook)
	assert.Positive(t, cfg.Timeout)

	cfg = audit.ConfigFromEnv(env(map[string]string{"PLATFORM_AUDIT_ACTOR": "alice", "GITHUB_ACTOR": "octocat",
		"PLATFORM_AUDIT_COMMIT": "def", "GITHUB_SHA": "abc"}), "staging", ".")
	assert.Equal(t, "alice", cfg.Actor)
	assert.Equal(t, "def", cfg.Commit)
	assert.False(t, cfg.GitHubActions)

	assert.Equal(t, "runner", audit.ConfigFromEnv(env(map[string]string{"USER": "runner"}), "s", ".").Actor)
	assert.Equal(t, "unknown", audit.ConfigFromEnv(env(nil), "s", ".").Actor)
}

// Without PLATFORM_AUDIT_COMMIT, the event names the commit Pulumi recorded with the update, else GITHUB_SHA,
// else "unknown" (a folder outside git).
func TestCommitFallsBackToTheUpdatesRecord(t *testing.T) {
	loki := audittest.NewLoki(t)
	cfg := config(loki.URL, "")
	cfg.Commit, cfg.GitHubSHA, cfg.Dir = "", "feedfacefeedfacefeedfacefeedfacefeedface", t.TempDir()
	src := applied()
	run(t, cfg, src)
	delete(src.update.Metadata, "git.head")
	run(t, cfg, src)
	cfg.GitHubSHA = ""
	run(t, cfg, src)
	require.Len(t, loki.Pushes(), 3, loki.Refused())
	commits := []any{}
	for _, p := range loki.Pushes() {
		commits = append(commits, p.Streams[0].Entries[0].Fields["commit"])
	}
	assert.Equal(t, []any{"0123456789abcdef0123456789abcdef01234567", "feedfacefeedfacefeedfacefeedfacefeedface", "unknown"}, commits)
}

// FromSummary reads what `pulumi stack history --json` prints.
func TestFromSummary(t *testing.T) {
	end := "2026-03-01T10:01:23.000Z"
	u, err := audit.FromSummary(auto.UpdateSummary{Version: 3, Kind: "update", Result: "succeeded",
		StartTime: "2026-03-01T10:00:00.000Z", EndTime: &end, ResourceChanges: &map[string]int{"create": 4},
		Environment: map[string]string{"exec.kind": "cli"},
		Config: auto.ConfigMap{"lke-platform:environment": {Value: "staging"},
			"lke-platform:dnsApiToken": {Value: "[secret]", Secret: true}}})
	require.NoError(t, err)
	assert.Equal(t, 83*time.Second, u.End.Sub(u.Start))
	assert.Equal(t, map[string]int{"create": 4}, u.Changes)
	assert.Equal(t, map[string]string{"lke-platform:environment": "staging"}, u.Config, "secrets are left out")

	u, err = audit.FromSummary(auto.UpdateSummary{Version: 4, Kind: "update", Result: "in-progress",
		StartTime: "2026-03-01T10:00:00.000Z"})
	require.NoError(t, err)
	ok, why := audit.Reportable(u)
	assert.False(t, ok)
	assert.Contains(t, why, "has not finished")

	_, err = audit.FromSummary(auto.UpdateSummary{Version: 5, StartTime: "yesterday"})
	assert.ErrorContains(t, err, `history entry 5: start time "yesterday"`)
}
