package secrets

import "github.com/platform-eng/lke-platform/components/gitops"

// The sealed-secrets controller release.
const (
	// ControllerName is kubeseal's default controller name; the release is named so that kubeseal finds it without
	// --controller-name.
	ControllerName = "sealed-secrets-controller"
	ChartRepo      = "https://bitnami-labs.github.io/sealed-secrets"
	// ChartVersion is the chart shipped in the v0.40.0 tag of the module this package builds against
	// (helm/sealed-secrets/Chart.yaml: version 2.19.3, appVersion 0.39.1).
	ChartVersion = "2.19.3"
	// ControllerVersion matches the Go module (github.com/bitnami-labs/sealed-secrets v0.40.0) and the CRD the
	// CRDs Application applies from upstream/; the chart's image tag is overridden to it.
	ControllerVersion = "0.40.0"
)

// ControllerChart is the sealed-secrets controller, installed into namespace by Argo CD.
//
// The chart keeps its CRD in crds/ with no value to switch it off: Argo CD's skipCrds leaves it to the CRDs
// Application (components/gitops), which installs the CRD of the same version from upstream/.
func ControllerChart(namespace string) gitops.Chart {
	return gitops.Chart{
		Name:      "sealed-secrets",
		Namespace: namespace,
		RepoURL:   ChartRepo,
		Chart:     "sealed-secrets",
		Version:   ChartVersion,
		Values: map[string]any{
			"fullnameOverride": ControllerName,
			"image":            map[string]any{"tag": ControllerVersion},
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "50m", "memory": "64Mi"},
				"limits":   map[string]any{"cpu": "200m", "memory": "256Mi"},
			},
			"podSecurityContext": map[string]any{
				"enabled":        true,
				"fsGroup":        65534,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"},
			},
			"containerSecurityContext": map[string]any{
				"enabled":                  true,
				"runAsNonRoot":             true,
				"runAsUser":                1001,
				"allowPrivilegeEscalation": false,
				"readOnlyRootFilesystem":   true,
				"capabilities":             map[string]any{"drop": []any{"ALL"}},
				"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
			},
			"metrics": map[string]any{
				"serviceMonitor": map[string]any{"enabled": true},
			},
			"rbac": map[string]any{
				// The chart binds the service-proxy role to every authenticated user by default; the program gets
				// the certificate from config, so only cluster admins need to reach the controller's API.
				"serviceProxier": map[string]any{"create": true, "bind": false},
			},
		},
	}
}
