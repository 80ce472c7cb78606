package observability

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

// webhook looks like a Slack incoming webhook; the test checks it never reaches a resource input or an object in
// the clear.
const (
	webhook       = "https://hooks.slack.com/services/T0TEST0001/B0TEST0001/s3cr3tT0kenThatMustNotLeak"
	pagerWebhook  = "https://hooks.slack.com/services/T0TEST0001/B0TEST0002/s3cr3tPag3rThatMustNotLeak"
	adminPassword = "grafanaAdm1nThatMustNotLeak-Qv8Lz"
)

const componentType = "platform:observability:Observability"

func labels(env string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/managed-by": "pulumi",
		"app.kubernetes.io/part-of":    "lke-platform",
		"platform.lke/environment":     env,
	}
}

func testArgs(t *testing.T, env string, tracing bool) *Args {
	return &Args{
		Environment: env, Labels: labels(env), Namespace: env + "-monitoring", Tracing: tracing,
		Sealer: secretstest.Sealer(t), SlackWebhookURL: webhook, SlackPagerWebhookURL: pagerWebhook, GrafanaAdminPassword: adminPassword,
		EnvironmentNamespaces: []string{env + "-apps"},
	}
}

func runComponent(t *testing.T, env string, args *Args, opts ...pulumi.ResourceOption) (*mocks.Recorder, *Observability) {
	t.Helper()
	var o *Observability
	rec, err := mocks.Run(t, env, nil, func(ctx *pulumi.Context) error {
		var err error
		o, err = New(ctx, env, args, opts...)
		return err
	})
	require.NoError(t, err)
	return rec, o
}

// objects returns the component's objects in their map form: the sealed Slack webhook, the sealed Grafana admin,
// the dashboard ConfigMap and the PrometheusRule, in that order.
func objects(t *testing.T, o *Observability) (sealed, admin, cm, rule map[string]any) {
	t.Helper()
	require.Len(t, o.Objects, 4)
	sealed, admin, cm, rule = manifest.Untyped(o.Objects[0]), manifest.Untyped(o.Objects[1]), manifest.Untyped(o.Objects[2]), manifest.Untyped(o.Objects[3])
	for _, s := range []map[string]any{sealed, admin} {
		assert.Equal(t, "bitnami.com/v1alpha1", s["apiVersion"])
		assert.Equal(t, "SealedSecret", s["kind"])
	}
	assert.Equal(t, "v1", cm["apiVersion"])
	assert.Equal(t, "ConfigMap", cm["kind"])
	assert.Equal(t, "monitoring.coreos.com/v1", rule["apiVersion"])
	assert.Equal(t, "PrometheusRule", rule["kind"])
	return sealed, admin, cm, rule
}

