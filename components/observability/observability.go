// Package observability provides the Observability component of an environment: the Helm releases of its
// monitoring stack (kube-prometheus-stack, Loki with the environment as tenant, Promtail, and Tempo where tracing
// is on), the sealed Slack webhook Alertmanager reads from a file, the environment's overview dashboard and its
// platform alert rules. The alert routing, dashboard and rules are typed Go data built by plain functions.
package observability

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/monitoring"
)

// Args configures an environment's observability.
type Args struct {
	Environment string
	Labels      map[string]string // the environment's common labels
	Namespace   string            // the monitoring namespace, already created
	Tracing     bool              // adds Tempo and its Grafana data source
	Sealer      *secrets.Sealer
	// SlackWebhookURL and SlackPagerWebhookURL are the Slack incoming webhooks of InfraChannel and PagerChannel,
	// in plaintext: they are sealed here and only their ciphertext is registered.
	SlackWebhookURL      string
	SlackPagerWebhookURL string
	// GrafanaAdminPassword is the password of Grafana's admin user, in plaintext: sealed here into
	// GrafanaAdminSecretName, which the chart reads (grafana.admin.existingSecret).
	GrafanaAdminPassword string
	// EnvironmentNamespaces are the environment's other namespaces (workloads, ingress): their monitors, rules,
	// logs and dashboards are this environment's.
	EnvironmentNamespaces []string
	// LocalControlPlane: deployed onto the local control plane, where no pod really runs (ChartArgs).
	LocalControlPlane bool
}

// Observability is an environment's monitoring, logging and tracing.
type Observability struct {
	pulumi.ResourceState

	// Charts are the Helm releases for the environment's gitops Infrastructure.
	Charts []gitops.Chart
	// Objects are the sealed Slack webhook and Grafana admin, the dashboard ConfigMap and the PrometheusRule, for
	// Argo CD to apply.
	Objects []gitops.Object
	// DashboardUID is the Grafana UID of the environment's overview dashboard.
	DashboardUID pulumi.StringOutput
}

// Grafana's admin credentials: the sealed Secret the chart reads them from, its keys and the admin's login.
const (
	GrafanaAdminSecretName  = "grafana-admin"
	GrafanaAdminUserKey     = "admin-user"
	GrafanaAdminPasswordKey = "admin-password"
	GrafanaAdminUser        = "admin"
)

// DashboardConfigMapName is the ConfigMap of the environment's overview dashboard, in the monitoring namespace
// (cmd/smoke looks for it there).
func DashboardConfigMapName(env string) string { return DashboardUID(env) + "-overview-dashboard" }

// rulesName is the PrometheusRule of the platform's rules.
func rulesName(env string) string { return names.Platform(env, "rules") }

