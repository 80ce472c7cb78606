package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
)

func defaultBounds(t *testing.T) QuotaBounds {
	t.Helper()
	b, err := quotaBoundsFrom(nil)
	require.NoError(t, err)
	return b
}

// programHard is what components/namespace creates with the default sizing (see its tests).
func programHard() map[string]string {
	return map[string]string{
		"pods": "108", "services": "30", "services.loadbalancers": "0", "services.nodeports": "0",
		"requests.cpu": "10800m", "requests.memory": "13824Mi", "limits.cpu": "54", "limits.memory": "27Gi",
	}
}

func TestCheckQuota(t *testing.T) {
	with := func(changes map[string]string, drop ...string) map[string]string {
		h := programHard()
		for k, v := range changes {
			h[k] = v
		}
		for _, k := range drop {
			delete(h, k)
		}
		return h
	}
	tests := []struct {
		name string
		hard map[string]string
		want []string
	}{
		{"the program's default quota", programHard(), nil},
		{"exactly at the bounds", with(map[string]string{"pods": "300", "requests.cpu": "32", "limits.memory": "256Gi"}), nil},
		{"bounds compare quantities, not strings", with(map[string]string{"requests.cpu": "32000m", "requests.memory": "131072Mi"}), nil},
		{"legacy alias cpu for requests.cpu", with(map[string]string{"cpu": "8"}, "requests.cpu"), nil},
		{"too many pods", with(map[string]string{"pods": "301"}), []string{`pods = 301 exceeds the bound 300`}},
		{"too much CPU and memory", with(map[string]string{"requests.cpu": "33", "limits.memory": "300Gi"}), []string{
			`limits.memory = 300Gi exceeds the bound 256Gi`, `requests.cpu = 33 exceeds the bound 32`,
		}},
		{"missing key means unlimited", with(nil, "limits.cpu"), []string{`limits.cpu is not limited (want at most 96)`}},
		{"garbage value", with(map[string]string{"pods": "lots"}), []string{`pods = "lots" is not a Kubernetes quantity`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, CheckQuota(tt.hard, defaultBounds(t)))
		})
	}
}

func TestQuotaBoundsFromConfig(t *testing.T) {
	b, err := quotaBoundsFrom(map[string]any{"maxPods": float64(50), "maxLimitsMemory": "64Gi"})
	require.NoError(t, err)
	assert.True(t, b["pods"].Equal(resource.MustParse("50")))
	assert.True(t, b["limits.memory"].Equal(resource.MustParse("64Gi")))
	assert.True(t, b["requests.cpu"].Equal(resource.MustParse("32")), "unset keys keep their default")

	_, err = quotaBoundsFrom(map[string]any{"maxRequestsCpu": "lots"})
	assert.ErrorContains(t, err, "maxRequestsCpu")
	_, err = quotaBoundsFrom(map[string]any{"maxPods": 2.5})
	assert.ErrorContains(t, err, "maxPods")
}
