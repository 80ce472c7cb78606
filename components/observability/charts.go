package observability

import (
	"regexp"
	"strings"

	"github.com/platform-eng/lke-platform/components/gitops"
)

// Helm repositories of the charts.
const (
	PrometheusCommunityRepo = "https://prometheus-community.github.io/helm-charts"
	GrafanaRepo             = "https://grafana.github.io/helm-charts"
)

// Chart versions, pinned. kube-prometheus-stack 77.x is the series built on prometheus-operator v0.85.0 (77.0.0
// bumped the operator to it, 78.0.0 to v0.86.0), the CRDs upstream/ vendors and the CRDs Application installs; 77.14.0 is its last
// release. Loki, Promtail and Tempo are the releases of the same weeks (Loki 3.5, Promtail 3.5.1, Tempo 2.9).
const (
	KubePrometheusStackVersion = "77.14.0"
	LokiVersion                = "6.45.2"
	PromtailVersion            = "6.17.0"
	TempoVersion               = "1.24.0"
)

// Chart (and Argo CD application) names.
const (
	KubePrometheusStackName = "kube-prometheus-stack"
	LokiName                = "loki"
	PromtailName            = "promtail"
	TempoName               = "tempo"
)

// Services the charts create under fixed names (fullnameOverride), which other charts and Grafana point at.
const (
	lokiGateway  = "loki-gateway" // nginx in front of Loki; passes X-Scope-OrgID through
	tempoService = "tempo"
	tempoPort    = "3200"
)

// TenantHeader carries the Loki tenant on every push and query. The tenant is the environment's name.
const TenantHeader = "X-Scope-OrgID"

// Retention is how long an environment keeps its telemetry and how much disk it reserves for it.
type Retention struct {
	Metrics        string // Prometheus retention ("15d")
	MetricsStorage string // Prometheus volume size
	MetricsSize    string // Prometheus retentionSize: the oldest blocks go before the volume fills up
	Logs           string // Loki retention_period ("168h")
	LogsStorage    string // Loki volume size
	Traces         string // Tempo retention ("72h")
	TracesStorage  string // Tempo volume size
}

// RetentionFor is the retention of an environment: production keeps a month of metrics and logs for
// post-incident review, the others a week or two.
func RetentionFor(env string) Retention {
	if env == "production" {
		return Retention{Metrics: "30d", MetricsStorage: "100Gi", MetricsSize: "90GB", Logs: "720h", LogsStorage: "100Gi", Traces: "168h", TracesStorage: "20Gi"}
	}
	return Retention{Metrics: "15d", MetricsStorage: "50Gi", MetricsSize: "45GB", Logs: "168h", LogsStorage: "30Gi", Traces: "72h", TracesStorage: "10Gi"}
}

// nodeExporterPorts give each environment its own host port: node-exporter runs on the host network, and the
// environments may share one control plane (and so its nodes).
var nodeExporterPorts = map[string]int{"system": 9100, "production": 9101, "staging": 9102, "development": 9103}

// NodeExporterPort is the host port of the environment's node-exporter.
func NodeExporterPort(env string) int {
	if p, ok := nodeExporterPorts[env]; ok {
		return p
	}
	return 9100
}

// ChartArgs is what the charts of an environment depend on.
type ChartArgs struct {
	Environment string
	Namespace   string // the monitoring namespace every chart is installed into
	// EnvironmentNamespaces are the environment's other namespaces: Prometheus picks up their ServiceMonitors,
	// PodMonitors and PrometheusRules, Promtail ships their logs, Grafana loads their dashboards.
	EnvironmentNamespaces []string
	Tracing               bool
	// LocalControlPlane: the charts go onto the local control plane, where no pod really runs (kwok), so the
	// Prometheus operator's admission webhook, whose server could never answer there, is off (its
	// failurePolicy is Ignore, but every PrometheusRule write would wait for the call to time out).
	LocalControlPlane bool
}

