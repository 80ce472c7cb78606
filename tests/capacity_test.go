//go:build integration

package tests

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/platform-eng/lke-platform/components/namespace"
)

// capacityNamespace is the harness's namespace (tests/capacity/main.go).
const capacityNamespace = "capacity-apps"

// TestCapacityHarness is the spec's capacity validation (section 8) on the local control plane: placeholder
// services go into a namespace whose quota is generated from development's stack files, exactly as the
// platform generates it. 30 services (the quota's target) are all admitted and scheduled; a 31st is refused by
// the quota; each HPA holds its configured range. How preview and up grow with the number of services is
// TestBenchScaling's.
func TestCapacityHarness(t *testing.T) {
	needsCluster(t)
	parallel(t)
	c := newCLI(t, "tests/capacity")
	const stack = "capacity"
	c.must("stack", "init", stack)
	c.must("config", "set", "-s", stack, "--plaintext", "capacity:kubeconfigPath", kubeconfig)
	c.must("config", "set", "-s", stack, "capacity:environment", "development")
	setServices := func(n int) {
		c.must("config", "set", "-s", stack, "capacity:services", strconv.Itoa(n))
	}
	up := func() (string, error) { return c.run(nil, "up", "-s", stack, "--yes", "--skip-preview") }

	// A preview first builds the program.
	setServices(30)
	c.must("preview", "-s", stack)
	out, err := up()
	require.NoError(t, err, out)

	// All 30 are admitted under the generated quota and scheduled.
	quota := get[corev1.ResourceQuota](t, "resourcequota", capacityNamespace, namespace.QuotaName)
	services := quota.Spec.Hard[corev1.ResourceServices]
	require.Equal(t, int64(30), services.Value(), "the quota is sized for the spec's 30 services")
	deployments := get[appsv1.DeploymentList](t, "deployments", capacityNamespace, "")
	assert.Len(t, deployments.Items, 30)
	for _, d := range deployments.Items {
		assert.Equal(t, d.Status.Replicas, d.Status.AvailableReplicas, "deployment %s is not fully available", d.Name)
	}
	pods := get[corev1.PodList](t, "pods", capacityNamespace, "")
	assert.GreaterOrEqual(t, len(pods.Items), 30)
	for _, p := range pods.Items {
		assert.NotEmpty(t, p.Spec.NodeName, "pod %s is not scheduled", p.Name)
		assert.Equal(t, corev1.PodRunning, p.Status.Phase, "pod %s", p.Name)
	}
	used := get[corev1.ResourceQuota](t, "resourcequota", capacityNamespace, namespace.QuotaName).Status.Used[corev1.ResourceServices]
	assert.Equal(t, int64(30), used.Value(), "services counted by the quota")

	// The 31st is refused by the quota, through pulumi up, and the stack stays consistent.
	setServices(31)
	out, err = up()
	require.Error(t, err, "a 31st service must be refused by the quota:\n%s", out)
	assert.Contains(t, out, "exceeded quota")
	assert.Contains(t, out, "services=30")
	setServices(30)
	c.must("up", "-s", stack, "--yes", "--skip-preview")
	c.must("preview", "-s", stack, "--expect-no-changes")

	// Each HPA holds its range: scaled by hand beyond its maximum, the Deployment is brought back to it.
	hpa := get[autoscalingv2.HorizontalPodAutoscaler](t, "hpa", capacityNamespace, "placeholder-001")
	maxReplicas := hpa.Spec.MaxReplicas
	_, err = kubectl(t, "scale", "deployment/placeholder-001", "-n", capacityNamespace, fmt.Sprintf("--replicas=%d", maxReplicas+2))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		d := get[appsv1.Deployment](t, "deployment", capacityNamespace, "placeholder-001")
		return d.Spec.Replicas != nil && *d.Spec.Replicas == maxReplicas
	}, 2*time.Minute, 2*time.Second, "the HPA did not bring placeholder-001 back to its maximum of %d replicas", maxReplicas)

	c.must("destroy", "-s", stack, "--yes", "--skip-preview")
	_, err = kubectl(t, "get", "namespace", capacityNamespace)
	assert.Error(t, err, "the harness's namespace is left after destroy")
}

// fitLine is the least-squares line through (x, y): y = slope*x + intercept.
func fitLine(x []int, y []float64) (slope, intercept float64) {
	var sx, sy, sxx, sxy float64
	for i := range x {
		xi := float64(x[i])
		sx, sy, sxx, sxy = sx+xi, sy+y[i], sxx+xi*xi, sxy+xi*y[i]
	}
	n := float64(len(x))
	slope = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return slope, (sy - slope*sx) / n
}
