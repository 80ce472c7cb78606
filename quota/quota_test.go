package quota

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
)

func spec30() Sizing {
	return Sizing{
		Services: 30,
		Profile: Profile{
			CPURequest: resource.MustParse("100m"), CPULimit: resource.MustParse("500m"),
			MemoryRequest: resource.MustParse("128Mi"), MemoryLimit: resource.MustParse("256Mi"),
			MinReplicas: 1, MaxReplicas: 3,
		},
		HeadroomPercent: 20,
	}
}

func TestComputeForTheSpecsThirtyServices(t *testing.T) {
	s := spec30()
	require.NoError(t, s.Validate())
	q := Compute(s)
	// 30 services x 3 replicas = 90 pods, +20% surge = 108.
	assert.Equal(t, 108, q.Pods)
	assert.Equal(t, 30, q.Services)
	assert.Equal(t, "10800m", q.RequestsCPU.String())
	assert.Equal(t, "54", q.LimitsCPU.String())
	assert.Equal(t, "13824Mi", q.RequestsMemory.String())
	assert.Equal(t, "27Gi", q.LimitsMemory.String())
}

func TestQuotaAdmitsEveryServiceAtItsMaximum(t *testing.T) {
	for _, services := range []int{1, 7, 30, 100} {
		for _, headroom := range []int{0, 15, 33, 100} {
			s := spec30()
			s.Services, s.HeadroomPercent = services, headroom
			q := Compute(s)
			need := int64(services * s.Profile.MaxReplicas)
			assert.GreaterOrEqual(t, int64(q.Pods), need, "pods %d/%d", services, headroom)
			assert.GreaterOrEqual(t, q.RequestsCPU.MilliValue(), need*s.Profile.CPURequest.MilliValue())
			assert.GreaterOrEqual(t, q.LimitsMemory.Value(), need*s.Profile.MemoryLimit.Value())
			// Headroom is never more than one pod beyond what was asked for.
			assert.LessOrEqual(t, int64(q.Pods), need+need*int64(headroom)/100+1)
		}
	}
}

func TestLimitRange(t *testing.T) {
	l := LimitRange(spec30())
	assert.Equal(t, "100m", l.DefaultRequestCPU.String())
	assert.Equal(t, "256Mi", l.DefaultLimitMemory.String())
	assert.Equal(t, "1500m", l.MaxCPU.String())
	assert.Equal(t, "768Mi", l.MaxMemory.String())
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Sizing)
		want   string
	}{
		"no services":       {func(s *Sizing) { s.Services = 0 }, "services per namespace 0 is outside 1..500"},
		"too many services": {func(s *Sizing) { s.Services = 501 }, "outside 1..500"},
		"min above max":     {func(s *Sizing) { s.Profile.MinReplicas = 4 }, "replicas 4..3"},
		"zero replicas":     {func(s *Sizing) { s.Profile.MinReplicas = 0 }, "replicas 0..3"},
		"negative headroom": {func(s *Sizing) { s.HeadroomPercent = -1 }, "headroom -1% is outside 0..100"},
		"zero cpu request":  {func(s *Sizing) { s.Profile.CPURequest = resource.MustParse("0") }, "requests must be positive"},
		"cpu limit low":     {func(s *Sizing) { s.Profile.CPULimit = resource.MustParse("50m") }, "CPU limit 50m is below the request 100m"},
		"memory limit low":  {func(s *Sizing) { s.Profile.MemoryLimit = resource.MustParse("64Mi") }, "memory limit 64Mi is below the request 128Mi"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := spec30()
			c.mutate(&s)
			assert.ErrorContains(t, s.Validate(), c.want)
		})
	}
}