// New registers the Observability component. Its charts go to the gitops Infrastructure component as Argo CD
// Applications; its objects (the sealed Slack webhook, the overview dashboard, the platform rules) are the
// environment's observability folder.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Observability, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("observability %s: %w", name, err)
	}
	env := args.Environment
	slack, err := secrets.SealedSecret(args.Sealer, &secrets.SealedSecretArgs{
		Namespace: args.Namespace,
		Name:      SlackSecretName,
		Labels:    withLabels(args.Labels, map[string]string{"app.kubernetes.io/name": "alertmanager"}),
		Data:      map[string]string{SlackSecretKey: args.SlackWebhookURL, SlackPagerSecretKey: args.SlackPagerWebhookURL},
	})
	if err != nil {
		return nil, err
	}
	grafanaAdmin, err := secrets.SealedSecret(args.Sealer, &secrets.SealedSecretArgs{
		Namespace: args.Namespace,
		Name:      GrafanaAdminSecretName,
		Labels:    withLabels(args.Labels, map[string]string{"app.kubernetes.io/name": "grafana"}),
		Data:      map[string]string{GrafanaAdminUserKey: GrafanaAdminUser, GrafanaAdminPasswordKey: args.GrafanaAdminPassword},
	})
	if err != nil {
		return nil, err
	}
	dashboardJSON, err := DashboardJSON(env)
	if err != nil {
		return nil, err
	}
	rules, err := monitoring.PrometheusRule(rulesName(env), args.Namespace,
		withLabels(args.Labels, map[string]string{"app.kubernetes.io/name": "platform-rules"}), PlatformRules(env))
	if err != nil {
		return nil, err
	}
	o := &Observability{
		Charts: Charts(ChartArgs{
			Environment: env, Namespace: args.Namespace,
			EnvironmentNamespaces: args.EnvironmentNamespaces, Tracing: args.Tracing,
			LocalControlPlane: args.LocalControlPlane,
		}),
		Objects: []gitops.Object{slack, grafanaAdmin, configMap{
			APIVersion: "v1", Kind: "ConfigMap",
			Metadata: manifest.Meta{
				Name:      DashboardConfigMapName(env),
				Namespace: args.Namespace,
				Labels: withLabels(args.Labels, map[string]string{
					DashboardLabel:           DashboardLabelValue,
					"app.kubernetes.io/name": "grafana-dashboard",
				}),
			},
			Data: map[string]string{DashboardFile(env): dashboardJSON},
		}, rules},
		DashboardUID: pulumi.String(DashboardUID(env)).ToStringOutput(),
	}
	if err := ctx.RegisterComponentResource("platform:observability:Observability", name, o, opts...); err != nil {
		return nil, err
	}
	chartNames := make(pulumi.StringArray, 0, len(o.Charts))
	for _, c := range o.Charts {
		chartNames = append(chartNames, pulumi.String(c.Name))
	}
	return o, ctx.RegisterResourceOutputs(o, pulumi.Map{
		"dashboardUid": o.DashboardUID,
		"charts":       chartNames,
	})
}

// configMap is a ConfigMap as data.
type configMap struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   manifest.Meta     `json:"metadata"`
	Data       map[string]string `json:"data"`
}

// validate reports every problem at once. The webhook is checked but never quoted: an error message ends up in
// logs and CI output.
func (a *Args) validate() error {
	if a == nil {
		return errors.New("no arguments")
	}
	var problems []string
	label := func(what, value string) {
		if errs := validation.IsDNS1123Label(value); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s %q: %s", what, value, strings.Join(errs, "; ")))
		}
	}
	label("Environment", a.Environment)
	label("Namespace", a.Namespace)
	for _, ns := range a.EnvironmentNamespaces {
		label("EnvironmentNamespaces entry", ns)
	}
	if a.Sealer == nil {
		problems = append(problems, "Sealer is nil: the Slack webhook must be sealed for the sealed-secrets controller")
	}
	if msg := checkWebhook(a.SlackWebhookURL); msg != "" {
		problems = append(problems, "SlackWebhookURL "+msg)
	}
	if msg := checkWebhook(a.SlackPagerWebhookURL); msg != "" {
		problems = append(problems, "SlackPagerWebhookURL "+msg)
	} else if a.SlackPagerWebhookURL == a.SlackWebhookURL {
		problems = append(problems, "SlackPagerWebhookURL is SlackWebhookURL: a Slack app's webhook posts to its own channel only")
	}
	if a.GrafanaAdminPassword == "" {
		problems = append(problems, "GrafanaAdminPassword is empty (Grafana would keep its chart's default admin password)")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkWebhook says what is wrong with a webhook URL without repeating any of it (url.Parse's errors quote their
// input, so they are not passed on).
func checkWebhook(raw string) string {
	if raw == "" {
		return "is empty"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a valid URL"
	case u.Scheme != "https":
		return "must be an https URL"
	case u.Host == "":
		return "has no host"
	case u.User != nil:
		return "must not carry user information"
	}
	return ""
}

// withLabels is base plus extra, extra winning; neither map is changed.
func withLabels(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
