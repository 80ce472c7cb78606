package gitops

import "strings"

// Chart is one Helm release that Argo CD reconciles for an environment: where the chart comes from and its
// values, built as Go data by the component that owns the release. The Infrastructure's root Application holds
// one Application per Chart, named "platform-<env>-<Name>".
type Chart struct {
	Name      string // short name, unique in the environment: "kube-prometheus-stack", "ingress-nginx"
	Namespace string // namespace the release is installed into
	RepoURL   string // Helm repository
	Chart     string // chart name in the repository
	Version   string // exact chart version: a floating version would make two syncs install different code
	// Path is the folder of the platform repository that holds the chart at Version (vendored): Argo CD renders
	// it from there, at the root's revision, and RepoURL is only where it came from. Empty: from RepoURL.
	Path   string
	Values map[string]any // Helm values; marshalled to YAML for Argo CD
}

// ResourceValues is a container's requests and limits as Helm values: every chart container gets both, as the
// policy pack and the namespace's LimitRange want.
func ResourceValues(cpuRequest, memoryRequest, cpuLimit, memoryLimit string) map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": cpuRequest, "memory": memoryRequest},
		"limits":   map[string]any{"cpu": cpuLimit, "memory": memoryLimit},
	}
}

// CommonLabels are the environment's labels a chart may add to its objects (its commonLabels value). The
// app.kubernetes.io/ keys are left out: charts set their own (managed-by Helm, part-of ingress-nginx, ...) and a
// repeated key makes invalid YAML.
func CommonLabels(labels map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range labels {
		if !strings.HasPrefix(k, "app.kubernetes.io/") {
			out[k] = v
		}
	}
	return out
}