// Charts are the environment's observability releases: kube-prometheus-stack, Loki and Promtail, plus Tempo when
// tracing is on.
func Charts(a ChartArgs) []gitops.Chart {
	charts := []gitops.Chart{KubePrometheusStack(a), Loki(a), Promtail(a)}
	if a.Tracing {
		charts = append(charts, Tempo(a))
	}
	return charts
}

// watched is the monitoring namespace and the environment's namespaces, in that order, without duplicates.
func (a ChartArgs) watched() []string {
	out := []string{a.Namespace}
	for _, ns := range a.EnvironmentNamespaces {
		if ns != a.Namespace && !contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// KubePrometheusStack is Prometheus, Alertmanager, Grafana, the operator, kube-state-metrics and node-exporter.
func KubePrometheusStack(a ChartArgs) gitops.Chart {
	env := a.Environment
	r := RetentionFor(env)
	// Prometheus reads monitors and rules from these namespaces only, so environments sharing a control plane
	// never scrape each other's targets under the wrong environment label.
	namespaces := map[string]any{"matchExpressions": []any{map[string]any{
		"key": "kubernetes.io/metadata.name", "operator": "In", "values": toAny(a.watched()),
	}}}
	ownNamespace := []any{a.Namespace}

	datasources := []any{map[string]any{
		"name": "Loki", "type": "loki", "uid": "loki", "access": "proxy",
		"url": LokiURL(a.Namespace),
		// The tenant is not a secret; the header field pair is how Grafana sends a fixed header to a source.
		"jsonData":       map[string]any{"httpHeaderName1": TenantHeader, "maxLines": 1000},
		"secureJsonData": map[string]any{"httpHeaderValue1": env},
	}}
	if a.Tracing {
		datasources = append(datasources, map[string]any{
			"name": "Tempo", "type": "tempo", "uid": "tempo", "access": "proxy",
			"url": "http://" + tempoService + "." + a.Namespace + ".svc:" + tempoPort,
		})
	}

	port := NodeExporterPort(env)
	return gitops.Chart{
		Name: KubePrometheusStackName, Namespace: a.Namespace,
		RepoURL: PrometheusCommunityRepo, Chart: KubePrometheusStackName, Version: KubePrometheusStackVersion,
		Values: map[string]any{
			"crds": map[string]any{"enabled": false}, // installed by the CRDs Application (components/gitops)
			"prometheusOperator": map[string]any{
				// Each environment's operator manages its own Prometheus and Alertmanager only.
				"prometheusInstanceNamespaces":   ownNamespace,
				"alertmanagerInstanceNamespaces": ownNamespace,
				"thanosRulerInstanceNamespaces":  ownNamespace,
				"resources":                      gitops.ResourceValues("100m", "128Mi", "500m", "256Mi"),
				"admissionWebhooks": map[string]any{
					"enabled": !a.LocalControlPlane,
					// The hook Jobs that make the webhook's certificate and patch it into the configurations.
					"patch": map[string]any{"resources": gitops.ResourceValues("10m", "32Mi", "100m", "64Mi")},
				},
			},
			"prometheus": map[string]any{"prometheusSpec": map[string]any{
				"externalLabels": map[string]any{"environment": env},
				// Select every monitor and rule (in the namespaces below), not only the chart's own.
				"serviceMonitorSelectorNilUsesHelmValues": false,
				"podMonitorSelectorNilUsesHelmValues":     false,
				"ruleSelectorNilUsesHelmValues":           false,
				"probeSelectorNilUsesHelmValues":          false,
				"serviceMonitorNamespaceSelector":         namespaces,
				"podMonitorNamespaceSelector":             namespaces,
				"ruleNamespaceSelector":                   namespaces,
				"probeNamespaceSelector":                  namespaces,
				"retention":                               r.Metrics,
				"retentionSize":                           r.MetricsSize,
				"resources":                               gitops.ResourceValues("500m", "2Gi", "2", "4Gi"),
				"storageSpec": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{
					"accessModes": []any{"ReadWriteOnce"},
					"resources":   map[string]any{"requests": map[string]any{"storage": r.MetricsStorage}},
				}}},
			}},
			"alertmanager": map[string]any{
				"config": AlertmanagerConfig(env).Values(),
				// The config holds Alertmanager templates; the chart must not evaluate them as Helm templates.
				"tplConfig": false,
				"alertmanagerSpec": map[string]any{
					"secrets":   []any{SlackSecretName}, // mounted at /etc/alertmanager/secrets/alertmanager-slack/
					"resources": gitops.ResourceValues("50m", "64Mi", "200m", "256Mi"),
				},
			},
			"grafana": map[string]any{
				// The admin credentials come from the sealed Secret (Args.GrafanaAdminPassword), never the
				// chart's default password.
				"admin": map[string]any{
					"existingSecret": GrafanaAdminSecretName,
					"userKey":        GrafanaAdminUserKey,
					"passwordKey":    GrafanaAdminPasswordKey,
				},
				// The chart's `helm test` Pod: Argo CD never runs it, and it sets no resources.
				"testFramework": map[string]any{"enabled": false},
				"sidecar": map[string]any{
					// The dashboards' and datasources' sidecar containers.
					"resources": gitops.ResourceValues("10m", "64Mi", "100m", "128Mi"),
					"dashboards": map[string]any{
						"enabled":    true,
						"label":      DashboardLabel,
						"labelValue": DashboardLabelValue,
						// The environment's own namespaces, not ALL: environments sharing a control plane would load
						// each other's copies of the chart's dashboards, which have fixed UIDs.
						"searchNamespace": toAny(a.watched()),
					},
				},
				"additionalDataSources": datasources,
				"resources":             gitops.ResourceValues("100m", "256Mi", "500m", "512Mi"),
			},
			"prometheus-node-exporter": map[string]any{
				"service":   map[string]any{"port": port, "targetPort": port},
				"resources": gitops.ResourceValues("50m", "32Mi", "200m", "64Mi"),
			},
			"kube-state-metrics": map[string]any{
				"resources": gitops.ResourceValues("50m", "128Mi", "200m", "256Mi"),
			},
		},
	}
}

