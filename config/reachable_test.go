package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kubeconfigFor is a kubeconfig with two contexts: "live" pointing at live, "dead" at dead.
func kubeconfigFor(live, dead string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: live
clusters:
- {name: live, cluster: {server: "https://%s"}}
- {name: dead, cluster: {server: "https://%s"}}
contexts:
- {name: live, context: {cluster: live, user: u}}
- {name: dead, context: {cluster: dead, user: u}}
users: [{name: u, user: {token: secret-token-value}}]
`, live, dead)
}

// closedAddress is a loopback address nothing listens on: a listener's, closed.
func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// writeFile writes content to a new file and returns its path.
func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestCheckReachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	live, dead := l.Addr().String(), closedAddress(t)
	content := kubeconfigFor(live, dead)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	missing := filepath.Join(t.TempDir(), "missing")

	cases := []struct {
		name    string
		cluster Cluster
		want    []string // empty: reachable
	}{
		{"file, current context", Cluster{Mode: Attach, KubeconfigPath: path}, nil},
		{"secret content", Cluster{Mode: Attach, Kubeconfig: content}, nil},
		{"file, context whose server is closed", Cluster{Mode: Attach, KubeconfigPath: path, KubeContext: "dead"},
			[]string{`lke-platform:kubeconfigPath = "` + path + `"`, "https://" + dead, "does not", "scripts/cluster up", "kubeContext"}},
		{"secret content, closed server", Cluster{Mode: Attach, Kubeconfig: content, KubeContext: "dead"},
			[]string{`lke-platform:kubeconfig = "(secret, not shown)"`, "https://" + dead, "scripts/cluster up"}},
		{"unknown context", Cluster{Mode: Attach, KubeconfigPath: path, KubeContext: "nope"},
			[]string{`no context "nope"`, "set kubeContext"}},
		{"file gone since validation", Cluster{Mode: Attach, KubeconfigPath: missing},
			[]string{`lke-platform:kubeconfigPath = "` + missing + `"`, "a readable kubeconfig file"}},
		{"not a kubeconfig", Cluster{Mode: Attach, Kubeconfig: "apiVersion: v1"},
			[]string{"no current-context"}},
		// A value pasted into the wrong key: YAML's own errors quote what they could not read, the value itself.
		{"a token instead of a kubeconfig", Cluster{Mode: Attach, Kubeconfig: "secret-token-value"},
			[]string{`lke-platform:kubeconfig = "(secret, not shown)"`, "not a YAML mapping"}},
		{"a list holding the token", Cluster{Mode: Attach, Kubeconfig: "clusters: secret-token-value\ncontexts: [secret-token-value"},
			[]string{"not YAML (at line 1)"}},
		{"a file of wrong types", Cluster{Mode: Attach, KubeconfigPath: writeFile(t, "current-context: [secret-token-value]")},
			[]string{"not a YAML mapping of a kubeconfig's fields (wrong types at line 1)"}},
		{"create mode is not checked", Cluster{Mode: Create}, nil},
		{"render mode is not checked", Cluster{Mode: Render}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := CheckReachable(tc.cluster, ReachTimeout)
			assert.Less(t, time.Since(start), time.Second, "a closed port on loopback fails at once")
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var cfgErr *Error
			require.ErrorAs(t, err, &cfgErr, "reported as a configuration problem")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "secret-", "credentials are never shown, not even in part")
		})
	}
}
