//go:build integration

package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/monitoring"
)

// slackWebhookFiles are where the generated Alertmanager configuration reads each channel's Slack webhook from:
// the sealed Secret alertmanager-slack, mounted by the operator under /etc/alertmanager/secrets/<secret>/.
var slackWebhookFiles = map[string]string{
	"#platform-infra": "/etc/alertmanager/secrets/alertmanager-slack/webhook-url",
	"#platform-pager": "/etc/alertmanager/secrets/alertmanager-slack/pager-webhook-url",
}

// infrastructureValues returns the Helm values of one chart as its Application carries them (objs expanded by
// withCharts: the root Application holds the charts' Applications).
func infrastructureValues(t *testing.T, objs []object, env, chart string) map[string]any {
	t.Helper()
	apps := find(objs, "Application", "platform-"+env+"-"+chart)
	require.Len(t, apps, 1, "the root Application holds no Application for chart %s", chart)
	values, ok := dig(apps[0].Obj, "spec", "source", "helm", "valuesObject").(map[string]any)
	require.True(t, ok, "Application %s has no values", apps[0].Name())
	return values
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func TestGeneratedRulesAndRoutingPassTheRealTools(t *testing.T) {
	t.Parallel() // no program of its own: takes no turn (harness_test.go)
	for _, env := range []string{"development", "staging", "production", "system"} {
		t.Run(env, func(t *testing.T) {
			objs := withCharts(t, readObjects(t, renderedCluster(t, env)))
			dir := t.TempDir()
			rules := find(objs, "PrometheusRule", "")
			require.NotEmpty(t, rules)
			for _, r := range rules {
				path := writeRules(t, dir, r)
				run(t, "promtool", "check", "rules", path)
			}

			am := writeAlertmanagerConfig(t, dir, objs, env, func(channel string) string {
				return "https://hooks.slack.com/services/T/B/" + strings.TrimPrefix(channel, "#")
			})
			run(t, "amtool", "check-config", am)
			for severity, receiver := range map[string]string{"critical": "platform-pager", "warning": "platform-infra", "info": "platform-infra"} {
				out := run(t, "amtool", "config", "routes", "test", "--config.file="+am, "severity="+severity, "environment="+env, "alertname=Test")
				assert.Equal(t, receiver, strings.TrimSpace(out), "severity=%s", severity)
			}
		})
	}
}

// writeRules writes a rendered PrometheusRule's groups as a Prometheus rule file.
func writeRules(t *testing.T, dir string, rule object) string {
	t.Helper()
	groups := dig(rule.Obj, "spec", "groups")
	require.NotNil(t, groups, "%s has no spec.groups", rule.Path)
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	require.NoError(t, err)
	path := filepath.Join(dir, rule.Name()+".rules.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// writeAlertmanagerConfig writes the generated Alertmanager configuration, with the webhook file of each channel
// it reads pointed at a local file holding webhook(channel), instead of the path inside the pod.
func writeAlertmanagerConfig(t *testing.T, dir string, objs []object, env string, webhook func(channel string) string) string {
	t.Helper()
	values := infrastructureValues(t, objs, env, "kube-prometheus-stack")
	assert.Contains(t, dig(values, "alertmanager", "alertmanagerSpec", "secrets"), "alertmanager-slack",
		"the webhooks' Secret is mounted where the configuration reads it")
	cfg := dig(values, "alertmanager", "config")
	require.NotNil(t, cfg)
	b, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	for channel, file := range slackWebhookFiles {
		local := filepath.Join(dir, strings.TrimPrefix(channel, "#")+"-webhook-url")
		require.NoError(t, os.WriteFile(local, []byte(webhook(channel)), 0o600))
		require.Contains(t, string(b), file)
		b = []byte(strings.ReplaceAll(string(b), file, local))
	}
	path := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// TestSampleServiceAlertReachesSlack runs the sample service as a local process, a real Prometheus scraping it
// with the scrape settings and rules the program generated, and a real Alertmanager with the generated routing
// posting to a local stand-in for Slack. The service is up (sample_service_up = 1); stopped, the generated
// alert fires and reaches the on-call channel. It waits in real time (the rule's `for: 1m`, the generated 30 s
// scrapes, Alertmanager's grouping: about two minutes), so a developer's -short loop leaves it to the full suite.
func TestSampleServiceAlertReachesSlack(t *testing.T) {
	if testing.Short() {
		t.Skip("waits about two minutes for the alert in real time: not run with -short")
	}
	t.Parallel() // no program of its own: takes no turn (harness_test.go)
	const env = "development"
	ns := env + "-apps"
	dir := t.TempDir()

	svcAddr, svc := startSampleService(t, dir)
	waitHTTP(t, "http://"+svcAddr+"/healthz", 30*time.Second)
	resp, err := http.Get("http://" + svcAddr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Slack, standing in: records every message Alertmanager posts.
	slack := &slackRecorder{}
	slackServer := httptest.NewServer(slack)
	defer slackServer.Close()

	// The rendered objects, once the service runs: the render (which another test may have started) is the
	// longest wait.
	objs := withCharts(t, readObjects(t, renderedCluster(t, env)))
	am := writeAlertmanagerConfig(t, dir, objs, env, func(channel string) string {
		return slackServer.URL + "/services/T/B/" + strings.TrimPrefix(channel, "#")
	})
	amAddr := freeAddr(t)
	start(t, exec.Command("prometheus-alertmanager", "--config.file="+am, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address="))
	waitHTTP(t, "http://"+amAddr+"/-/ready", 30*time.Second)

	// Prometheus with the ServiceMonitor's endpoint, the rendered rules and the chart's external labels.
	monitors := find(objs, "ServiceMonitor", sampleDeployment)
	require.Len(t, monitors, 1)
	var sm struct {
		Spec struct {
			Endpoints []monitoring.Endpoint `yaml:"endpoints"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(monitors[0].Raw, &sm))
	require.Len(t, sm.Spec.Endpoints, 1)
	var ruleFiles []string
	for _, r := range find(objs, "PrometheusRule", "") {
		ruleFiles = append(ruleFiles, writeRules(t, dir, r))
	}
	values := infrastructureValues(t, objs, env, "kube-prometheus-stack")
	external := map[string]string{}
	for k, v := range dig(values, "prometheus", "prometheusSpec", "externalLabels").(map[string]any) {
		external[k] = fmt.Sprint(v)
	}
	assert.Equal(t, env, external["environment"], "every series and alert carries the environment")
	promCfg := prometheusConfig{
		PrometheusConfig: monitoring.PrometheusConfig{
			// Rules are evaluated every 5 s instead of the chart's 30 s, to keep the test short; scraping is as generated.
			Global:    monitoring.GlobalConfig{EvaluationInterval: "5s", ExternalLabels: external},
			RuleFiles: ruleFiles,
			ScrapeConfigs: []monitoring.ScrapeJob{monitoring.ScrapeConfig(sampleDeployment, sm.Spec.Endpoints[0],
				[]string{svcAddr}, map[string]string{"namespace": ns, "service": sampleDeployment})},
		},
		Alerting: alerting{Alertmanagers: []alertmanagerTargets{{StaticConfigs: []monitoring.StaticConfig{{Targets: []string{amAddr}}}}}},
	}
	b, err := yaml.Marshal(promCfg)
	require.NoError(t, err)
	promFile := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(promFile, b, 0o644))
	run(t, "promtool", "check", "config", promFile)
	promAddr := freeAddr(t)
	start(t, exec.Command("prometheus", "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr))
	waitHTTP(t, "http://"+promAddr+"/-/ready", 60*time.Second)

	began := time.Now()
	require.Eventually(t, func() bool { return query(t, promAddr, "sample_service_up") == "1" }, 2*time.Minute, time.Second,
		"Prometheus never scraped sample_service_up = 1")
	figure(t, "sample_service_up = 1 in Prometheus %.1f s after it started", time.Since(began).Seconds())

	// Stop the service: the rule fires once sample_service_up has been missing for its `for`, and Alertmanager
	// routes the critical alert to the on-call channel.
	require.NoError(t, svc.Process.Signal(os.Interrupt))
	stopped := time.Now()
	// Through #platform-pager's own webhook: a Slack app's webhook posts to its channel whatever a message names.
	require.Eventually(t, func() bool { return slack.has("SampleServiceDown", "webhook /services/T/B/platform-pager:") }, 10*time.Minute, time.Second,
		"no SampleServiceDown message reached #platform-pager's webhook; messages: %s", slack.all())
	assert.False(t, slack.has("SampleServiceDown", "webhook /services/T/B/platform-infra:"), "a paged alert is not repeated in #platform-infra")
	figure(t, "SampleServiceDown posted to #platform-pager %.1f s after the service stopped", time.Since(stopped).Seconds())
	assert.Contains(t, slack.all(), env, "the message names the environment")

	// The quarterly alert drill (cmd/alert-drill) through the same Alertmanager: its warning reaches
	// #platform-infra's own webhook.
	drill := buildCommand(t, "alert-drill")
	out, err := exec.Command(drill, "-alertmanager", "http://"+amAddr, "-environment", env, "-severity", "warning").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "PlatformAlertDrill (warning, "+env+") is firing")
	require.Eventually(t, func() bool { return slack.has("PlatformAlertDrill", "webhook /services/T/B/platform-infra:") }, 3*time.Minute, time.Second,
		"the drill alert never reached #platform-infra's webhook; messages: %s", slack.all())
}

type prometheusConfig struct {
	monitoring.PrometheusConfig `yaml:",inline"`
	Alerting                    alerting `yaml:"alerting"`
}

type alerting struct {
	Alertmanagers []alertmanagerTargets `yaml:"alertmanagers"`
}

type alertmanagerTargets struct {
	StaticConfigs []monitoring.StaticConfig `yaml:"static_configs"`
}

// slackRecorder is a local Slack, serving every incoming webhook: it accepts what Alertmanager posts and keeps
// it, after the webhook's path ("webhook <path>: <message>").
type slackRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (s *slackRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg map[string]any
	if r.Method != http.MethodPost || json.Unmarshal(body, &msg) != nil {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, "webhook "+r.URL.Path+": "+string(body))
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

func (s *slackRecorder) has(parts ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			return true
		}
	}
	return false
}

func (s *slackRecorder) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.messages, "\n")
}

// query returns the value of an instant query's first sample, or "" if there is none.
func query(t *testing.T, addr, q string) string {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Data.Result) == 0 || len(body.Data.Result[0].Value) < 2 {
		return ""
	}
	return fmt.Sprint(body.Data.Result[0].Value[1])
}

// freeAddr returns a loopback address with a port free at the time of the call.
// startSampleService builds the sample service as CI builds it and runs it on a free loopback address, with a
// secret mounted as files under dir.
func startSampleService(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	bin := filepath.Join(dir, "sample-service")
	run(t, filepath.Join(repoRoot(), "scripts", "build-sample-service"), bin)
	secrets := filepath.Join(dir, "secrets")
	require.NoError(t, os.MkdirAll(secrets, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "token"), []byte("local"), 0o600))
	addr := freeAddr(t)
	return addr, start(t, exec.Command(bin), "LISTEN_ADDR="+addr, "SECRETS_DIR="+secrets)
}

// exitCode runs cmd and returns its exit code and combined output; a command that cannot start fails the test.
func exitCode(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err, string(out))
	return 0, string(out)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// start runs a server process for the rest of the test, its output in the test log on failure.
func start(t *testing.T, cmd *exec.Cmd, env ...string) *exec.Cmd {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), "starting %s", cmd.Path)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), out.String())
		}
	})
	return cmd
}

// waitHTTP waits for a URL to answer 200.
func waitHTTP(t *testing.T, u string, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s", u, limit)
}

// run runs a tool and returns its standard output; a failure fails the test with the tool's output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s:\n%s%s", name, strings.Join(args, " "), out, stderr.String())
	return string(out)
}
