package gitops

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Argo CD's application events reach the environment's Loki (the spec: "ArgoCD application events forward to
// Loki (label argo_app)") through Argo CD's own notifications controller: a trigger per kind of event, each
// sending one entry to Loki's push API as the environment's tenant, in a stream labelled with the Application's
// name. Nothing else is installed for it, and the events say what Argo CD decided, not what a log line happened
// to print.

// NotificationsController is the notifications controller's name (its Deployment, ServiceAccount and
// app.kubernetes.io/name label).
const NotificationsController = "argocd-notifications-controller"

// NotificationsConfigMap is the notifications controller's settings: services, templates, triggers and the
// subscriptions every Application has.
const NotificationsConfigMap = "argocd-notifications-cm"

// Loki stream labels of an application event beside the environment's: the Application's name, and the source,
// which tells these entries from the program's own audit events (cmd/audit), which carry argo_app too.
const (
	ArgoAppLabel     = "argo_app"
	EnvironmentLabel = "environment" // as on the audit events and the log shipper's streams
	EventSourceLabel = "source"
	EventSource      = "argocd"
)

// lokiService is the notification service's name: the webhook to Loki's push API.
const lokiService = "loki"

// lokiPushPath is Loki's push API under its base URL.
const lokiPushPath = "/loki/api/v1/push"

// EventsArgs configure where an environment's Argo CD sends its application events.
type EventsArgs struct {
	// LokiURL is the base URL of the environment's Loki, reachable from Argo CD's namespace
	// (observability.LokiURL: its gateway's Service).
	LokiURL string
	// Tenant is the Loki tenant the events are pushed as: the environment's name, like every other stream of it.
	Tenant string
}

func (e EventsArgs) validate() []string {
	var problems []string
	if u, err := url.Parse(e.LokiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("Events.LokiURL %q is not an absolute http(s) URL", e.LokiURL))
	}
	if e.Tenant == "" {
		problems = append(problems, "Events.Tenant is empty")
	}
	return problems
}

// ApplicationEvent is one kind of event an Application's notifications report: the trigger that detects it,
// in Argo CD's expression language over the Application (the conditions of Argo CD's trigger catalog).
type ApplicationEvent struct {
	Name string // the trigger is on-<Name>, its template loki-<Name>; the entry's event field is Name
	When string // the trigger's condition
	// OncePer is the expression whose value changes once per occurrence (Argo CD's oncePer): a notification is
	// sent again only when it changes. Empty: once each time the condition turns true.
	OncePer     string
	Description string
}

// ApplicationEvents are the events sent to Loki: each sync's start and outcome, a deployment made healthy, and
// the states an operator must look at.
var ApplicationEvents = []ApplicationEvent{
	{Name: "sync-running", Description: "a sync has started",
		When: "app.status.operationState != nil and app.status.operationState.phase in ['Running']"},
	{Name: "sync-succeeded", Description: "a sync has succeeded",
		When: "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']"},
	{Name: "sync-failed", Description: "a sync has failed",
		When: "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']"},
	{Name: "deployed", Description: "a new revision is synced and healthy",
		When:    "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'",
		OncePer: "app.status.operationState.syncResult.revision"},
	{Name: "health-degraded", Description: "the application has degraded",
		When: "app.status.health.status == 'Degraded'"},
	{Name: "sync-status-unknown", Description: "the application's sync status is unknown",
		When: "app.status.sync.status == 'Unknown'"},
}

// webhookService is a notification webhook service's settings (notifications-engine's WebhookOptions).
type webhookService struct {
	URL     string          `json:"url"`
	Headers []webhookHeader `json:"headers"`
}

type webhookHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// webhookTemplate is a template sending to one webhook service: its method, path under the service's URL and
// body, each a Go template over the notification's variables (.app, the Application).
type webhookTemplate struct {
	Webhook map[string]webhookCall `json:"webhook"`
}

type webhookCall struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body"`
}

