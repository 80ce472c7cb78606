package linodeapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/linode/linodego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stand-in is checked through linodego, the client the Linode provider is built on: if the library reads
// an answer, the provider does too.
func start(t *testing.T, token string) (*Server, *linodego.Client) {
	t.Helper()
	s := New(Options{
		Token: token, Kubeconfig: []byte("apiVersion: v1\nkind: Config\n"), Versions: []string{"1.31", "1.32"},
		Types: []linodego.LinodeType{{ID: "g6-standard-8", Class: "standard"}, {ID: "g1-gpu-rtx6000-1", Class: "gpu", GPUs: 1}},
	})
	url, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(s.Close)
	c := linodego.NewClient(http.DefaultClient)
	c.SetBaseURL(url).SetToken(token)
	return s, &c
}

func TestClusterLifecycleThroughTheClient(t *testing.T) {
	s, c := start(t, "test-token")
	ctx := context.Background()
	enabled := true
	ipv4 := []string{"203.0.113.0/28"}
	created, err := c.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "lke-staging", Region: "fr-par", K8sVersion: "1.32", Tags: []string{"environment:staging"},
		ControlPlane: &linodego.LKEClusterControlPlaneOptions{ACL: &linodego.LKEClusterControlPlaneACLOptions{
			Enabled: &enabled, Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &ipv4},
		}},
		NodePools: []linodego.LKENodePoolCreateOptions{{
			Type: "g6-standard-8", Count: 3, Tags: []string{"environment:staging"},
			Autoscaler: &linodego.LKENodePoolAutoscaler{Enabled: true, Min: 3, Max: 10},
		}},
	})
	require.NoError(t, err)
	assert.Equal(t, linodego.LKEClusterReady, created.Status)

	pools, err := c.ListLKENodePools(ctx, created.ID, nil)
	require.NoError(t, err)
	require.Len(t, pools, 1)
	assert.Len(t, pools[0].Linodes, 3)
	for _, n := range pools[0].Linodes {
		assert.Equal(t, linodego.LKELinodeReady, n.Status)
	}
	assert.Equal(t, []string{"environment:staging"}, pools[0].Tags)

	acl, err := c.GetLKEClusterControlPlaneACL(ctx, created.ID)
	require.NoError(t, err)
	assert.True(t, acl.ACL.Enabled)
	assert.Equal(t, ipv4, acl.ACL.Addresses.IPv4)

	kc, err := c.GetLKEClusterKubeconfig(ctx, created.ID)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(kc.KubeConfig)
	require.NoError(t, err)
	assert.Equal(t, "apiVersion: v1\nkind: Config\n", string(raw))

	gpu, err := c.CreateLKENodePool(ctx, created.ID, linodego.LKENodePoolCreateOptions{
		Type: "g1-gpu-rtx6000-1", Count: 2, Tags: []string{"pool:external"},
	})
	require.NoError(t, err)
	updated, err := c.UpdateLKENodePool(ctx, created.ID, gpu.ID, linodego.LKENodePoolUpdateOptions{Count: 1})
	require.NoError(t, err)
	assert.Len(t, updated.Linodes, 1)
	require.NoError(t, c.DeleteLKENodePool(ctx, created.ID, gpu.ID))
	_, err = c.GetLKENodePool(ctx, created.ID, gpu.ID)
	assertStatus(t, http.StatusNotFound, err)

	require.NoError(t, c.DeleteLKECluster(ctx, created.ID))
	_, err = c.GetLKECluster(ctx, created.ID)
	assertStatus(t, http.StatusNotFound, err)
	assert.Empty(t, s.Clusters())

	var writes []string
	for _, r := range s.Requests() {
		assert.True(t, r.Handled, "%s", r)
		if r.Write() {
			writes = append(writes, r.String())
		}
	}
	assert.Equal(t, []string{
		"POST /v4/lke/clusters",
		"POST /v4/lke/clusters/1000/pools",
		"PUT /v4/lke/clusters/1000/pools/1002",
		"DELETE /v4/lke/clusters/1000/pools/1002",
		"DELETE /v4/lke/clusters/1000",
	}, writes)
}

