// Package monitoring holds the typed Prometheus objects the platform's components share: rule groups (written as
// PrometheusRule objects for the operator and as rule files for promtool), scrape endpoints, and the plain scrape
// configuration a stand-alone Prometheus needs to scrape the same endpoints in tests.
package monitoring

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/manifest"
)

// API group and version of the prometheus-operator objects; Argo CD installs their CRDs (components/gitops).
const operatorAPIVersion = "monitoring.coreos.com/v1"

// RuleGroup is one group of a Prometheus rule file (and of a PrometheusRule's spec.groups).
type RuleGroup struct {
	Name     string `json:"name" yaml:"name"`
	Interval string `json:"interval,omitempty" yaml:"interval,omitempty"`
	Rules    []Rule `json:"rules" yaml:"rules"`
}

// Rule is one alerting rule (Alert set) or recording rule (Record set).
type Rule struct {
	Alert       string            `json:"alert,omitempty" yaml:"alert,omitempty"`
	Record      string            `json:"record,omitempty" yaml:"record,omitempty"`
	Expr        string            `json:"expr" yaml:"expr"`
	For         string            `json:"for,omitempty" yaml:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// rulesFile is the top level of a Prometheus rule file.
type rulesFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RulesFile renders groups as a Prometheus rule file, the form `promtool check rules` and `promtool test rules`
// read.
func RulesFile(groups []RuleGroup) ([]byte, error) {
	return encodeYAML(rulesFile{Groups: groups})
}

// prometheusRuleSpec is the spec of a PrometheusRule: the same groups as a rule file.
type prometheusRuleSpec struct {
	Groups []RuleGroup `json:"groups"`
}

// PrometheusRule is a PrometheusRule named name in namespace holding the groups, as data for Argo CD (the
// environment's observability folder). The operator loads it into Prometheus when its labels match the
// ruleSelector.
func PrometheusRule(name, namespace string, labels map[string]string, groups []RuleGroup) (manifest.Object, error) {
	if len(groups) == 0 {
		return manifest.Object{}, fmt.Errorf("PrometheusRule %s: no rule groups", name)
	}
	return manifest.Object{
		APIVersion: operatorAPIVersion,
		Kind:       "PrometheusRule",
		Metadata:   manifest.Meta{Name: name, Namespace: namespace, Labels: labels},
		Spec:       prometheusRuleSpec{Groups: groups},
	}, nil
}

// Endpoint is how one Service port is scraped: Port is the Service's port name, Path the metrics path, Interval
// and ScrapeTimeout Prometheus durations ("30s").
// The yaml tags let a test decode the endpoint back out of a rendered ServiceMonitor.
type Endpoint struct {
	Port          string `json:"port" yaml:"port"`
	Path          string `json:"path,omitempty" yaml:"path,omitempty"`
	Interval      string `json:"interval,omitempty" yaml:"interval,omitempty"`
	ScrapeTimeout string `json:"scrapeTimeout,omitempty" yaml:"scrapeTimeout,omitempty"`
}

// ScrapeJob is one entry of a Prometheus configuration's scrape_configs with static targets: what the operator
// generates from a ServiceMonitor, minus Kubernetes service discovery.
type ScrapeJob struct {
	JobName        string         `yaml:"job_name" json:"job_name"`
	MetricsPath    string         `yaml:"metrics_path,omitempty" json:"metrics_path,omitempty"`
	ScrapeInterval string         `yaml:"scrape_interval,omitempty" json:"scrape_interval,omitempty"`
	ScrapeTimeout  string         `yaml:"scrape_timeout,omitempty" json:"scrape_timeout,omitempty"`
	StaticConfigs  []StaticConfig `yaml:"static_configs" json:"static_configs"`
}

// StaticConfig is a list of host:port targets and the labels every series scraped from them gets.
type StaticConfig struct {
	Targets []string          `yaml:"targets" json:"targets"`
	Labels  map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// ScrapeConfig is the scrape job for targets scraped the way ep says. labels stand in for the target labels the
// operator would attach in a cluster (namespace, service, ...), which rules select on.
func ScrapeConfig(job string, ep Endpoint, targets []string, labels map[string]string) ScrapeJob {
	return ScrapeJob{
		JobName:        job,
		MetricsPath:    ep.Path,
		ScrapeInterval: ep.Interval,
		ScrapeTimeout:  ep.ScrapeTimeout,
		StaticConfigs:  []StaticConfig{{Targets: targets, Labels: labels}},
	}
}

// PrometheusConfig is a minimal prometheus.yml: rule files and scrape jobs, with global settings.
type PrometheusConfig struct {
	Global        GlobalConfig `yaml:"global,omitempty"`
	RuleFiles     []string     `yaml:"rule_files,omitempty"`
	ScrapeConfigs []ScrapeJob  `yaml:"scrape_configs"`
}

// GlobalConfig is the global block of a prometheus.yml.
type GlobalConfig struct {
	ScrapeInterval     string            `yaml:"scrape_interval,omitempty"`
	EvaluationInterval string            `yaml:"evaluation_interval,omitempty"`
	ExternalLabels     map[string]string `yaml:"external_labels,omitempty"`
}

// YAML renders the configuration as a prometheus.yml (`promtool check config` reads it).
func (c PrometheusConfig) YAML() ([]byte, error) {
	return encodeYAML(c)
}

// encodeYAML uses two-space indentation, the convention of every Prometheus example, so files diff cleanly.
func encodeYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// runbooks is where every alert's runbook lives: one page, one section per alert (docs/runbooks/alerts.md).
const runbooks = "https://github.com/platform-eng/lke-platform/blob/main/docs/runbooks/alerts.md"

// RunbookURL is the runbook_url of an alert: its section of the alert runbook, linked from Slack.
func RunbookURL(alert string) string { return runbooks + "#" + strings.ToLower(alert) }
