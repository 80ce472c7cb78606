package pack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Kubernetes type tokens the pack inspects.
const (
	namespaceType     = "kubernetes:core/v1:Namespace"
	resourceQuotaType = "kubernetes:core/v1:ResourceQuota"
	limitRangeType    = "kubernetes:core/v1:LimitRange"
	networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	serviceType       = "kubernetes:core/v1:Service"
	secretType        = "kubernetes:core/v1:Secret" // #nosec G101 -- a type token, not a credential
)

// podSpecPaths says where each workload kind keeps the pod spec its containers live in.
var podSpecPaths = map[string][]string{
	"kubernetes:core/v1:Pod":                   {"spec"},
	"kubernetes:core/v1:ReplicationController": {"spec", "template", "spec"},
	"kubernetes:apps/v1:Deployment":            {"spec", "template", "spec"},
	"kubernetes:apps/v1:StatefulSet":           {"spec", "template", "spec"},
	"kubernetes:apps/v1:DaemonSet":             {"spec", "template", "spec"},
	"kubernetes:apps/v1:ReplicaSet":            {"spec", "template", "spec"},
	"kubernetes:batch/v1:Job":                  {"spec", "template", "spec"},
	"kubernetes:batch/v1:CronJob":              {"spec", "jobTemplate", "spec", "template", "spec"},
}

// podSpec returns the pod spec of a workload; ok is false for any other kind of resource.
func podSpec(r policyx.AnalyzerResource) (spec property.Value, ok bool) {
	path, ok := podSpecPaths[r.Type]
	if !ok {
		return property.Value{}, false
	}
	return field(r.Properties, path...), true
}

// container is one container of a pod spec, init containers included: they run on the same nodes, count
// against the same quota and can be just as privileged.
type container struct {
	label string // `container "app"` or `init container "migrate"`, for messages
	value property.Value
}

func (c container) get(keys ...string) property.Value { return at(c.value, keys...) }

func containers(spec property.Value) []container {
	var out []container
	for _, group := range []struct{ key, kind string }{{"initContainers", "init container"}, {"containers", "container"}} {
		for i, c := range list(at(spec, group.key)) {
			name := text(at(c, "name"))
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			out = append(out, container{label: fmt.Sprintf("%s %q", group.kind, name), value: c})
		}
	}
	return out
}

// namespaceOf returns the Kubernetes namespace an object is created in: its metadata.namespace, else the
// namespace its provider defaults to, else "default" (as the kubernetes provider does). ok is false while the
// namespace is still unknown (a preview, with the namespace coming from another resource's output, or with no
// property of the object known yet).
func namespaceOf(r policyx.AnalyzerResource) (ns string, ok bool) {
	if unresolved(r, "metadata", "namespace") {
		return "", false
	}
	v := field(r.Properties, "metadata", "namespace")
	if s := text(v); s != "" {
		return s, true
	}
	p := field(r.Provider.Properties, "namespace")
	if !known(p) {
		return "", false
	}
	if s := text(p); s != "" {
		return s, true
	}
	return "default", true
}
