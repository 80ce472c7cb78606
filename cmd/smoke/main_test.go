package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/platform-eng/lke-platform/components/observability"
)

// runMain runs Main as the process would, with an environment of its own, and returns its exit code and output.
func runMain(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Main(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBadFlagsExit1NamingEachFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"nothing", nil, []string{`-environment "": want one of development, staging, production, system`,
			`-prometheus "": want Prometheus' base URL`}},
		{"unknown environment", []string{"-environment", "dev", "-prometheus", "http://127.0.0.1:9090"},
			[]string{`-environment "dev": want one of development, staging, production, system`}},
		{"not a URL", []string{"-environment", "development", "-prometheus", "127.0.0.1:9090"},
			[]string{`-prometheus "127.0.0.1:9090": want Prometheus' base URL, such as http://127.0.0.1:9090`}},
		{"connect-to without a port", []string{"-environment", "development", "-prometheus", "http://p:9090", "-connect-to", "203.0.113.10"},
			[]string{`-connect-to "203.0.113.10": want HOST:PORT`}},
		{"negative wait", []string{"-environment", "development", "-prometheus", "http://p:9090", "-wait", "-1m"},
			[]string{"-wait -1m0s: want a duration of 0 or more"}},
		{"argument", []string{"-environment", "development", "-prometheus", "http://p:9090", "production"},
			[]string{`unexpected arguments ["production"]: every input is a flag`}},
		{"unknown flag", []string{"-stack", "development"}, []string{"flag provided but not defined: -stack"}},
		{"no kubeconfig", []string{"-environment", "development", "-prometheus", "http://p:9090", "-kubeconfig", "/nonexistent/kubeconfig"},
			[]string{"smoke: the kubeconfig (-kubeconfig, else $KUBECONFIG, else ~/.kube/config):", "/nonexistent/kubeconfig"}},
		{"CA not PEM", []string{"-environment", "development", "-prometheus", "http://p:9090", "-kubeconfig", kubeconfigFile(t),
			"-ca", kubeconfigFile(t)}, []string{"smoke: -ca ", ": no PEM certificate in it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, tc.args...)
			assert.Equal(t, ExitError, code)
			assert.Empty(t, stdout, "nothing checked, nothing reported")
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

func TestHelpExits0(t *testing.T) {
	code, _, stderr := runMain(t, nil, "-h")
	assert.Equal(t, ExitPassed, code)
	assert.Contains(t, stderr, "exit code 0: every check passed; 2: a check failed; 1: the command could not run")
}

func TestDefaults(t *testing.T) {
	o, err := parse([]string{"-environment", "staging", "-prometheus", "http://127.0.0.1:9090"}, &strings.Builder{})
	require.NoError(t, err)
	assert.Equal(t, "staging-apps", o.Namespace)
	assert.Equal(t, "monitoring", o.MonitoringNamespace)
	assert.Equal(t, "argocd", o.ArgoCDNamespace)
	assert.Zero(t, o.Wait, "one pass unless asked to wait")
}

// kubeconfigFile is a kubeconfig of a cluster nobody serves: enough to build clients, which connect lazily.
func kubeconfigFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600))
	return path
}

func TestReportLinesSummaryAndExitCodes(t *testing.T) {
	results := []result{
		{check: checkHealthz, target: "https://sample.development.example.org/healthz", ok: true, detail: "200 OK"},
		{check: checkApplication, target: "platform-development-loki", detail: "sync Unknown, health Unknown (ComparisonError: 50% done,\nnot found)"},
	}
	var out strings.Builder
	assert.Equal(t, ExitFailed, report(&out, "development", results, false))
	assert.Equal(t, "ok    healthz     https://sample.development.example.org/healthz: 200 OK\n"+
		"FAIL  application platform-development-loki: sync Unknown, health Unknown (ComparisonError: 50% done,\nnot found)\n"+
		"smoke development: 1 of 2 checks failed\n", out.String())

	out.Reset()
	assert.Equal(t, ExitFailed, report(&out, "development", results, true))
	assert.Contains(t, out.String(), "\n::error title=smoke development%3A application::platform-development-loki: "+
		"sync Unknown, health Unknown (ComparisonError: 50%25 done,%0Anot found)\n", "one annotation per failure, on one line")
	assert.Equal(t, 1, strings.Count(out.String(), "::error"))

	out.Reset()
	assert.Equal(t, ExitPassed, report(&out, "production", results[:1], true))
	assert.NotContains(t, out.String(), "::error")
	assert.True(t, strings.HasSuffix(out.String(), "smoke production: all 1 checks passed\n"), out.String())
}