// trigger is one condition of a trigger (notifications-engine's triggers.Condition).
type trigger struct {
	Description string   `json:"description,omitempty"`
	When        string   `json:"when"`
	OncePer     string   `json:"oncePer,omitempty"`
	Send        []string `json:"send"`
}

// subscription subscribes every Application to triggers (notifications-engine's DefaultSubscription).
type subscription struct {
	Recipients []string `json:"recipients"`
	Triggers   []string `json:"triggers"`
}

// lineFields are the fields of an event's line in Loki, beside "event", each read from the Application with
// sprig's dig (a missing field is "", where a plain .a.b.c would fail the template): what a query filters on,
// e.g. `{argo_app="platform-development-sample-service"} | json | event="sync-failed"`.
var lineFields = []struct{ name, path string }{
	{"project", `"spec" "project"`},
	{"sync_status", `"status" "sync" "status"`},
	{"health_status", `"status" "health" "status"`},
	{"revision", `"status" "sync" "revision"`},
	{"operation_phase", `"status" "operationState" "phase"`},
	{"message", `"status" "operationState" "message"`},
}

// pushBody is the template of the push request of one event: one stream, labelled with the Application's
// name and the fixed labels, and one entry timed when the controller sends it, whose line is the event as JSON.
// The whole body is sprig's toJson of a dict, so no value the Application holds (a message with quotes) can
// break the JSON; string literals are Go-quoted, as the template language reads them.
func pushBody(event string, labels map[string]string) string {
	line := []string{`"event"`, strconv.Quote(event), `"app"`, ".app.metadata.name"}
	for _, f := range lineFields {
		line = append(line, strconv.Quote(f.name), "(dig "+f.path+` "" .app)`)
	}
	stream := []string{strconv.Quote(ArgoAppLabel), ".app.metadata.name"}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		stream = append(stream, strconv.Quote(k), strconv.Quote(labels[k]))
	}
	return "{{- $line := toJson (dict " + strings.Join(line, " ") + ") -}}\n" +
		"{{- $stream := dict " + strings.Join(stream, " ") + " -}}\n" +
		`{{- toJson (dict "streams" (list (dict "stream" $stream "values" (list (list (toString (now).UnixNano) $line))))) -}}`
}

// NotificationsData is the data of argocd-notifications-cm: the Loki service (with the tenant header), one
// template and one trigger per ApplicationEvent, and a default subscription of every Application to every
// trigger. labels are the fixed labels of every event's stream, beside argo_app (the environment, the source).
func NotificationsData(events EventsArgs, labels map[string]string) (map[string]string, error) {
	if problems := events.validate(); len(problems) > 0 {
		return nil, fmt.Errorf("gitops: %s", strings.Join(problems, "; "))
	}
	data := map[string]string{}
	put := func(key string, v any) error {
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("gitops: %s: %w", key, err)
		}
		data[key] = string(b)
		return nil
	}
	if err := put("service.webhook."+lokiService, webhookService{
		URL: strings.TrimSuffix(events.LokiURL, "/"),
		Headers: []webhookHeader{
			{Name: "Content-Type", Value: "application/json"},
			{Name: "X-Scope-OrgID", Value: events.Tenant},
		},
	}); err != nil {
		return nil, err
	}
	sub := subscription{Recipients: []string{lokiService}}
	for _, e := range ApplicationEvents {
		body := pushBody(e.Name, labels)
		template := "loki-" + e.Name
		if err := put("template."+template, webhookTemplate{Webhook: map[string]webhookCall{
			lokiService: {Method: "POST", Path: lokiPushPath, Body: body},
		}}); err != nil {
			return nil, err
		}
		name := "on-" + e.Name
		if err := put("trigger."+name, []trigger{{Description: e.Description, When: e.When, OncePer: e.OncePer, Send: []string{template}}}); err != nil {
			return nil, err
		}
		sub.Triggers = append(sub.Triggers, name)
	}
	if err := put("subscriptions", []subscription{sub}); err != nil {
		return nil, err
	}
	return data, nil
}
