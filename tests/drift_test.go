//go:build integration

package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/drift"
)

// checkDrift runs the drift check (cmd/drift, built once) for real against stack, deployed as env on the local
// control plane (TestPlatformDeploysEndToEnd calls it): clean first; then, with one NetworkPolicy of the first
// workload namespace deleted and another changed by kubectl, it exits 2, names both as major and posts the
// incident; `pulumi up --refresh` restores both and the check is clean again. Last, with the stack pointed at a
// cluster that does not answer, the check fails with exit 1 and says what to check.
func checkDrift(t *testing.T, c *cli, stack, env string) {
	ns := env + "-apps"
	bin := buildCommand(t, "drift")

	// run runs the check with extra environment and returns the exit code, stdout and stderr.
	run := func(t *testing.T, extraEnv []string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-stack", stack}, args...)...)
		cmd.Dir = c.dir
		cmd.Env = append(c.environ(), extraEnv...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			require.NoError(t, err, "running cmd/drift")
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	report := func(extraEnv ...string) (int, drift.Report, string) {
		t.Helper()
		code, stdout, stderr := run(t, extraEnv, "-json")
		var r drift.Report
		require.NoError(t, json.Unmarshal([]byte(stdout), &r), "the -json report:\n%s\nstderr:\n%s", stdout, stderr)
		return code, r, stderr
	}

	start := time.Now()
	code, r, stderr := report()
	figure(t, "drift check (refresh preview) of the deployed %s stack: %.1f s", env, time.Since(start).Seconds())
	require.Equal(t, drift.ExitClean, code, "a freshly deployed stack has no drift: %+v\n%s", r.Resources, stderr)
	assert.Empty(t, r.Resources)
	assert.Equal(t, env, r.Environment, "the report names the stack's environment")

	// Change the namespace's isolation behind Pulumi's back: delete the default-deny policy, open DNS egress
	// to another port.
	listed, err := kubectl(t, "get", "networkpolicy", "-n", ns, "-o", "name")
	require.NoError(t, err)
	for _, p := range []string{namespace.DefaultDenyPolicy, namespace.AllowDNSPolicy} {
		require.Contains(t, strings.Fields(string(listed)), "networkpolicy.networking.k8s.io/"+p)
	}
	_, err = kubectl(t, "delete", "networkpolicy", namespace.DefaultDenyPolicy, "-n", ns)
	require.NoError(t, err)
	_, err = kubectl(t, "patch", "networkpolicy", namespace.AllowDNSPolicy, "-n", ns, "--type=json", "-p",
		`[{"op":"test","path":"/spec/egress/0/ports/0/port","value":53},{"op":"replace","path":"/spec/egress/0/ports/0/port","value":5353}]`)
	require.NoError(t, err)
	deleted, changed := ns+"-"+namespace.DefaultDenyPolicy, ns+"-"+namespace.AllowDNSPolicy

	// The incident goes to a local receiver, as it would to the on-call tool.
	incidents := make(chan drift.Incident, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var inc drift.Incident
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &inc) != nil {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		incidents <- inc
		w.WriteHeader(http.StatusAccepted)
	}))
	defer receiver.Close()

	code, r, stderr = report(drift.WebhookEnv + "=" + receiver.URL + "/incident/token-abc123")
	require.Equal(t, drift.ExitMajor, code, "%+v\n%s", r.Resources, stderr)
	want := map[string]drift.Change{deleted: drift.Deleted, changed: drift.Updated}
	for _, res := range r.Resources {
		if change, ok := want[res.Name]; ok {
			assert.Equal(t, drift.Major, res.Severity, res.Name)
			assert.Equal(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", res.Type)
			assert.Equal(t, change, res.Change, res.Name)
			delete(want, res.Name)
		}
	}
	assert.Empty(t, want, "not in the report: %+v", r.Resources)
	assert.Len(t, r.Resources, 2, "nothing else drifted: %+v", r.Resources)
	assert.NotContains(t, stderr, "token-abc123", "the webhook URL is a secret")
	select {
	case inc := <-incidents:
		assert.Equal(t, drift.Major, inc.Severity)
		assert.Equal(t, stack, inc.Stack)
		assert.Equal(t, env, inc.Environment)
		assert.Len(t, inc.Resources, 2)
	default:
		t.Errorf("no incident was posted; stderr:\n%s", stderr)
	}

	// The text report's lines (one per resource, severity first) are the unit tests' (drift/report_test.go): each
	// run of the check reads the whole stack back, about a minute here.

	// Restore: a plain `up` compares the program with the state, which still holds both objects as deployed, and
	// would change nothing; --refresh reads the cluster first (docs/runbooks/drift.md).
	c.must("up", "-s", stack, "--yes", "--skip-preview", "--refresh", "--policy-pack", policyPack)
	_, err = kubectl(t, "get", "networkpolicy", namespace.DefaultDenyPolicy, "-n", ns)
	assert.NoError(t, err, "up recreated the default-deny policy")
	port, err := kubectl(t, "get", "networkpolicy", namespace.AllowDNSPolicy, "-n", ns, "-o", "jsonpath={.spec.egress[0].ports[0].port}")
	require.NoError(t, err)
	assert.Equal(t, "53", string(port), "up restored the DNS port")
	code, r, stderr = report()
	assert.Equal(t, drift.ExitClean, code, "%+v\n%s", r.Resources, stderr)
	assert.Empty(t, r.Resources)

	t.Run("unreachable cluster", func(t *testing.T) { checkDriftUnreachable(t, c, stack, run) })
}

// checkDriftUnreachable points the stack's kubernetes provider at a cluster that does not answer (through its
// state: a refresh does not run the program, the provider's config comes from the state), checks that the
// drift check fails with exit 1 and says so, and puts the state back.
func checkDriftUnreachable(t *testing.T, c *cli, stack string, run func(*testing.T, []string, ...string) (int, string, string)) {
	dir := t.TempDir()
	dead, _ := closedKubeconfig(t) // tests/badinput_test.go

	original := c.must("stack", "export", "-s", stack)
	quoted, err := json.Marshal(kubeconfig)
	require.NoError(t, err)
	require.Contains(t, original, string(quoted), "the provider's kubeconfig path is in the state")
	deadQuoted, err := json.Marshal(dead)
	require.NoError(t, err)
	originalFile, deadFile := filepath.Join(dir, "original.json"), filepath.Join(dir, "unreachable.json")
	require.NoError(t, os.WriteFile(originalFile, []byte(original), 0o600))
	require.NoError(t, os.WriteFile(deadFile, []byte(strings.ReplaceAll(original, string(quoted), string(deadQuoted))), 0o600))

	c.must("stack", "import", "-s", stack, "--file", deadFile)
	restored := false
	restore := func() {
		if !restored {
			restored = true
			c.must("stack", "import", "-s", stack, "--file", originalFile)
		}
	}
	t.Cleanup(restore)

	code, stdout, stderr := run(t, nil)
	restore()
	assert.Equal(t, drift.ExitFailed, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stderr, `stack "`+stack+`"`)
	assert.Contains(t, stderr, "unreachable")
	assert.Contains(t, stderr, "kubeconfig", "says what to check")
}