func TestShortenKeepsOneLineWithItsStartAndCause(t *testing.T) {
	assert.Equal(t, "a b c", shorten(" a\n b\t\tc "))
	long := shorten("Failed to load target state: " + strings.Repeat("é", 500) + " dial tcp: lookup charts.example: no such host")
	assert.Len(t, []rune(long), maxDetail)
	assert.True(t, strings.HasPrefix(long, "Failed to load target state: éé"), long)
	assert.Contains(t, long, "é … é")
	assert.True(t, strings.HasSuffix(long, "éé dial tcp: lookup charts.example: no such host"), long)
}

// prometheusAnswering is a Prometheus that answers every instant query with body (its HTTP API's JSON), and
// records the queries it got.
func prometheusAnswering(t *testing.T, status int, body string) (promv1.API, *[]string) {
	t.Helper()
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		require.NoError(t, r.ParseForm())
		queries = append(queries, r.Form.Get("query"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	client, err := promapi.NewClient(promapi.Config{Address: srv.URL})
	require.NoError(t, err)
	return promv1.NewAPI(client), &queries
}

func TestPrometheusAnswers(t *testing.T) {
	vector := func(samples ...string) string {
		return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
	}
	sample := func(pod, value string) string {
		return `{"metric":{"__name__":"sample_service_up","namespace":"development-apps","pod":"` + pod + `"},"value":[1767225600.5,"` + value + `"]}`
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		ok     bool
		detail string
	}{
		{"one instance up", 200, vector(sample("a", "1")), true, "1 of 1 series at 1"},
		{"one of two up", 200, vector(sample("a", "1"), sample("b", "0")), true, "1 of 2 series at 1"},
		{"no series", 200, vector(), false, "no series: Prometheus scrapes no instance of the sample service"},
		{"down", 200, vector(sample("a", "0")), false, "1 series, none at 1"},
		{"not a vector", 200, `{"status":"success","data":{"resultType":"scalar","result":[1767225600.5,"1"]}}`, false,
			"the answer is a scalar, not an instant vector"},
		{"refused", 400, `{"status":"error","errorType":"bad_data","error":"parse error at char 5"}`, false,
			"bad_data: parse error at char 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, queries := prometheusAnswering(t, tc.status, tc.body)
			s := &smoke{namespace: "development-apps", prometheus: api, prometheusURL: "http://prometheus"}
			got := s.prometheusUp(context.Background())
			require.Len(t, got, 1)
			assert.Equal(t, tc.ok, got[0].ok, got[0].String())
			assert.Contains(t, got[0].detail, tc.detail)
			assert.Equal(t, `sample_service_up{namespace="development-apps"}`, got[0].target)
			assert.Equal(t, []string{`sample_service_up{namespace="development-apps"}`}, *queries)
		})
	}
}

// application is an Argo CD Application as the API server returns it, with the status fields the check reads.
func application(name, project, sync, health string, conditions ...map[string]any) *unstructured.Unstructured {
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd"},
		"spec":     map[string]any{"project": project},
		"status": map[string]any{
			"sync":   map[string]any{"status": sync},
			"health": map[string]any{"status": health},
		},
	}}
	if len(conditions) > 0 {
		var list []any
		for _, c := range conditions {
			list = append(list, c)
		}
		app.Object["status"].(map[string]any)["conditions"] = list
	}
	return app
}

func applicationsSmoke(objs ...runtime.Object) *smoke {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{applications: "ApplicationList"}, objs...)
	return &smoke{env: "development", argoCDNamespace: "argocd", dynamic: client}
}

