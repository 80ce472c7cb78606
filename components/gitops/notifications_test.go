package gitops

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/platform-eng/lke-platform/audit/audittest"
)

func eventsArgs(env string) EventsArgs {
	return EventsArgs{LokiURL: "http://loki-gateway.monitoring.svc", Tenant: env}
}

// application is an Application as the notifications controller hands it to a template (.app): its object.
func application(message string) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": "platform-development-sample-service"},
		"spec":     map[string]any{"project": "platform-development"},
		"status": map[string]any{
			"sync":           map[string]any{"status": "Synced", "revision": "4f1c2d"},
			"health":         map[string]any{"status": "Healthy"},
			"operationState": map[string]any{"phase": "Failed", "message": message},
		},
	}
}

// render renders a template of the ConfigMap's data the way notifications-engine does: Go's text/template with
// sprig's functions, over {"app": the Application}.
func render(t *testing.T, body string, app map[string]any) []byte {
	tmpl, err := template.New("body").Funcs(sprig.TxtFuncMap()).Parse(body)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, tmpl.Execute(&out, map[string]any{"app": app}))
	return out.Bytes()
}

// Every event's body is a push Loki accepts (checked as strictly as Loki checks one), labelled with the
// Application, the environment and the source, whatever the Application's message holds.
func TestEveryEventIsAPushLokiAccepts(t *testing.T) {
	data, err := NotificationsData(eventsArgs("development"), map[string]string{
		EnvironmentLabel: "development", EventSourceLabel: EventSource,
	})
	require.NoError(t, err)

	var service webhookService
	require.NoError(t, yaml.Unmarshal([]byte(data["service.webhook.loki"]), &service))
	assert.Equal(t, "http://loki-gateway.monitoring.svc", service.URL)
	assert.Contains(t, service.Headers, webhookHeader{Name: "X-Scope-OrgID", Value: "development"}, "Loki is multi-tenant")

	var subs []subscription
	require.NoError(t, yaml.Unmarshal([]byte(data["subscriptions"]), &subs))
	require.Len(t, subs, 1)
	assert.Equal(t, []string{"loki"}, subs[0].Recipients)
	require.Len(t, subs[0].Triggers, len(ApplicationEvents))

	message := `one or more objects failed to apply: "quoted", a\backslash and a newline` + "\n" + `<html>`
	for _, e := range ApplicationEvents {
		var triggers []trigger
		require.NoError(t, yaml.Unmarshal([]byte(data["trigger.on-"+e.Name]), &triggers), e.Name)
		require.Len(t, triggers, 1)
		assert.Equal(t, e.When, triggers[0].When)
		assert.Equal(t, []string{"loki-" + e.Name}, triggers[0].Send)
		assert.Contains(t, subs[0].Triggers, "on-"+e.Name)

		var tmpl webhookTemplate
		require.NoError(t, yaml.Unmarshal([]byte(data["template.loki-"+e.Name]), &tmpl), e.Name)
		call := tmpl.Webhook["loki"]
		assert.Equal(t, "POST", call.Method)
		body := render(t, call.Body, application(message))

		req := httptest.NewRequest("POST", service.URL+call.Path, bytes.NewReader(body))
		for _, h := range service.Headers {
			req.Header.Set(h.Name, h.Value)
		}
		push, err := audittest.ValidatePushOf(req, body, time.Now(), audittest.JSONLine)
		require.NoError(t, err, "%s: %s", e.Name, body)
		require.Len(t, push.Streams, 1)
		assert.Equal(t, map[string]string{
			ArgoAppLabel: "platform-development-sample-service", "environment": "development", "source": "argocd",
		}, push.Streams[0].Labels)
		require.Len(t, push.Streams[0].Entries, 1)
		entry := push.Streams[0].Entries[0]
		assert.WithinDuration(t, time.Now(), entry.Time, time.Minute)
		assert.Equal(t, map[string]any{
			"event": e.Name, "app": "platform-development-sample-service", "project": "platform-development",
			"sync_status": "Synced", "health_status": "Healthy", "revision": "4f1c2d",
			"operation_phase": "Failed", "message": message,
		}, entry.Fields)
	}
}

// An Application that has never been synced has no operation state: its events still render, with empty fields.
func TestAnEventOfANeverSyncedApplicationRenders(t *testing.T) {
	data, err := NotificationsData(eventsArgs("production"), nil)
	require.NoError(t, err)
	var tmpl webhookTemplate
	require.NoError(t, yaml.Unmarshal([]byte(data["template.loki-sync-status-unknown"]), &tmpl))
	app := application("")
	delete(app["status"].(map[string]any), "operationState")
	body := string(render(t, tmpl.Webhook["loki"].Body, app))
	assert.Contains(t, body, `\"operation_phase\":\"\"`)
	assert.True(t, strings.HasPrefix(body, `{"streams":[`), body)
}

func TestTheNotificationsControllerRunsTheCoreInstallsImageWithTheEnvironmentsSettings(t *testing.T) {
	objs, err := ArgoCDObjects(bootstrapArgs("staging"))
	require.NoError(t, err)
	var image, controllerImage string
	var data map[string]any
	for _, obj := range objs {
		u := &unstructured.Unstructured{Object: obj}
		switch {
		case u.GetKind() == "Deployment" && u.GetName() == NotificationsController:
			image, err = containerField(obj, NotificationsController, "image")
			require.NoError(t, err)
			assert.Equal(t, "staging-argocd", u.GetNamespace())
		case u.GetKind() == "StatefulSet" && u.GetName() == ControllerServiceAccount:
			controllerImage, err = containerField(obj, ControllerServiceAccount, "image")
			require.NoError(t, err)
		case u.GetKind() == "ConfigMap" && u.GetName() == NotificationsConfigMap:
			data, _, err = unstructured.NestedMap(obj, "data")
			require.NoError(t, err)
			assert.Equal(t, "argocd", u.GetLabels()["app.kubernetes.io/part-of"], "Argo CD finds its settings by this label")
		}
	}
	assert.Equal(t, "quay.io/argoproj/argocd:v3.2.11", controllerImage)
	assert.Equal(t, controllerImage, image, "not the base's :latest")
	assert.Contains(t, data["template.loki-sync-failed"], `"environment" "staging"`)
	assert.Contains(t, data["service.webhook.loki"], "value: staging")
}
