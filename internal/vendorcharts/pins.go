package vendorcharts

// The pins. A chart's version must equal the component's constant (components/ingress/charts.go,
// components/observability/charts.go, components/secrets/chart.go); the test checks it.
//
// Bumping a chart: change Version and Source (and the dependencies its new Chart.yaml names), run
// `go generate ./internal/vendorcharts` (with -accept, since the sum changes), put the sum it prints into Sum,
// review the diff of the tree.
//
// Where a chart's source is a Git commit, the refresh command needs a local clone of that repository, bare or
// not (flag -git owner/name=DIR); without one it leaves the chart as it is and says what it needs. The six
// charts taken from Git commits were last refreshed from bare mirrors of kubernetes/ingress-nginx,
// kubernetes-sigs/external-dns, prometheus-community/helm-charts, grafana/helm-charts, grafana/loki and
// minio/minio, and each tree's sum equals the one pinned here before they were committed.

const (
	ghHelmCharts    = "prometheus-community/helm-charts"
	ghGrafanaCharts = "grafana/helm-charts"
)

// All is every vendored chart.
var All = []Chart{
	{
		Name: "ingress-nginx", Version: "4.15.1",
		Source: Source{
			Repo: "kubernetes/ingress-nginx", Ref: "helm-chart-4.15.1", Commit: "0a5901f3c64f11e92e487799b8da3f00cca37515",
			Path: "charts/ingress-nginx",
		},
		Sum: "sha256:fa4dc569a716ea8f60c6aa5909db37eaa2b14b44530d130bb05b0a85b59cbf04",
	},
	{
		Name: "cert-manager", Version: "v1.21.2",
		Source: Source{
			Module: "github.com/cert-manager/cert-manager", Version: "v1.21.2",
			Sum:  "h1:UWgoYM+KLNtRlqmoWOKjKBOBUPVHeepQ6/ac3ERJW68=",
			Path: "deploy/charts/cert-manager",
		},
		Build: CertManagerMake,
		Sum:   "sha256:63e250d7b9c49034a5005666c4cb2bdf80f3fed70873cbe7ab0513ac47c836e4",
	},
	{
		Name: "external-dns", Version: "1.21.1",
		Source: Source{
			Repo: "kubernetes-sigs/external-dns", Ref: "external-dns-helm-chart-1.21.1", Commit: "9f26451346774099a8b3e3e5cc46a53bf2fd1461",
			Path: "charts/external-dns",
		},
		Sum: "sha256:204b521d271d8c3c646b87ddfd64ba597b2847988726af5096869d045d544cb5",
	},
	{
		Name: "kube-prometheus-stack", Version: "77.14.0",
		Source: Source{
			Repo: ghHelmCharts, Ref: "kube-prometheus-stack-77.14.0", Commit: "727ebf942426669e9c11fee62728ad02fc35c40c",
			Path: "charts/kube-prometheus-stack", // with its local subchart charts/crds
		},
		Dependencies: []Dependency{
			{Name: "kube-state-metrics", Version: "6.3.0", Source: Source{
				Repo: ghHelmCharts, Ref: "kube-state-metrics-6.3.0", Commit: "bd5ce9b3728b4513f530a16f4798c2008069558e",
				Path: "charts/kube-state-metrics",
			}},
			{Name: "prometheus-node-exporter", Version: "4.48.0", Source: Source{
				Repo: ghHelmCharts, Ref: "prometheus-node-exporter-4.48.0", Commit: "ec3e24de091234d9d3f908e3ee0c6016ec3faa35",
				Path: "charts/prometheus-node-exporter",
			}},
			{Name: "grafana", Version: "10.0.0", Source: Source{
				Repo: ghGrafanaCharts, Ref: "grafana-10.0.0", Commit: "43cde6d2b74f7b8e76ba6e23fda51508f6e82476",
				Path: "charts/grafana",
			}},
			// Chart.yaml asks for 0.12.*; 0.12.2 (2025-09-06) was the newest 0.12 release when 77.14.0 was
			// released (2025-10-07), so the one its published package resolved.
			{Name: "prometheus-windows-exporter", Version: "0.12.2", Source: Source{
				Repo: ghHelmCharts, Ref: "prometheus-windows-exporter-0.12.2", Commit: "563a53a9512d8b414d975bde2d9413a884d52ec1",
				Path: "charts/prometheus-windows-exporter",
			}},
		},
		Sum: "sha256:0d86b123f970a0c849a4e77d0fda4ae087a8816e448d8cbd7cc11cbeb3525639",
	},
	{
		Name: "loki", Version: "6.45.2",
		Source: Source{
			Repo: "grafana/loki", Ref: "helm-loki-6.45.2", Commit: "b90ae22a2c3da177e334fd16e057fb5e260d1f69",
			Path: "production/helm/loki",
		},
		// All three, though the platform's values disable minio and the agent operator: `helm template` fails
		// when a dependency of Chart.yaml is missing from charts/, whatever its condition, and Argo CD then runs
		// `helm dependency build`.
		Dependencies: []Dependency{
			{Name: "minio", Version: "5.4.0", Source: Source{
				// The packaged chart the minio repository publishes its releases from.
				Repo: "minio/minio", Commit: "43a74029685512ce9b1b76c053d48b43fc8d64fc",
				Path: "helm-releases/minio-5.4.0.tgz",
			}},
			{Name: "grafana-agent-operator", Version: "0.5.1", Source: Source{
				Repo: ghGrafanaCharts, Ref: "grafana-agent-operator-0.5.1", Commit: "b8ad631d4b3ca3484c4cef165a5d111ecaebf743",
				Path: "charts/agent-operator",
			}},
			{Name: "rollout-operator", Version: "0.33.2", Source: Source{
				Repo: ghGrafanaCharts, Ref: "rollout-operator-0.33.2", Commit: "b672274878f23b6817e406922775fbfee6352a1a",
				Path: "charts/rollout-operator",
			}},
		},
		Sum: "sha256:6835069ccbc4a7571a4f0d035ba5b46afe13464fb96537e841ef6fd8776dc60c",
	},
	{
		Name: "promtail", Version: "6.17.0",
		Source: Source{
			Repo: ghGrafanaCharts, Ref: "promtail-6.17.0", Commit: "72a7caf12f61cd5e7d82acbe586fb1e9c0bce2f6",
			Path: "charts/promtail",
		},
		Sum: "sha256:2b44097c9650c2f31ac2d89e5bc687cb2ff2b25258ae2986928f3166d8826d10",
	},
	{
		Name: "tempo", Version: "1.24.0",
		Source: Source{
			Repo: ghGrafanaCharts, Ref: "tempo-1.24.0", Commit: "70951e39289b35b88d0bb65abe3e769c5618dd10",
			Path: "charts/tempo",
		},
		Sum: "sha256:865dc9d572798df166984e4d6e9817e0c0a7daa2c0127ab82ff19b7ac2b08d32",
	},
	{
		Name: "sealed-secrets", Version: "2.19.3",
		Source: Source{
			// The module declares itself github.com/bitnami/sealed-secrets; it is published under bitnami-labs.
			Module: "github.com/bitnami-labs/sealed-secrets", Version: "v0.40.0",
			Sum:  "h1:rvCP35JL8ZV5LNA2SrwNR6iLyoM3ulrSFWN0lBtYEYI=",
			Path: "helm/sealed-secrets",
		},
		Sum: "sha256:b2c4ad4a6465b2859f31ecf7babf308a0e15cbded9f13a7adaa33d70996cba86",
	},
}
