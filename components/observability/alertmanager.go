package observability

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/manifest"
)

// Receivers and channels of the alert routing (docs/decisions.md): critical alerts page, everything else goes to
// the infrastructure channel.
const (
	InfraReceiver = "platform-infra"
	PagerReceiver = "platform-pager"
	InfraChannel  = "#platform-infra"
	PagerChannel  = "#platform-pager"
	// nullReceiver swallows kube-prometheus-stack's Watchdog heartbeat and InfoInhibitor meta-alert, which fire
	// all the time by design and are not for people.
	nullReceiver = "null"
)

// The Slack webhooks reach Alertmanager as files, never in its configuration: the sealed Secret SlackSecretName
// is mounted by the operator under /etc/alertmanager/secrets/<name>/ (alertmanagerSpec.secrets). One webhook per
// channel: a Slack app's incoming webhook posts to the channel it was made for and ignores a message's channel.
const (
	SlackSecretName       = "alertmanager-slack"
	SlackSecretKey        = "webhook-url"       // #nosec G101 -- InfraChannel's key name, not a credential
	SlackPagerSecretKey   = "pager-webhook-url" // #nosec G101 -- PagerChannel's key name, not a credential
	SlackWebhookFile      = "/etc/alertmanager/secrets/" + SlackSecretName + "/" + SlackSecretKey
	SlackPagerWebhookFile = "/etc/alertmanager/secrets/" + SlackSecretName + "/" + SlackPagerSecretKey
)

// groupBy keeps one environment's alerts apart from another's even where they share a channel.
var groupBy = []string{"alertname", "environment", "namespace"}

// Alertmanager is an Alertmanager configuration file (the subset the platform uses), in the field names of
// https://prometheus.io/docs/alerting/latest/configuration/.
type Alertmanager struct {
	Global       AlertmanagerGlobal `json:"global" yaml:"global"`
	Route        Route              `json:"route" yaml:"route"`
	InhibitRules []InhibitRule      `json:"inhibit_rules" yaml:"inhibit_rules"`
	Receivers    []Receiver         `json:"receivers" yaml:"receivers"`
}

// AlertmanagerGlobal is the global block.
type AlertmanagerGlobal struct {
	ResolveTimeout string `json:"resolve_timeout" yaml:"resolve_timeout"`
}

// Route is a node of the routing tree; the root sets the defaults its children inherit.
type Route struct {
	Receiver       string   `json:"receiver" yaml:"receiver"`
	GroupBy        []string `json:"group_by,omitempty" yaml:"group_by,omitempty"`
	GroupWait      string   `json:"group_wait,omitempty" yaml:"group_wait,omitempty"`
	GroupInterval  string   `json:"group_interval,omitempty" yaml:"group_interval,omitempty"`
	RepeatInterval string   `json:"repeat_interval,omitempty" yaml:"repeat_interval,omitempty"`
	Matchers       []string `json:"matchers,omitempty" yaml:"matchers,omitempty"`
	Continue       *bool    `json:"continue,omitempty" yaml:"continue,omitempty"` // stated where it matters
	Routes         []Route  `json:"routes,omitempty" yaml:"routes,omitempty"`
}

// InhibitRule mutes the target alerts while a source alert with the same Equal labels fires.
type InhibitRule struct {
	SourceMatchers []string `json:"source_matchers" yaml:"source_matchers"`
	TargetMatchers []string `json:"target_matchers" yaml:"target_matchers"`
	Equal          []string `json:"equal" yaml:"equal"`
}

// Receiver is a named set of notification integrations; one without any drops what it receives.
type Receiver struct {
	Name         string        `json:"name" yaml:"name"`
	SlackConfigs []SlackConfig `json:"slack_configs,omitempty" yaml:"slack_configs,omitempty"`
}

// SlackConfig posts to a Slack incoming webhook read from a file. Title and Text are Alertmanager notification
// templates, evaluated by Alertmanager.
type SlackConfig struct {
	APIURLFile   string `json:"api_url_file" yaml:"api_url_file"`
	Channel      string `json:"channel" yaml:"channel"`
	SendResolved bool   `json:"send_resolved" yaml:"send_resolved"`
	Title        string `json:"title" yaml:"title"`
	Text         string `json:"text" yaml:"text"`
}

// AlertmanagerConfig is the Alertmanager configuration of an environment. Routing is the same everywhere; only the
// environment named in the notifications differs.
func AlertmanagerConfig(env string) *Alertmanager {
	return &Alertmanager{
		Global: AlertmanagerGlobal{ResolveTimeout: "5m"},
		Route: Route{
			Receiver:       InfraReceiver,
			GroupBy:        groupBy,
			GroupWait:      "30s",
			GroupInterval:  "5m",
			RepeatInterval: "4h",
			Routes: []Route{
				{Matchers: []string{`alertname=~"Watchdog|InfoInhibitor"`}, Receiver: nullReceiver},
				// Paged alerts are not repeated in the infrastructure channel.
				{Matchers: []string{`severity="critical"`}, Receiver: PagerReceiver, Continue: new(false)},
			},
		},
		// A critical alert says everything its warning twin would, in the same place.
		InhibitRules: []InhibitRule{{
			SourceMatchers: []string{`severity="critical"`},
			TargetMatchers: []string{`severity="warning"`},
			Equal:          groupBy,
		}},
		Receivers: []Receiver{
			{Name: InfraReceiver, SlackConfigs: []SlackConfig{slack(env, InfraChannel, SlackWebhookFile)}},
			{Name: PagerReceiver, SlackConfigs: []SlackConfig{slack(env, PagerChannel, SlackPagerWebhookFile)}},
			{Name: nullReceiver},
		},
	}
}

// slack is the notification of one channel, through that channel's webhook (webhookFile); the channel is named
// too, for a legacy webhook that honours it. The status, count and alert name head the title; the text lists
// each alert's summary, description, namespace and runbook.
func slack(env, channel, webhookFile string) SlackConfig {
	return SlackConfig{
		APIURLFile:   webhookFile,
		Channel:      channel,
		SendResolved: true,
		Title: "[" + env + "] [{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] " +
			"{{ .CommonLabels.alertname }}",
		Text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n" +
			"{{ .Annotations.description }}\n" +
			"severity: {{ .Labels.severity }}, namespace: {{ .Labels.namespace }}\n" +
			"runbook: {{ .Annotations.runbook_url }}\n" +
			"{{ end }}",
	}
}

// YAML renders the configuration as alertmanager.yml (what `amtool check-config` reads).
func (a *Alertmanager) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("encode Alertmanager configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode Alertmanager configuration: %w", err)
	}
	return buf.Bytes(), nil
}

// Values is the configuration as Helm values data (kube-prometheus-stack's alertmanager.config).
func (a *Alertmanager) Values() map[string]any { return manifest.Untyped(a) }
