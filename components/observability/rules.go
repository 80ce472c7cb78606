package observability

import (
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/monitoring"
)

// Severities, as Alertmanager routes them: critical pages, warning goes to the infrastructure channel.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

// Alert names of the platform rules; each has its section in docs/runbooks/alerts.md.
const (
	AlertPodCrashLooping    = "EnvironmentPodCrashLooping"
	AlertQuotaNearlyFull    = "EnvironmentQuotaNearlyFull"
	AlertTargetDown         = "EnvironmentTargetDown"
	AlertArgoCDOutOfSync    = "EnvironmentArgoCDAppOutOfSync"
	AlertArgoCDAppUnhealthy = "EnvironmentArgoCDAppUnhealthy"
)

// namespaceMatcher selects the environment's workload namespaces, all named "<env>-<name>" (decision 10).
func namespaceMatcher(env string) string { return `namespace=~"` + env + `-.+"` }

// PlatformRules are the alerts the platform raises about an environment, whatever runs in it. Every rule carries
// the environment and severity labels Alertmanager groups and routes on; thresholds are the same everywhere.
func PlatformRules(env string) []monitoring.RuleGroup {
	ns := namespaceMatcher(env)
	alert := func(name, severity, expr, forDuration, summary, description string) monitoring.Rule {
		return monitoring.Rule{
			Alert: name,
			Expr:  expr,
			For:   forDuration,
			Labels: map[string]string{
				"severity":    severity,
				"environment": env,
			},
			Annotations: map[string]string{
				"summary":     summary,
				"description": description,
				"runbook_url": monitoring.RunbookURL(name),
			},
		}
	}
	// used / hard per quota resource; hard limits of 0 (LoadBalancers, NodePorts: refused outright) are left out.
	quotaRatio := `kube_resourcequota{` + ns + `, type="used"} / ignoring(type) (kube_resourcequota{` + ns + `, type="hard"} > 0)`
	argo := `argocd_app_info{project="platform-` + env + `"`

	return []monitoring.RuleGroup{
		{
			Name: names.Platform(env, "workloads"),
			Rules: []monitoring.Rule{
				alert(AlertPodCrashLooping, SeverityWarning,
					`max_over_time(kube_pod_container_status_waiting_reason{`+ns+`, reason="CrashLoopBackOff"}[5m]) >= 1`, "15m",
					"Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} is crash looping",
					"The container has been in CrashLoopBackOff for 15 minutes in environment "+env+"."),
				// Warning while there is room to act; critical when the next rollout's surge will be refused.
				alert(AlertQuotaNearlyFull, SeverityWarning, quotaRatio+` > 0.9`, "15m",
					"Quota {{ $labels.resource }} of {{ $labels.namespace }} is {{ $value | humanizePercentage }} used",
					"More than 90% of the namespace's {{ $labels.resource }} quota is in use; new pods and rolling updates will soon be refused."),
				alert(AlertQuotaNearlyFull, SeverityCritical, quotaRatio+` >= 0.98`, "5m",
					"Quota {{ $labels.resource }} of {{ $labels.namespace }} is exhausted ({{ $value | humanizePercentage }})",
					"The namespace's {{ $labels.resource }} quota is (nearly) exhausted: new pods, scale-ups and rolling updates are being refused."),
				alert(AlertTargetDown, SeverityWarning, `up{`+ns+`} == 0`, "10m",
					"Target {{ $labels.job }} {{ $labels.instance }} in {{ $labels.namespace }} is down",
					"Prometheus has failed to scrape the target for 10 minutes in environment "+env+"."),
				alert(AlertTargetDown, SeverityCritical, `sum by (namespace, job) (up{`+ns+`}) == 0`, "10m",
					"Every target of {{ $labels.job }} in {{ $labels.namespace }} is down",
					"No target of the job has been scraped for 10 minutes: the service is down or unreachable from Prometheus."),
			},
		},
		{
			Name: names.Platform(env, "gitops"),
			Rules: []monitoring.Rule{
				alert(AlertArgoCDOutOfSync, SeverityWarning, argo+`, sync_status!="Synced"} > 0`, "30m",
					"Argo CD application {{ $labels.name }} is {{ $labels.sync_status }}",
					"The application has not matched its Git revision for 30 minutes: a failed sync or a manual change in the cluster (drift)."),
				alert(AlertArgoCDAppUnhealthy, SeverityWarning, argo+`, health_status!~"Healthy|Progressing"} > 0`, "15m",
					"Argo CD application {{ $labels.name }} is {{ $labels.health_status }}",
					"The application's resources have not been healthy for 15 minutes."),
			},
		},
	}
}
