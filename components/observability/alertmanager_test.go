package observability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var environments = []string{"development", "staging", "production", "system"}

func TestAlertmanagerConfigRoutesCriticalToThePagerEverywhere(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			c := AlertmanagerConfig(env)
			assert.Equal(t, "5m", c.Global.ResolveTimeout)
			assert.Equal(t, InfraReceiver, c.Route.Receiver, "everything not routed elsewhere goes to #platform-infra")
			assert.Equal(t, []string{"alertname", "environment", "namespace"}, c.Route.GroupBy)
			assert.Nil(t, c.Route.Continue, "the root route never continues")

			require.Len(t, c.Route.Routes, 2)
			pager := c.Route.Routes[1]
			assert.Equal(t, []string{`severity="critical"`}, pager.Matchers)
			assert.Equal(t, PagerReceiver, pager.Receiver)
			require.NotNil(t, pager.Continue)
			assert.False(t, *pager.Continue)

			assert.Equal(t, []InhibitRule{{
				SourceMatchers: []string{`severity="critical"`},
				TargetMatchers: []string{`severity="warning"`},
				Equal:          []string{"alertname", "environment", "namespace"},
			}}, c.InhibitRules)

			channels, webhooks := map[string]string{}, map[string]string{}
			for _, r := range c.Receivers {
				for _, s := range r.SlackConfigs {
					channels[r.Name], webhooks[r.Name] = s.Channel, s.APIURLFile
					assert.True(t, s.SendResolved)
					assert.Contains(t, s.Title, "["+env+"]")
					assert.Contains(t, s.Text, "{{ .Annotations.runbook_url }}")
				}
			}
			assert.Equal(t, map[string]string{InfraReceiver: "#platform-infra", PagerReceiver: "#platform-pager"}, channels)
			// A webhook per channel: a Slack app's webhook posts to its own channel whatever a message names.
			assert.Equal(t, map[string]string{
				InfraReceiver: "/etc/alertmanager/secrets/alertmanager-slack/webhook-url",
				PagerReceiver: "/etc/alertmanager/secrets/alertmanager-slack/pager-webhook-url",
			}, webhooks)
		})
	}
}

func TestAlertmanagerConfigNeverHoldsAWebhook(t *testing.T) {
	raw, err := AlertmanagerConfig("production").YAML()
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "api_url:", "webhooks are read from a file only")
	assert.NotContains(t, string(raw), "hooks.slack.com")
}

func TestAlertmanagerValuesAreTheYAMLFile(t *testing.T) {
	c := AlertmanagerConfig("staging")
	raw, err := c.YAML()
	require.NoError(t, err)
	var fromYAML map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &fromYAML))
	// JSON (Helm values) and YAML (the file) name every field the same way.
	values := c.Values()
	assert.Equal(t, normalize(t, fromYAML), normalize(t, values))
}

// normalize round-trips through YAML so that both sides use the same Go types.
func normalize(t *testing.T, v any) any {
	t.Helper()
	raw, err := yaml.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, yaml.Unmarshal(raw, &out))
	return out
}

func TestAlertmanagerConfigPassesAmtool(t *testing.T) {
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		t.Skip("amtool is not on PATH (Debian: apt-get install prometheus-alertmanager)")
	}
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			raw, err := AlertmanagerConfig(env).YAML()
			require.NoError(t, err)
			file := filepath.Join(t.TempDir(), "alertmanager.yml")
			require.NoError(t, os.WriteFile(file, raw, 0o600))

			out, err := exec.Command(amtool, "check-config", file).CombinedOutput()
			require.NoError(t, err, "amtool check-config:\n%s", out)
			assert.Contains(t, string(out), "SUCCESS")

			for labels, want := range map[string]string{
				"severity=critical":                     PagerReceiver,
				"severity=warning":                      InfraReceiver,
				"severity=info":                         InfraReceiver,
				"alertname=Watchdog severity=none":      nullReceiver,
				"alertname=Foo severity=critical env=x": PagerReceiver,
			} {
				args := append([]string{"config", "routes", "test", "--config.file=" + file}, strings.Fields(labels)...)
				out, err := exec.Command(amtool, args...).Output()
				require.NoError(t, err, "amtool config routes test %s", labels)
				assert.Equal(t, want, strings.TrimSpace(string(out)), labels)
			}
		})
	}
}