func TestObservabilityInEveryEnvironment(t *testing.T) {
	controller := secretstest.NewController(t)
	for _, env := range environments {
		for _, tracing := range []bool{false, true} {
			name := env
			if tracing {
				name += "/tracing"
			}
			t.Run(name, func(t *testing.T) {
				ns := env + "-monitoring"
				rec, o := runComponent(t, env, testArgs(t, env, tracing), pulumi.Protect(env == "production"))
				sealed, admin, cm, rule := objects(t, o)

				// The Slack webhooks, one per channel, sealed for the Secret alertmanager-slack that Alertmanager mounts.
				meta := sealed["metadata"].(map[string]any)
				assert.Equal(t, "alertmanager-slack", meta["name"])
				assert.Equal(t, ns, meta["namespace"])
				assert.Equal(t, env, meta["labels"].(map[string]any)["platform.lke/environment"])
				spec := sealed["spec"].(map[string]any)
				encrypted := spec["encryptedData"].(map[string]any)
				require.Contains(t, encrypted, "webhook-url")
				assert.Equal(t, webhook, controller.Unseal(t, ns, "alertmanager-slack", encrypted["webhook-url"].(string)))
				require.Contains(t, encrypted, "pager-webhook-url")
				assert.Equal(t, pagerWebhook, controller.Unseal(t, ns, "alertmanager-slack", encrypted["pager-webhook-url"].(string)))
				for _, w := range []string{webhook, pagerWebhook} {
					secretstest.AssertNoPlaintext(t, rec, w)
					secretstest.AssertNoPlaintextInData(t, o.Objects, w)
				}

				// Grafana's admin, sealed for the Secret the chart reads (grafana.admin.existingSecret).
				meta = admin["metadata"].(map[string]any)
				assert.Equal(t, "grafana-admin", meta["name"])
				assert.Equal(t, ns, meta["namespace"])
				encrypted = admin["spec"].(map[string]any)["encryptedData"].(map[string]any)
				assert.Equal(t, "admin", controller.Unseal(t, ns, "grafana-admin", encrypted["admin-user"].(string)))
				assert.Equal(t, adminPassword, controller.Unseal(t, ns, "grafana-admin", encrypted["admin-password"].(string)))
				secretstest.AssertNoPlaintext(t, rec, adminPassword)
				secretstest.AssertNoPlaintextInData(t, o.Objects, adminPassword)

				// The dashboard, where Grafana's sidecar finds it.
				meta = cm["metadata"].(map[string]any)
				assert.Equal(t, "env-"+env+"-overview-dashboard", meta["name"])
				assert.Equal(t, ns, meta["namespace"])
				cmLabels := meta["labels"].(map[string]any)
				assert.Equal(t, "1", cmLabels["grafana_dashboard"])
				for k, v := range labels(env) {
					assert.Equal(t, v, cmLabels[k], k)
				}
				data := cm["data"].(map[string]any)
				require.Contains(t, data, env+"-overview.json")
				var dashboard map[string]any
				require.NoError(t, json.Unmarshal([]byte(data[env+"-overview.json"].(string)), &dashboard))
				assert.Equal(t, "env-"+env, dashboard["uid"])
				assert.Equal(t, env+"-overview", dashboard["title"])

				// The platform rules, as one PrometheusRule.
				meta = rule["metadata"].(map[string]any)
				assert.Equal(t, "platform-"+env+"-rules", meta["name"])
				assert.Equal(t, ns, meta["namespace"])
				assert.Equal(t, env, meta["labels"].(map[string]any)["platform.lke/environment"])
				groups := rule["spec"].(map[string]any)["groups"].([]any)
				assert.Len(t, groups, len(PlatformRules(env)))
				assert.Equal(t, manifest.Untyped(map[string]any{"groups": PlatformRules(env)})["groups"], groups)

				// Nothing but the component is registered: the releases and the objects are data for the gitops
				// Infrastructure.
				require.Len(t, rec.Resources(), 1)
				c := rec.One(t, componentType, env)
				assert.Equal(t, env == "production", c.Protect, "protect")

				want := []string{"kube-prometheus-stack", "loki", "promtail"}
				if tracing {
					want = append(want, "tempo")
				}
				var got []string
				for _, c := range o.Charts {
					got = append(got, c.Name)
					assert.Equal(t, ns, c.Namespace)
				}
				assert.Equal(t, want, got)
			})
		}
	}
}

func TestArgsAreValidatedWithoutRevealingTheWebhook(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Args)
		want   string
	}{
		"http webhook":         {func(a *Args) { a.SlackWebhookURL = strings.Replace(webhook, "https", "http", 1) }, "SlackWebhookURL must be an https URL"},
		"no scheme":            {func(a *Args) { a.SlackWebhookURL = strings.TrimPrefix(webhook, "https://") }, "SlackWebhookURL must be an https URL"},
		"unparseable":          {func(a *Args) { a.SlackWebhookURL = webhook + "%zz" }, "SlackWebhookURL is not a valid URL"},
		"empty webhook":        {func(a *Args) { a.SlackWebhookURL = "" }, "SlackWebhookURL is empty"},
		"no pager webhook":     {func(a *Args) { a.SlackPagerWebhookURL = "" }, "SlackPagerWebhookURL is empty"},
		"one webhook for both": {func(a *Args) { a.SlackPagerWebhookURL = webhook }, "SlackPagerWebhookURL is SlackWebhookURL: a Slack app's webhook posts to its own channel only"},
		"no grafana password":  {func(a *Args) { a.GrafanaAdminPassword = "" }, "GrafanaAdminPassword is empty"},
		"user info":            {func(a *Args) { a.SlackWebhookURL = "https://me:s3cr3tT0ken@hooks.slack.com/services/x" }, "must not carry user information"},
		"no sealer":            {func(a *Args) { a.Sealer = nil }, "Sealer is nil"},
		"bad namespace":        {func(a *Args) { a.Namespace = "Monitoring" }, `Namespace "Monitoring"`},
		"bad env namespace":    {func(a *Args) { a.EnvironmentNamespaces = []string{"apps|.*"} }, `EnvironmentNamespaces entry "apps|.*"`},
		"no environment":       {func(a *Args) { a.Environment = "" }, `Environment ""`},
	} {
		t.Run(name, func(t *testing.T) {
			args := testArgs(t, "staging", false)
			tc.mutate(args)
			rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "staging", args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cr3tT0ken", "an error never quotes the webhook")
			assert.NotContains(t, err.Error(), "s3cr3tPag3r", "an error never quotes the webhook")
			assert.NotContains(t, err.Error(), "hooks.slack.com")
			assert.Empty(t, rec.Resources(), "bad arguments register nothing")
		})
	}
}

func TestSealingIsDeterministic(t *testing.T) {
	encrypted := func() any {
		_, o := runComponent(t, "staging", testArgs(t, "staging", false))
		sealed, _, _, _ := objects(t, o)
		return sealed["spec"]
	}
	assert.Equal(t, encrypted(), encrypted(), "a second up shows no change")
}
