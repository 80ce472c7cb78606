package platform

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

// stackConfig is a committed stack's config as the CLI hands it to the program (qualified keys).
func stackConfig(t *testing.T, stack string, overrides map[string]string) map[string]string {
	cfg, err := config.StackConfig("..", stack)
	require.NoError(t, err)
	for k, v := range overrides {
		cfg[config.Namespace+":"+k] = v
	}
	return cfg
}

func TestEveryStackComposesThePlatform(t *testing.T) {
	for _, stack := range config.Environments {
		t.Run(stack, func(t *testing.T) {
			rec, err := mocks.Run(t, stack, stackConfig(t, stack, nil), Program)
			require.NoError(t, err)

			counts := map[string]int{}
			for _, r := range rec.Resources() {
				counts[r.Type]++
				assert.Equal(t, stack == config.Production, r.Protect, "%s %s: protect only on production", r.Type, r.Name)
			}
			want := map[string]int{
				"platform:cluster:Cluster":                                                    1,
				"linode:index/lkeCluster:LkeCluster":                                          1,
				"pulumi:providers:kubernetes":                                                 1,
				"platform:namespace:Namespace":                                                1,
				"platform:admission:Policies":                                                 1,
				"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy":        5,
				"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": 5,
				"kubernetes:core/v1:Namespace":                                                1,
				"kubernetes:core/v1:ResourceQuota":                                            1,
				"kubernetes:core/v1:LimitRange":                                               1,
				"kubernetes:networking.k8s.io/v1:NetworkPolicy":                               4,
			}
			if stack == config.System {
				want["platform:gpupool:GPUPool"] = 1
				want["linode:index/lkeNodePool:LkeNodePool"] = 1
			}
			assert.Equal(t, want, counts)

			ns := rec.One(t, "kubernetes:core/v1:Namespace", stack+"-apps")
			assert.Contains(t, ns.Provider, "pulumi:providers:kubernetes::"+stack, "namespaces deploy through the cluster's provider")
			if stack == config.System {
				pool := rec.One(t, "linode:index/lkeNodePool:LkeNodePool", "system-gpu")
				assert.Equal(t, 531900.0, pool.Inputs["clusterId"].NumberValue(), "the pool joins the stack's cluster")
			}
		})
	}
}

func TestAttachModeRegistersNoLinodeResource(t *testing.T) {
	rec, err := mocks.RunWithSecrets(t, "local-development", stackConfig(t, config.Development, map[string]string{
		"clusterMode": "attach", "importClusterId": "", "kubeconfig": "apiVersion: v1\nkind: Config\n",
	}), []string{"lke-platform:kubeconfig"}, Program)
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		assert.NotContains(t, r.Type, "linode:", "attach mode must not touch the Linode API")
	}
	assert.Len(t, rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy"), 4)
}

func TestBadConfigRegistersNothing(t *testing.T) {
	rec, err := mocks.Run(t, "staging", stackConfig(t, config.Staging, map[string]string{
		"baselinePool": `{"type":"g6-standard-8","count":3,"min":8,"max":4}`,
	}), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:baselinePool.min = "8" is not allowed; want at most baselinePool.max (4)`)
	assert.Empty(t, rec.Resources(), "validation happens before any resource is registered")
}

func TestUnknownKeyIsRefused(t *testing.T) {
	t.Setenv(pulumi.EnvConfig, `{"lke-platform:environment":"staging","lke-platform:baselinPool":"{}"}`)
	rec, err := mocks.Run(t, "staging", stackConfig(t, config.Staging, nil), Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown configuration keys lke-platform:baselinPool")
	assert.Empty(t, rec.Resources())
}
