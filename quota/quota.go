// Package quota sizes a namespace's ResourceQuota and LimitRange from the number of services it must hold.
//
// The spec asks each environment namespace to hold 30 services. A service is a Deployment whose pods carry the
// per-container requests and limits of a Profile, scaled by its HPA between MinReplicas and MaxReplicas. The quota
// admits every service at its HPA maximum, plus a surge headroom so that rolling updates (which briefly run extra
// pods) never stall on the quota.
package quota

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Profile is what one service's pod asks for (one application container per pod) and how far its HPA scales it.
type Profile struct {
	CPURequest    resource.Quantity
	CPULimit      resource.Quantity
	MemoryRequest resource.Quantity
	MemoryLimit   resource.Quantity
	MinReplicas   int
	MaxReplicas   int
}

// Sizing is the input of the quota maths for one namespace.
type Sizing struct {
	Services        int // services the namespace must admit at once (the spec: 30)
	Profile         Profile
	HeadroomPercent int // extra pods, CPU and memory for rolling-update surge, as a share of the total
}

// Quota is the hard limit set of a namespace's ResourceQuota.
type Quota struct {
	Pods           int
	Services       int
	RequestsCPU    resource.Quantity
	RequestsMemory resource.Quantity
	LimitsCPU      resource.Quantity
	LimitsMemory   resource.Quantity
}

// Limits is a namespace's LimitRange for containers: the defaults a container without requests or limits gets,
// and the most one container may ask for (one service's whole HPA maximum: nothing larger fits the quota's
// intent of many small services).
type Limits struct {
	DefaultRequestCPU    resource.Quantity
	DefaultRequestMemory resource.Quantity
	DefaultLimitCPU      resource.Quantity
	DefaultLimitMemory   resource.Quantity
	MaxCPU               resource.Quantity
	MaxMemory            resource.Quantity
}

// Validate reports the first reason the sizing cannot produce a sensible quota.
func (s Sizing) Validate() error {
	p := s.Profile
	switch {
	case s.Services < 1 || s.Services > 500:
		return fmt.Errorf("services per namespace %d is outside 1..500", s.Services)
	case p.MinReplicas < 1 || p.MaxReplicas < p.MinReplicas || p.MaxReplicas > 50:
		return fmt.Errorf("replicas %d..%d must satisfy 1 <= min <= max <= 50", p.MinReplicas, p.MaxReplicas)
	case s.HeadroomPercent < 0 || s.HeadroomPercent > 100:
		return fmt.Errorf("headroom %d%% is outside 0..100", s.HeadroomPercent)
	case p.CPURequest.Sign() <= 0 || p.MemoryRequest.Sign() <= 0:
		return fmt.Errorf("CPU and memory requests must be positive (got %s, %s)", p.CPURequest.String(), p.MemoryRequest.String())
	case p.CPULimit.Cmp(p.CPURequest) < 0:
		return fmt.Errorf("CPU limit %s is below the request %s", p.CPULimit.String(), p.CPURequest.String())
	case p.MemoryLimit.Cmp(p.MemoryRequest) < 0:
		return fmt.Errorf("memory limit %s is below the request %s", p.MemoryLimit.String(), p.MemoryRequest.String())
	}
	return nil
}

// Pods is the number of pods the quota admits: every service at its HPA maximum, plus the surge headroom,
// rounded up.
func (s Sizing) Pods() int {
	base := s.Services * s.Profile.MaxReplicas
	return base + ceilDiv(base*s.HeadroomPercent, 100)
}

// Compute returns the ResourceQuota hard limits for the sizing. Call Validate first.
func Compute(s Sizing) Quota {
	pods := int64(s.Pods())
	return Quota{
		Pods:           int(pods),
		Services:       s.Services,
		RequestsCPU:    times(s.Profile.CPURequest, pods, resource.DecimalSI),
		RequestsMemory: times(s.Profile.MemoryRequest, pods, resource.BinarySI),
		LimitsCPU:      times(s.Profile.CPULimit, pods, resource.DecimalSI),
		LimitsMemory:   times(s.Profile.MemoryLimit, pods, resource.BinarySI),
	}
}

// LimitRange returns the container defaults and maxima for the sizing.
func LimitRange(s Sizing) Limits {
	p := s.Profile
	maxReplicas := int64(p.MaxReplicas)
	return Limits{
		DefaultRequestCPU:    p.CPURequest,
		DefaultRequestMemory: p.MemoryRequest,
		DefaultLimitCPU:      p.CPULimit,
		DefaultLimitMemory:   p.MemoryLimit,
		MaxCPU:               times(p.CPULimit, maxReplicas, resource.DecimalSI),
		MaxMemory:            times(p.MemoryLimit, maxReplicas, resource.BinarySI),
	}
}

// times multiplies exactly (in milli-units for CPU, bytes for memory) so the figures stay canonical strings
// such as "15" or "30Gi" instead of float noise.
func times(q resource.Quantity, n int64, format resource.Format) resource.Quantity {
	if format == resource.DecimalSI {
		return *resource.NewMilliQuantity(q.MilliValue()*n, format)
	}
	return *resource.NewQuantity(q.Value()*n, format)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