func TestApplicationsOfTheEnvironmentMustBeSyncedAndHealthy(t *testing.T) {
	s := applicationsSmoke(
		application("platform-development-infrastructure", "platform-development", "Synced", "Healthy"),
		application("platform-development-loki", "platform-development", "Unknown", "Unknown",
			map[string]any{"type": "ComparisonError", "message": "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: " + strings.Repeat("x", 300)}),
		application("platform-development-sample-service", "platform-development", "Synced", "Progressing"),
		application("platform-production-loki", "platform-production", "OutOfSync", "Missing"),
		application("platform-development-crds", "platform-development", "", ""),
	)
	got := s.applications(context.Background())
	var lines []string
	for _, r := range got {
		lines = append(lines, r.String())
	}
	require.Len(t, lines, 4, "another environment's Application is not this one's:\n%s", strings.Join(lines, "\n"))
	assert.Equal(t, "FAIL  application platform-development-crds: sync none yet, health none yet", lines[0])
	assert.Equal(t, "ok    application platform-development-infrastructure: Synced, Healthy", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "FAIL  application platform-development-loki: sync Unknown, health Unknown "+
		"(ComparisonError: Failed to load target state"), lines[2])
	assert.Less(t, len([]rune(lines[2])), 320, "the condition's message is shortened")
	assert.Equal(t, "FAIL  application platform-development-sample-service: sync Synced, health Progressing", lines[3])
}

func TestWhyAnApplicationIsNotHealthy(t *testing.T) {
	withStatus := func(app *unstructured.Unstructured, path []string, v any) *unstructured.Unstructured {
		require.NoError(t, unstructured.SetNestedField(app.Object, v, append([]string{"status"}, path...)...))
		return app
	}
	progressing := func() *unstructured.Unstructured {
		return application("platform-development-network", "platform-development", "Synced", "Progressing")
	}
	for _, tc := range []struct {
		name string
		app  *unstructured.Unstructured
		want string
	}{
		{"no reason given", withStatus(progressing(), []string{"operationState"},
			map[string]any{"phase": "Succeeded", "message": "successfully synced (all tasks run)"}),
			"sync Synced, health Progressing"},
		{"the health's message", withStatus(progressing(), []string{"health", "message"}, "waiting for rollout"),
			"sync Synced, health Progressing (waiting for rollout)"},
		{"an object's health", withStatus(progressing(), []string{"resources"}, []any{
			map[string]any{"kind": "SealedSecret", "namespace": "external-dns", "name": "external-dns-linode", "health": map[string]any{"status": "Healthy"}},
			map[string]any{"kind": "ClusterIssuer", "name": "letsencrypt-staging", "health": map[string]any{"status": "Progressing", "message": "Initializing ClusterIssuer"}},
		}), "sync Synced, health Progressing (ClusterIssuer letsencrypt-staging Progressing: Initializing ClusterIssuer)"},
		{"a failed sync", withStatus(application("platform-development-secrets", "platform-development", "OutOfSync", "Missing"),
			[]string{"operationState"}, map[string]any{"phase": "Failed", "message": "one or more objects failed to apply"}),
			"sync OutOfSync, health Missing (sync Failed: one or more objects failed to apply)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := judgeApplication(*tc.app)
			assert.False(t, got.ok)
			assert.Equal(t, tc.want, got.detail)
		})
	}
}

func TestNoRootApplicationFails(t *testing.T) {
	got := applicationsSmoke(application("platform-production-infrastructure", "platform-production", "Synced", "Healthy")).
		applications(context.Background())
	require.Len(t, got, 1)
	assert.False(t, got[0].ok)
	assert.Equal(t, "platform-development-infrastructure", got[0].target)
	assert.Contains(t, got[0].detail, "not found in namespace argocd: the stack's update creates it")
}

