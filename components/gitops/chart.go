package gitops

// Chart is one Helm release that Argo CD reconciles for an environment: where the chart comes from and its
// values, built as Go data by the component that owns the release. The Infrastructure ApplicationSet turns each
// Chart into an Application named "platform-<env>-<Name>".
type Chart struct {
	Name      string         // short name, unique in the environment: "kube-prometheus-stack", "ingress-nginx"
	Namespace string         // namespace the release is installed into
	RepoURL   string         // Helm repository
	Chart     string         // chart name in the repository
	Version   string         // exact chart version: a floating version would make two syncs install different code
	Values    map[string]any // Helm values; marshalled to YAML for Argo CD
}
