package observability

import (
	"encoding/json"
	"fmt"

	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/names"
)

// Grafana discovers dashboards through its sidecar: ConfigMaps carrying DashboardLabel=DashboardLabelValue.
const (
	DashboardLabel      = "grafana_dashboard"
	DashboardLabelValue = "1"
)

// prometheusDatasource is the uid kube-prometheus-stack gives its Prometheus data source
// (grafana.sidecar.datasources.uid); the dashboard's datasource variable defaults to it.
const prometheusDatasource = "prometheus"

// DashboardUID is the Grafana UID of an environment's overview dashboard.
func DashboardUID(env string) string { return "env-" + env }

// DashboardTitle is the title of an environment's overview dashboard.
func DashboardTitle(env string) string { return env + "-overview" }

// DashboardFile is the key of the dashboard's JSON in its ConfigMap.
func DashboardFile(env string) string { return DashboardTitle(env) + ".json" }

// Grafana dashboard model (the subset used), see https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/.
type (
	dashboard struct {
		UID           string     `json:"uid"`
		Title         string     `json:"title"`
		Tags          []string   `json:"tags"`
		Timezone      string     `json:"timezone"`
		Editable      bool       `json:"editable"`
		Refresh       string     `json:"refresh"`
		SchemaVersion int        `json:"schemaVersion"`
		Version       int        `json:"version"`
		Time          timeRange  `json:"time"`
		Templating    templating `json:"templating"`
		Panels        []panel    `json:"panels"`
	}
	timeRange struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	templating struct {
		List []variable `json:"list"`
	}
	variable struct {
		Name       string         `json:"name"`
		Label      string         `json:"label,omitempty"`
		Type       string         `json:"type"`
		Query      any            `json:"query"`
		Hide       int            `json:"hide"` // 0 shown, 2 hidden
		Datasource *datasourceRef `json:"datasource,omitempty"`
		Multi      bool           `json:"multi,omitempty"`
		IncludeAll bool           `json:"includeAll,omitempty"`
		AllValue   string         `json:"allValue,omitempty"`
		Refresh    int            `json:"refresh,omitempty"` // 2: on time range change
		Current    *current       `json:"current,omitempty"`
		Sort       int            `json:"sort,omitempty"`
	}
	current struct {
		Text  string `json:"text"`
		Value string `json:"value"`
	}
	datasourceRef struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	panel struct {
		ID          int           `json:"id"`
		Title       string        `json:"title"`
		Description string        `json:"description,omitempty"`
		Type        string        `json:"type"`
		GridPos     gridPos       `json:"gridPos"`
		Datasource  datasourceRef `json:"datasource"`
		Targets     []target      `json:"targets"`
		FieldConfig fieldConfig   `json:"fieldConfig"`
	}
	gridPos struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	}
	target struct {
		RefID        string        `json:"refId"`
		Datasource   datasourceRef `json:"datasource"`
		Expr         string        `json:"expr"`
		LegendFormat string        `json:"legendFormat,omitempty"`
		Instant      bool          `json:"instant,omitempty"`
		Format       string        `json:"format,omitempty"`
	}
	fieldConfig struct {
		Defaults fieldDefaults `json:"defaults"`
		// Overrides is always present (empty): Grafana's model has it on every panel.
		Overrides []any `json:"overrides"`
	}
	fieldDefaults struct {
		Unit string `json:"unit,omitempty"`
		Min  *int   `json:"min,omitempty"`
		Max  *int   `json:"max,omitempty"`
	}
)

