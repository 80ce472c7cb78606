//go:build integration

package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badInput is one mistake an operator makes: how to make it on a healthy stack, and what the failing up must
// say. make returns extra environment for the command and anything else the message must contain.
type badInput struct {
	name string
	make func(t *testing.T, c *cli, stack, stackFile string) (env, want []string)
	want []string
}

// badInputs are the mistakes, CLI-level ones first (they fail before the program runs), then the program's own.
var badInputs = []badInput{
	{
		name: "malformed stack file",
		make: func(t *testing.T, _ *cli, _, stackFile string) ([]string, []string) {
			appendTo(t, stackFile, "  lke-platform:tracing: [unclosed\n")
			return nil, nil
		},
		// The CLI's message names neither the file nor the fix: docs/runbooks/troubleshooting.md does.
		want: []string{"invalid YAML file", "line"},
	},
	{
		name: "wrongly typed value",
		make: func(t *testing.T, c *cli, stack, _ string) ([]string, []string) {
			c.must("config", "set", "-s", stack, "servicesPerNamespace", "thirty")
			return nil, nil
		},
		want: []string{"servicesPerNamespace", "must be of type 'integer'"},
	},
	{
		name: "wrong passphrase",
		make: func(*testing.T, *cli, string, string) ([]string, []string) {
			return []string{"PULUMI_CONFIG_PASSPHRASE=not-the-stack-passphrase"}, nil
		},
		want: []string{"incorrect passphrase"},
	},
	{
		name: "missing secret",
		make: func(t *testing.T, c *cli, stack, _ string) ([]string, []string) {
			c.must("config", "rm", "-s", stack, "slackWebhookUrl")
			return nil, nil
		},
		want: []string{"lke-platform:slackWebhookUrl is not set", "pulumi config set --secret slackWebhookUrl"},
	},
	{
		name: "kubeconfig path that does not exist",
		make: func(t *testing.T, c *cli, stack, _ string) ([]string, []string) {
			c.must("config", "set", "--plaintext", "-s", stack, "kubeconfigPath", "/nonexistent/lke-platform.kubeconfig")
			return nil, nil
		},
		want: []string{`lke-platform:kubeconfigPath = "/nonexistent/lke-platform.kubeconfig"`, "pulumi config set kubeconfigPath FILE"},
	},
	{
		name: "kubeconfig whose server is a closed port",
		make: func(t *testing.T, c *cli, stack, _ string) ([]string, []string) {
			path, server := closedKubeconfig(t)
			c.must("config", "set", "--plaintext", "-s", stack, "kubeconfigPath", path)
			return nil, []string{path, server}
		},
		want: []string{"lke-platform:kubeconfigPath", "connection refused", "scripts/cluster up"},
	},
}

// TestBadInput makes each mistake on a stack of the program (staging, attached to the shared control plane,
// where no other test deploys staging) and runs `pulumi up`: each fails fast, with a message that says what is
// wrong and what to do, and changes nothing: no platform resource in the state, no namespace of the environment
// in the cluster. How long each took to fail is a figure.
func TestBadInput(t *testing.T) {
	needsCluster(t)
	parallel(t)
	c := newCLI(t, "")
	const stack, env = "badinput", "staging"
	c.platformStack(stack, env, kubeconfig)
	stackFile := filepath.Join(c.dir, "Pulumi."+stack+".yaml")
	good, err := os.ReadFile(stackFile)
	require.NoError(t, err)
	// Build the program once, so that no figure is the compiler's: a preview that fails in the program, early.
	out, err := c.run(nil, "preview", "-s", stack, "--config", "lke-platform:environment=nowhere")
	require.Error(t, err, out)
	require.Contains(t, out, `lke-platform:environment = "nowhere" is not allowed`, out)
	require.NoError(t, os.WriteFile(stackFile, good, 0o644)) // --config saved the value in the stack file

	namespacesBefore := namespaces(t, env)
	var times []string
	for _, in := range badInputs {
		t.Run(in.name, func(t *testing.T) {
			c.t = t
			defer func() { require.NoError(t, os.WriteFile(stackFile, good, 0o644)) }()
			before := platformResources(t, c, stack)
			extraEnv, extraWant := in.make(t, c, stack, stackFile)

			start := time.Now()
			out, err := c.run(extraEnv, "up", "-s", stack, "--yes", "--skip-preview")
			took := time.Since(start)
			times = append(times, fmt.Sprintf("%s %.1f s", in.name, took.Seconds()))

			require.Error(t, err, "the up must fail:\n%s", out)
			for _, w := range append(in.want, extraWant...) {
				assert.Contains(t, out, w)
			}
			assert.Less(t, took, time.Minute, "fails fast")
			assert.Equal(t, before, platformResources(t, c, stack), "the state gained or lost resources")
			assert.Equal(t, namespacesBefore, namespaces(t, env), "the environment's namespaces changed")
		})
	}
	c.t = t
	assert.Empty(t, namespacesBefore, "no namespace of %s was there to begin with", env)
	_, err = kubectl(t, "get", "namespace", env+"-apps")
	assert.Error(t, err, "no platform namespace was created")
	figure(t, "bad input fails in: %s", strings.Join(times, ", "))
}

// platformResources are the URNs of the stack's resources, apart from the root stack resource, which Pulumi
// registers before the program runs (so a failed up of a new stack records it, and nothing else).
func platformResources(t *testing.T, c *cli, stack string) []string {
	t.Helper()
	raw := []byte(c.stdout("stack", "export", "-s", stack))
	var doc struct {
		Deployment struct {
			Resources []struct {
				URN  string `json:"urn"`
				Type string `json:"type"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	urns := []string{}
	for _, r := range doc.Deployment.Resources {
		if r.Type != "pulumi:pulumi:Stack" {
			urns = append(urns, r.URN)
		}
	}
	slices.Sort(urns)
	return urns
}

// namespaces are the shared control plane's namespaces labelled with the environment env: those the program
// creates (tests running beside this one create others).
func namespaces(t *testing.T, env string) []string {
	t.Helper()
	out, err := kubectl(t, "get", "namespaces", "-l", "platform.lke/environment="+env, "-o", "name")
	require.NoError(t, err)
	return strings.Fields(string(out))
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// closedKubeconfig writes a kubeconfig whose server is a loopback port nothing listens on (a listener's,
// closed) and returns its path and server.
func closedKubeconfig(t *testing.T) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	server := "https://" + l.Addr().String()
	require.NoError(t, l.Close())
	path := filepath.Join(t.TempDir(), "closed.kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: closed, cluster: {server: "`+server+`"}}]
contexts: [{name: closed, context: {cluster: closed, user: closed}}]
current-context: closed
users: [{name: closed, user: {token: none}}]
`), 0o600))
	return path, server
}