// Loki runs single-binary with filesystem storage, multi-tenant: every push and query names its tenant, the
// environment.
func Loki(a ChartArgs) gitops.Chart {
	r := RetentionFor(a.Environment)
	return gitops.Chart{
		Name: LokiName, Namespace: a.Namespace, RepoURL: GrafanaRepo, Chart: LokiName, Version: LokiVersion,
		Values: map[string]any{
			"deploymentMode":   "SingleBinary",
			"fullnameOverride": LokiName, // services loki and loki-gateway, whatever the release is called
			"loki": map[string]any{
				"auth_enabled": true,
				"commonConfig": map[string]any{"replication_factor": 1},
				// The chart's storage helper requires bucket names even for the filesystem store: without them
				// loki 6.45.2 fails to render ("Please define loki.storage.bucketNames.chunks").
				"storage": map[string]any{"type": "filesystem", "bucketNames": map[string]any{
					"chunks": "chunks", "ruler": "ruler", "admin": "admin",
				}},
				"schemaConfig": map[string]any{"configs": []any{map[string]any{
					"from": "2024-04-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13",
					"index": map[string]any{"prefix": "index_", "period": "24h"},
				}}},
				"limits_config": map[string]any{"retention_period": r.Logs},
				"compactor":     map[string]any{"retention_enabled": true, "delete_request_store": "filesystem"},
			},
			"singleBinary": map[string]any{
				"replicas":    1,
				"persistence": map[string]any{"enabled": true, "size": r.LogsStorage},
				"resources":   gitops.ResourceValues("250m", "512Mi", "1", "2Gi"),
			},
			// The scalable targets are off in single-binary mode.
			"read":    map[string]any{"replicas": 0},
			"write":   map[string]any{"replicas": 0},
			"backend": map[string]any{"replicas": 0},
			"gateway": map[string]any{"enabled": true, "resources": gitops.ResourceValues("50m", "64Mi", "200m", "128Mi")},
			// Namespaced RBAC: no cluster-wide object to collide with another environment's Loki.
			"rbac":         map[string]any{"namespaced": true},
			"sidecar":      map[string]any{"rules": map[string]any{"enabled": false}},
			"chunksCache":  map[string]any{"enabled": false},
			"resultsCache": map[string]any{"enabled": false},
			"lokiCanary":   map[string]any{"enabled": false},
			"test":         map[string]any{"enabled": false},
			"minio":        map[string]any{"enabled": false},
		},
	}
}

