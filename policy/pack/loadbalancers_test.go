package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func service(name, ns, typ string) policyx.AnalyzerResource {
	return res(serviceType, name, map[string]any{"metadata": meta(name, ns), "spec": map[string]any{"type": typ}})
}

func TestLoadBalancerPolicy(t *testing.T) {
	p := loadBalancerPolicy()
	assert.Empty(t, checkResource(t, p, service("web", "production-apps", "ClusterIP"), nil))
	assert.Empty(t, checkResource(t, p, res(serviceType, "web", map[string]any{"metadata": meta("web", "production-apps")}), nil), "default type")
	assert.Empty(t, checkResource(t, p, service("ingress-nginx-controller", "ingress-nginx", "LoadBalancer"), nil))
	assert.Empty(t, checkResource(t, p, service("edge", "edge", "LoadBalancer"), map[string]any{"ingressNamespace": "edge"}))

	got := checkResource(t, p, service("web", "production-apps", "LoadBalancer"), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:core/v1:Service "web" (namespace "production-apps"): is of type LoadBalancer in namespace "production-apps"`)
	assert.Contains(t, got[0], `Fix: make it a ClusterIP Service and route to it with an Ingress through the controller in "ingress-nginx"`)
	assert.Len(t, checkResource(t, p, service("web", "", "LoadBalancer"), nil), 1, "lands in default")
	assert.Len(t, checkResource(t, p, service("ingress-nginx-controller", "ingress-nginx", "LoadBalancer"), map[string]any{"ingressNamespace": "edge"}), 1)
}

func TestNodePortPolicy(t *testing.T) {
	p := nodePortPolicy()
	assert.Empty(t, checkResource(t, p, service("web", "production-apps", "ClusterIP"), nil))
	assert.Empty(t, checkResource(t, p, service("web", "production-apps", "LoadBalancer"), nil), "the other rule's")
	assert.Empty(t, checkResource(t, p, service("ingress-nginx-controller", "ingress-nginx", "NodePort"), nil))

	got := checkResource(t, p, service("debug", "production-apps", "NodePort"), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `kubernetes:core/v1:Service "debug" (namespace "production-apps"): is of type NodePort in namespace "production-apps", which opens its port on every node's address`)
	assert.Contains(t, got[0], `Fix: make it a ClusterIP Service and route to it with an Ingress through the controller in "ingress-nginx"`)
	assert.Len(t, checkResource(t, p, service("debug", "", "NodePort"), nil), 1, "lands in default")
}

func TestExternalNamePolicy(t *testing.T) {
	p := externalNamePolicy()
	assert.Empty(t, checkResource(t, p, service("web", "production-apps", "ClusterIP"), nil))
	got := checkResource(t, p, service("metadata", "production-apps", "ExternalName"), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `is of type ExternalName in namespace "production-apps", which makes the ingress controller a proxy to any name`)
}
