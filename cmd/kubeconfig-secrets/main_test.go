package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/linode/linodego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-eng/lke-platform/internal/linodeapi"
)

const (
	token        = "test-linode-token"
	clusterToken = "k8sAdminTokenThatMustNotBePrinted"
)

// kubeconfig is an LKE-shaped kubeconfig whose context has another tool's name.
var kubeconfig = []byte(`apiVersion: v1
kind: Config
clusters:
- name: lke531921
  cluster:
    server: https://531921.eu-west-2.linodelke.net:443
    certificate-authority-data: Q0EtREFUQQ==
users:
- name: lke531921-admin
  user:
    token: ` + clusterToken + `
contexts:
- name: some-other-name
  context:
    cluster: lke531921
    user: lke531921-admin
    namespace: default
current-context: some-other-name
`)

// linodeAPI serves the Linode API stand-in with the inventory's development cluster, for LINODE_URL.
func linodeAPI(t *testing.T) {
	t.Helper()
	api := linodeapi.New(linodeapi.Options{Token: token, Kubeconfig: kubeconfig})
	api.Seed(linodeapi.Cluster{LKECluster: linodego.LKECluster{ID: 531921, Label: "platform-development", Region: "fr-par"}})
	url, err := api.Start()
	require.NoError(t, err)
	t.Cleanup(api.Close)
	t.Setenv("LINODE_URL", url)
}

// development's cluster is the stack's importClusterId; the two secrets land in private files named after them,
// the kubeconfig's context named as the inventory names it; nothing printed is a credential.
func TestTheSecretsOfTheInventorysCluster(t *testing.T) {
	linodeAPI(t)
	out := filepath.Join(t.TempDir(), "secrets")
	var printed bytes.Buffer
	require.NoError(t, run(&printed, "../..", "development", 0, out, token))

	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	for _, name := range []string{"DEV_KUBECONFIG_B64", "DEV_KUBE_CONTEXT"} {
		st, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), name)
		assert.Contains(t, printed.String(), "gh secret set "+name+" < "+filepath.Join(out, name))
	}
	ctxName, err := os.ReadFile(filepath.Join(out, "DEV_KUBE_CONTEXT"))
	require.NoError(t, err)
	assert.Equal(t, "lke531921-ctx", string(ctxName))

	b64, err := os.ReadFile(filepath.Join(out, "DEV_KUBECONFIG_B64"))
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(string(b64))
	require.NoError(t, err)
	cfg, err := clientcmd.Load(raw)
	require.NoError(t, err)
	assert.Equal(t, "lke531921-ctx", cfg.CurrentContext)
	require.Len(t, cfg.Contexts, 1)
	assert.Equal(t, "lke531921", cfg.Contexts["lke531921-ctx"].Cluster)
	assert.Equal(t, "lke531921-admin", cfg.Contexts["lke531921-ctx"].AuthInfo)
	assert.Equal(t, clusterToken, cfg.AuthInfos["lke531921-admin"].Token, "the credential is kept")
	assert.Equal(t, "https://531921.eu-west-2.linodelke.net:443", cfg.Clusters["lke531921"].Server)

	assert.NotContains(t, printed.String(), clusterToken)
	assert.NotContains(t, printed.String(), string(b64[:40]))
}

func TestBadInputWritesNothing(t *testing.T) {
	linodeAPI(t)
	for name, tc := range map[string]struct {
		stack, token string
		want         string
	}{
		"unknown stack":     {"dev", token, `-stack "dev": want one of development, staging, production, system`},
		"no token":          {"development", "", "LINODE_TOKEN is not set"},
		"created cluster":   {"staging", token, "stack staging adopts no cluster"},
		"wrong token":       {"production", "nope", "the kubeconfig of LKE cluster 531922"},
		"cluster not there": {"production", token, "the kubeconfig of LKE cluster 531922"},
	} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			err := run(&bytes.Buffer{}, "../..", tc.stack, 0, out, tc.token)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			entries, _ := os.ReadDir(out)
			assert.Empty(t, entries, "nothing written")
		})
	}
}