// LokiGatewayPodLabels select the pods of Loki's gateway (the chart's selector labels of its gateway
// component), and LokiGatewayPort is the port they serve on (the chart's gateway.containerPort, left at its
// default): what a NetworkPolicy admitting pushes names.
var LokiGatewayPodLabels = map[string]string{"app.kubernetes.io/name": LokiName, "app.kubernetes.io/component": "gateway"}

const LokiGatewayPort = 8080

// LokiURL is the base URL of the environment's Loki inside the cluster: its gateway's Service.
func LokiURL(namespace string) string { return "http://" + lokiGateway + "." + namespace + ".svc" }

// LokiPushURL is where the environment's log shippers push.
func LokiPushURL(namespace string) string { return LokiURL(namespace) + "/loki/api/v1/push" }

// Promtail ships the logs of the environment's pods (and only those) to its Loki, as the environment's tenant.
func Promtail(a ChartArgs) gitops.Chart {
	env := a.Environment
	quoted := make([]string, 0, len(a.watched()))
	for _, ns := range a.watched() {
		quoted = append(quoted, regexp.QuoteMeta(ns))
	}
	return gitops.Chart{
		Name: PromtailName, Namespace: a.Namespace, RepoURL: GrafanaRepo, Chart: PromtailName, Version: PromtailVersion,
		Values: map[string]any{
			"config": map[string]any{
				"clients": []any{map[string]any{
					"url":             LokiPushURL(a.Namespace),
					"tenant_id":       env,
					"external_labels": map[string]any{"environment": env},
				}},
				// One positions file per environment: the DaemonSets of several environments share the nodes'
				// /run/promtail.
				"positions": map[string]any{"filename": "/run/promtail/positions-" + env + ".yaml"},
				"snippets": map[string]any{"extraRelabelConfigs": []any{map[string]any{
					"action":        "keep",
					"source_labels": []any{"__meta_kubernetes_namespace"},
					"regex":         strings.Join(quoted, "|"),
				}}},
			},
			// Its configuration as a ConfigMap, not the chart's default Secret: it holds no secret (the tenant is
			// the environment's name), and a Secret with literal data is what no-literal-secrets refuses.
			"configmap": map[string]any{"enabled": true},
			"resources": gitops.ResourceValues("50m", "64Mi", "200m", "256Mi"),
		},
	}
}

// Tempo is the environment's trace store (single binary, OTLP and Jaeger receivers), queried by Grafana.
func Tempo(a ChartArgs) gitops.Chart {
	r := RetentionFor(a.Environment)
	return gitops.Chart{
		Name: TempoName, Namespace: a.Namespace, RepoURL: GrafanaRepo, Chart: TempoName, Version: TempoVersion,
		Values: map[string]any{
			"fullnameOverride": tempoService,
			"tempo": map[string]any{
				"retention": r.Traces,
				"resources": gitops.ResourceValues("100m", "256Mi", "500m", "1Gi"),
			},
			"persistence": map[string]any{"enabled": true, "size": r.TracesStorage},
		},
	}
}