func TestSeededClusterIsReadAsGiven(t *testing.T) {
	s, c := start(t, "")
	s.Seed(Cluster{
		LKECluster: linodego.LKECluster{ID: 531921, Label: "lke-development", Region: "fr-par", K8sVersion: "1.31"},
		Pools:      []linodego.LKENodePool{{Type: "g6-standard-8", Count: 3}},
	})
	got, err := c.GetLKECluster(context.Background(), 531921)
	require.NoError(t, err)
	assert.Equal(t, "lke-development", got.Label)
	pools, err := c.ListLKENodePools(context.Background(), 531921, nil)
	require.NoError(t, err)
	require.Len(t, pools, 1)
	assert.Len(t, pools[0].Linodes, 3)
	for _, r := range s.Requests() {
		assert.False(t, r.Write(), "%s", r)
	}
}

func TestRefusals(t *testing.T) {
	s, c := start(t, "right")
	ctx := context.Background()

	wrong := linodego.NewClient(http.DefaultClient)
	wrong.SetBaseURL(s.httpSrv.URL).SetToken("wrong")
	_, err := wrong.ListLKEClusters(ctx, nil)
	assertStatus(t, http.StatusUnauthorized, err)

	_, err = c.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "x", Region: "fr-par", K8sVersion: "1.99",
		NodePools: []linodego.LKENodePoolCreateOptions{{Type: "g6-standard-8", Count: 1}},
	})
	assertStatus(t, http.StatusBadRequest, err)
	assert.Contains(t, err.Error(), "k8s_version")

	_, err = c.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "x", Region: "fr-par", K8sVersion: "1.32",
		NodePools: []linodego.LKENodePoolCreateOptions{{Type: "g9-unknown", Count: 1}},
	})
	assertStatus(t, http.StatusBadRequest, err)

	// A call the stand-in does not serve is answered 404 and recorded as unhandled.
	_, err = c.ListInstances(ctx, nil)
	assertStatus(t, http.StatusNotFound, err)
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "GET /v4/linode/instances", last.String())
	assert.False(t, last.Handled)
	assert.Empty(t, s.Clusters())
}

func assertStatus(t *testing.T, status int, err error) {
	t.Helper()
	var lerr *linodego.Error
	require.True(t, errors.As(err, &lerr), "want a linodego error, got %v", err)
	assert.Equal(t, status, lerr.Code, "%v", err)
}

func TestDomainLifecycleThroughTheClient(t *testing.T) {
	s, c := start(t, "test-token")
	ctx := context.Background()
	created, err := c.CreateDomain(ctx, linodego.DomainCreateOptions{
		Domain: "staging.lke.example.com", Type: linodego.DomainTypeMaster, SOAEmail: "platform@example.org",
		Tags: []string{"environment:staging"},
	})
	require.NoError(t, err)
	assert.Equal(t, linodego.DomainStatusActive, created.Status)
	assert.Equal(t, []string{"staging.lke.example.com"}, s.Domains())

	_, err = c.CreateDomain(ctx, linodego.DomainCreateOptions{Domain: "staging.lke.example.com", Type: linodego.DomainTypeMaster, SOAEmail: "a@example.org"})
	require.Error(t, err, "a name is taken once")
	_, err = c.CreateDomain(ctx, linodego.DomainCreateOptions{Domain: "other.lke.example.com", Type: linodego.DomainTypeMaster})
	require.Error(t, err, "a master zone needs its SOA email")

	updated, err := c.UpdateDomain(ctx, created.ID, linodego.DomainUpdateOptions{SOAEmail: "dns@example.org"})
	require.NoError(t, err)
	assert.Equal(t, "dns@example.org", updated.SOAEmail)
	got, err := c.GetDomain(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, "dns@example.org", got.SOAEmail)

	require.NoError(t, c.DeleteDomain(ctx, created.ID))
	assert.Empty(t, s.Domains())
	_, err = c.GetDomain(ctx, created.ID)
	var apiErr *linodego.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Code)
}
