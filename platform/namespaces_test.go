package platform

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/quota"
)

// monitoringControllerPods is what the monitoring namespace runs besides its DaemonSets, with room to spare:
// the Prometheus operator, Prometheus, Alertmanager, Grafana, kube-state-metrics, Loki and its gateway, Tempo,
// and a rolling update's surge of each.
const monitoringControllerPods = 16

// The monitoring namespace's quota admits its two DaemonSets' pods (the node exporter, Promtail) on every node a
// committed stack may have (the baseline pool's autoscaler maximum, plus the GPU pool), beside its controllers.
func TestMonitoringQuotaAdmitsEveryNode(t *testing.T) {
	pods := quota.Compute(monitoringSizing).Pods
	for _, stack := range config.Environments {
		values, err := config.StackValues("..", stack)
		require.NoError(t, err)
		var baseline config.NodePool
		require.NoError(t, json.Unmarshal([]byte(values["baselinePool"]), &baseline), "%s: baselinePool", stack)
		nodes := baseline.Max
		if raw, ok := values["gpuPool"]; ok {
			var gpu struct{ Count int }
			require.NoError(t, json.Unmarshal([]byte(raw), &gpu), "%s: gpuPool", stack)
			nodes += gpu.Count
		}
		require.Positive(t, baseline.Max, "%s: baselinePool.max", stack)
		assert.GreaterOrEqual(t, pods, monitoringControllerPods+2*nodes,
			"%s: the monitoring quota's %d pods must admit %d controller pods and two DaemonSet pods on each of %d nodes",
			stack, pods, monitoringControllerPods, nodes)
	}
}