// Dashboard is the environment's overview dashboard: traffic and errors through the ingress controller, pod
// restarts, CPU and memory against the namespaces' quotas, the sample service and the alerts firing. It is scoped
// to the environment's namespaces ("<env>-<name>"), selectable one by one.
func Dashboard(env string) map[string]any {
	ds := datasourceRef{Type: "prometheus", UID: "${datasource}"}
	// The ingress controller's metrics name the Ingress's namespace exported_namespace: its own scrape target
	// label "namespace" takes precedence.
	ingress := `exported_namespace=~"$namespace"`
	ns := `namespace=~"$namespace"`

	q := func(ref, expr, legend string) target {
		return target{RefID: ref, Datasource: ds, Expr: expr, LegendFormat: legend}
	}
	one := 1
	zero := 0
	panels := []panel{
		{
			Title: "Requests per second", Type: "timeseries",
			Description: "Requests through the ingress controller to the environment's Ingresses.",
			Targets: []target{q("A",
				`sum by (exported_namespace, ingress) (rate(nginx_ingress_controller_requests{`+ingress+`}[5m]))`,
				"{{exported_namespace}}/{{ingress}}")},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "reqps"}},
		},
		{
			Title: "Error ratio (5xx)", Type: "timeseries",
			Description: "Share of requests answered with a 5xx status, per Ingress.",
			Targets: []target{q("A",
				`sum by (exported_namespace, ingress) (rate(nginx_ingress_controller_requests{`+ingress+`, status=~"5.."}[5m]))`+
					` / sum by (exported_namespace, ingress) (rate(nginx_ingress_controller_requests{`+ingress+`}[5m]))`,
				"{{exported_namespace}}/{{ingress}}")},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "percentunit", Min: &zero, Max: &one}},
		},
		{
			Title: "Pod restarts (1h)", Type: "timeseries",
			Targets: []target{q("A",
				`sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{`+ns+`}[1h])) > 0`,
				"{{namespace}}/{{pod}}")},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "short"}},
		},
		{
			Title: "Sample service up", Type: "stat",
			Description: names.SampleServiceUpMetric + " as scraped from each instance of the sample service.",
			Targets:     []target{q("A", `sum by (namespace) (`+names.SampleServiceUpMetric+`{`+ns+`})`, "{{namespace}}")},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "short", Min: &zero}},
		},
		{
			Title: "CPU: usage against quota", Type: "timeseries",
			Targets: []target{
				q("A", `sum by (namespace) (rate(container_cpu_usage_seconds_total{`+ns+`, container!=""}[5m]))`, "{{namespace}} used"),
				q("B", `sum by (namespace) (kube_resourcequota{`+ns+`, resource="requests.cpu", type="used"})`, "{{namespace}} requested"),
				q("C", `sum by (namespace) (kube_resourcequota{`+ns+`, resource="requests.cpu", type="hard"})`, "{{namespace}} requests quota"),
				q("D", `sum by (namespace) (kube_resourcequota{`+ns+`, resource="limits.cpu", type="hard"})`, "{{namespace}} limits quota"),
			},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "cores"}},
		},
		{
			Title: "Memory: usage against quota", Type: "timeseries",
			Targets: []target{
				q("A", `sum by (namespace) (container_memory_working_set_bytes{`+ns+`, container!=""})`, "{{namespace}} used"),
				q("B", `sum by (namespace) (kube_resourcequota{`+ns+`, resource="requests.memory", type="used"})`, "{{namespace}} requested"),
				q("C", `sum by (namespace) (kube_resourcequota{`+ns+`, resource="requests.memory", type="hard"})`, "{{namespace}} requests quota"),
				q("D", `sum by (namespace) (kube_resourcequota{`+ns+`, resource="limits.memory", type="hard"})`, "{{namespace}} limits quota"),
			},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "bytes"}},
		},
		{
			Title: "Alerts firing", Type: "table",
			Description: "Alerts firing in this environment's Prometheus, by name and severity.",
			Targets: []target{{
				RefID: "A", Datasource: ds, Instant: true, Format: "table",
				Expr: `sum by (alertname, severity, namespace) (ALERTS{alertstate="firing"})`,
			}},
			FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "short"}},
		},
	}
	// Two panels a row, each 12 wide and 8 high; the table of alerts takes a full row at the bottom.
	for i := range panels {
		panels[i].ID = i + 1
		panels[i].Datasource = ds
		panels[i].GridPos = gridPos{X: (i % 2) * 12, Y: (i / 2) * 8, W: 12, H: 8}
		if panels[i].Type == "table" {
			panels[i].GridPos.X, panels[i].GridPos.W = 0, 24
		}
		if panels[i].FieldConfig.Overrides == nil {
			panels[i].FieldConfig.Overrides = []any{}
		}
	}

	d := dashboard{
		UID:           DashboardUID(env),
		Title:         DashboardTitle(env),
		Tags:          []string{"environment", env},
		Timezone:      "utc",
		Editable:      false, // provisioned from Git: edits in the UI would be lost on the next sync
		Refresh:       "1m",
		SchemaVersion: 39,
		Version:       1,
		Time:          timeRange{From: "now-6h", To: "now"},
		Templating: templating{List: []variable{
			{
				Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus",
				Current: &current{Text: "Prometheus", Value: prometheusDatasource},
			},
			// Fixed, hidden: the dashboard belongs to one environment.
			{
				Name: "environment", Type: "constant", Query: env, Hide: 2,
				Current: &current{Text: env, Value: env},
			},
			{
				Name: "namespace", Label: "Namespace", Type: "query",
				Datasource: &datasourceRef{Type: "prometheus", UID: "${datasource}"},
				Query: map[string]any{
					"query": `label_values(kube_namespace_status_phase{namespace=~"$environment-.+"}, namespace)`,
					"refId": "namespace",
				},
				Multi: true, IncludeAll: true, AllValue: "$environment-.+", Refresh: 2, Sort: 1,
				Current: &current{Text: "All", Value: "$__all"},
			},
		}},
		Panels: panels,
	}
	return manifest.Untyped(d)
}

// DashboardJSON is the dashboard as the JSON file Grafana's sidecar loads. Map keys are sorted by encoding/json,
// so the same environment always gives the same bytes. It is compact: the file travels inside the root
// Application's values, which Argo CD's status and Pulumi's state each hold several times over, and indentation
// was a third of it.
func DashboardJSON(env string) (string, error) {
	raw, err := json.Marshal(Dashboard(env))
	if err != nil {
		return "", fmt.Errorf("encode dashboard %s: %w", DashboardUID(env), err)
	}
	return string(raw), nil
}