func TestDashboard(t *testing.T) {
	configMap := func(data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: observability.DashboardConfigMapName("development"), Namespace: "monitoring"},
			Data:       data,
		}
	}
	dashboardJSON, err := observability.DashboardJSON("development")
	require.NoError(t, err)
	other, err := json.Marshal(map[string]any{"title": "staging-overview"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		objs   []runtime.Object
		ok     bool
		detail string
	}{
		{"the program's dashboard", []runtime.Object{configMap(map[string]string{"development-overview.json": dashboardJSON})},
			true, `dashboard "development-overview"`},
		{"no ConfigMap", nil, false, `configmaps "env-development-overview-dashboard" not found`},
		{"no dashboard in it", []runtime.Object{configMap(nil)}, false, "no key development-overview.json"},
		{"another title", []runtime.Object{configMap(map[string]string{"development-overview.json": string(other)})},
			false, `the dashboard's title is "staging-overview", want "development-overview"`},
		{"not JSON", []runtime.Object{configMap(map[string]string{"development-overview.json": "{"})},
			false, "development-overview.json is not a dashboard's JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &smoke{env: "development", monitoringNamespace: "monitoring", kube: kubefake.NewClientset(tc.objs...)}
			got := s.dashboard(context.Background())
			require.Len(t, got, 1)
			assert.Equal(t, tc.ok, got[0].ok, got[0].String())
			assert.Equal(t, "ConfigMap monitoring/env-development-overview-dashboard", got[0].target)
			assert.Contains(t, got[0].detail, tc.detail)
		})
	}
}

// TestHealthzThroughTheIngressHost asks the Ingress's host over TLS, connecting to a local server standing in
// for the ingress controller (-connect-to) whose certificate is trusted through -ca.
func TestHealthzThroughTheIngressHost(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "example.com" || r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, "not ready:\nwaiting")
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	addr := strings.TrimPrefix(srv.URL, "https://")

	check := func(host, caFile string) result {
		t.Helper()
		ingress := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "sample-service", Namespace: "development-apps"},
			Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host}}},
		}
		client, err := healthzClient(caFile, addr)
		require.NoError(t, err)
		s := &smoke{namespace: "development-apps", kube: kubefake.NewClientset(ingress), http: client, connectTo: addr}
		got := s.healthz(context.Background())
		require.Len(t, got, 1)
		return got[0]
	}

	got := check("example.com", ca)
	assert.Equal(t, "ok    healthz     https://example.com/healthz (through "+addr+"): 200 OK", got.String())

	status = http.StatusServiceUnavailable
	got = check("example.com", ca)
	assert.False(t, got.ok)
	assert.Equal(t, "503 Service Unavailable, want 200 OK: not ready: waiting", got.detail)

	status = http.StatusOK
	got = check("example.com", "")
	assert.False(t, got.ok, "the test server's certificate is trusted only through -ca")
	assert.Contains(t, got.detail, "certificate")

	got = check("sample.development.example.org", ca)
	assert.False(t, got.ok, "a certificate for another host is refused")
	assert.Contains(t, got.detail, "sample.development.example.org")

	noIngress := &smoke{namespace: "development-apps", kube: kubefake.NewClientset()}
	got = noIngress.healthz(context.Background())[0]
	assert.Equal(t, `FAIL  healthz     Ingress development-apps/sample-service: ingresses.networking.k8s.io "sample-service" not found`, got.String())
}

func TestWaitChecksAgainWhatFailedUntilItPasses(t *testing.T) {
	calls := map[string]int{}
	stable := func(ctx context.Context) []result {
		calls["stable"]++
		return pass(checkDashboard, "ConfigMap monitoring/x", "ok")
	}
	slow := func(ctx context.Context) []result {
		calls["slow"]++
		if calls["slow"] < 3 {
			return fail(checkHealthz, "https://h/healthz", "503")
		}
		return pass(checkHealthz, "https://h/healthz", "200 OK")
	}
	var progress strings.Builder
	got := runChecks(context.Background(), []check{slow, stable}, time.Minute, time.Millisecond, &progress)
	assert.Equal(t, map[string]int{"slow": 3, "stable": 1}, calls, "only what failed is checked again")
	require.Len(t, got, 2)
	assert.True(t, got[0].ok && got[1].ok)
	assert.Equal(t, 2, strings.Count(progress.String(), "smoke: 1 failing (healthz https://h/healthz); checking again in 1ms"), progress.String())

	calls = map[string]int{}
	got = runChecks(context.Background(), []check{slow, stable}, 0, time.Millisecond, &progress)
	assert.Equal(t, map[string]int{"slow": 1, "stable": 1}, calls, "without -wait: one pass")
	assert.False(t, got[0].ok)
}
