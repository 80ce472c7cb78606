package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/observability"
	"github.com/platform-eng/lke-platform/components/sampleservice"
	"github.com/platform-eng/lke-platform/internal/names"
)

// The checks' names, the second column of the report.
const (
	checkHealthz     = "healthz"
	checkPrometheus  = "prometheus"
	checkApplication = "application"
	checkDashboard   = "dashboard"
)

// upMetric is the gauge cmd/sample-service exposes and its chart's alert watches.
const upMetric = names.SampleServiceUpMetric

// checkTimeout bounds one check's requests, so that one unreachable endpoint cannot stall the others.
const checkTimeout = 30 * time.Second

// applications is Argo CD's Application resource, read through the dynamic client: only a few status fields are
// needed, not Argo CD's types and their dependencies.
var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// smoke holds what the checks read: the environment and its namespaces, and the clients of the cluster, of the
// Ingress host and of Prometheus.
type smoke struct {
	env, namespace, monitoringNamespace, argoCDNamespace string

	kube          kubernetes.Interface
	dynamic       dynamic.Interface
	http          *http.Client
	connectTo     string // only said in the report: the client dials it
	prometheus    promv1.API
	prometheusURL string
}

// check is one of the four checks; it yields one result, or one per Application.
type check func(ctx context.Context) []result

func (s *smoke) checks() []check {
	return []check{s.healthz, s.prometheusUp, s.applications, s.dashboard}
}

// runChecks runs every check, then again those that failed, every interval until all pass or wait is over, and
// returns the last results of each in order. What still fails goes to progress between the rounds.
func runChecks(ctx context.Context, checks []check, wait, interval time.Duration, progress io.Writer) []result {
	results := make([][]result, len(checks))
	deadline := time.Now().Add(wait)
	for round := 0; ; round++ {
		for i, c := range checks {
			if round == 0 || failing(results[i]) != nil {
				cctx, cancel := context.WithTimeout(ctx, checkTimeout)
				results[i] = c(cctx)
				cancel()
			}
		}
		failed := failing(slices.Concat(results...))
		if failed == nil || ctx.Err() != nil || time.Now().Add(interval).After(deadline) {
			break
		}
		fmt.Fprintf(progress, "smoke: %d failing (%s); checking again in %s, until %s\n",
			len(failed), strings.Join(failed, ", "), interval, deadline.Format(time.TimeOnly))
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
	return slices.Concat(results...)
}

// failing names the results that failed ("application platform-development-loki"), nil when none did.
func failing(results []result) []string {
	var names []string
	for _, r := range results {
		if !r.ok {
			names = append(names, r.check+" "+r.target)
		}
	}
	return names
}

// healthz reads the sample service's Ingress and asks its host for /healthz over HTTPS, as a user would.
func (s *smoke) healthz(ctx context.Context) []result {
	ingress := "Ingress " + s.namespace + "/" + sampleservice.AppName
	ing, err := s.kube.NetworkingV1().Ingresses(s.namespace).Get(ctx, sampleservice.AppName, metav1.GetOptions{})
	if err != nil {
		return fail(checkHealthz, ingress, "%v", err)
	}
	host := ""
	for _, rule := range ing.Spec.Rules {
		if rule.Host != "" {
			host = rule.Host
			break
		}
	}
	if host == "" {
		return fail(checkHealthz, ingress, "no rule names a host")
	}
	target := "https://" + host + "/healthz"
	if s.connectTo != "" {
		target += " (through " + s.connectTo + ")"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/healthz", nil)
	if err != nil {
		return fail(checkHealthz, target, "%v", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is in the line already
		}
		return fail(checkHealthz, target, "%v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fail(checkHealthz, target, "%s, want 200 OK: %s", resp.Status, shorten(string(body)))
	}
	return pass(checkHealthz, target, "%s", resp.Status)
}

// upQuery is the Prometheus query of the sample service's gauge in its namespace.
func upQuery(namespace string) string { return fmt.Sprintf("%s{namespace=%q}", upMetric, namespace) }

// prometheusUp asks Prometheus for the sample service's gauge.
func (s *smoke) prometheusUp(ctx context.Context) []result {
	q := upQuery(s.namespace)
	v, _, _, err := s.prometheus.Query(ctx, q, time.Now())
	if err != nil {
		return fail(checkPrometheus, q, "querying %s: %v", s.prometheusURL, err)
	}
	return []result{judgeUp(q, v)}
}

// judgeUp passes when at least one series of the gauge is 1: Prometheus scrapes a running instance.
func judgeUp(q string, v model.Value) result {
	vector, ok := v.(model.Vector)
	if !ok {
		return result{check: checkPrometheus, target: q, detail: fmt.Sprintf("the answer is a %v, not an instant vector", v.Type())}
	}
	if len(vector) == 0 {
		return result{check: checkPrometheus, target: q, detail: "no series: Prometheus scrapes no instance of the sample " +
			"service (its ServiceMonitor; Prometheus' /targets)"}
	}
	up := 0
	for _, sample := range vector {
		if sample.Value == 1 {
			up++
		}
	}
	if up == 0 {
		return result{check: checkPrometheus, target: q, detail: fmt.Sprintf("%d series, none at 1", len(vector))}
	}
	return result{check: checkPrometheus, target: q, ok: true, detail: fmt.Sprintf("%d of %d series at 1", up, len(vector))}
}

// applications reads every Application of the environment's Argo CD project: each must be Synced and Healthy,
// and the root Application, which holds the others, must be among them.
func (s *smoke) applications(ctx context.Context) []result {
	list, err := s.dynamic.Resource(applications).Namespace(s.argoCDNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fail(checkApplication, "Applications in namespace "+s.argoCDNamespace, "%v", err)
	}
	project, root := gitops.ProjectName(s.env), gitops.RootName(s.env)
	var out []result
	found := false
	for _, app := range list.Items {
		if p, _, _ := unstructured.NestedString(app.Object, "spec", "project"); p != project {
			continue
		}
		found = found || app.GetName() == root
		out = append(out, judgeApplication(app))
	}
	slices.SortFunc(out, func(a, b result) int { return strings.Compare(a.target, b.target) })
	if !found {
		out = append(fail(checkApplication, root, "not found in namespace %s: the stack's update creates it "+
			"(is this the environment's cluster, and did the update succeed?)", s.argoCDNamespace), out...)
	}
	return out
}

// judgeApplication passes a Synced and Healthy Application; otherwise it says both statuses and why.
func judgeApplication(app unstructured.Unstructured) result {
	status := func(path ...string) string {
		v, _, _ := unstructured.NestedString(app.Object, append([]string{"status"}, path...)...)
		if v == "" {
			return "none yet"
		}
		return v
	}
	sync, health := status("sync", "status"), status("health", "status")
	if sync == "Synced" && health == "Healthy" {
		return result{check: checkApplication, target: app.GetName(), ok: true, detail: "Synced, Healthy"}
	}
	detail := fmt.Sprintf("sync %s, health %s", sync, health)
	if why := applicationReason(app); why != "" {
		detail += " (" + why + ")"
	}
	return result{check: checkApplication, target: app.GetName(), detail: detail}
}

// applicationReason is the first thing Argo CD says about what is wrong with an Application: its first condition
// (an error comparing or rendering it), else its health's message, else the first object that is not Healthy
// (where Argo CD keeps each object's health in the Application: not by default since v3), else a failed
// operation's message.
func applicationReason(app unstructured.Unstructured) string {
	conditions, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	if len(conditions) > 0 {
		if c, ok := conditions[0].(map[string]any); ok {
			return shorten(fmt.Sprintf("%v: %v", c["type"], c["message"]))
		}
	}
	if m, _, _ := unstructured.NestedString(app.Object, "status", "health", "message"); m != "" {
		return shorten(m)
	}
	resources, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	for _, r := range resources {
		obj, _ := r.(map[string]any)
		health, _, _ := unstructured.NestedString(obj, "health", "status")
		if health == "" || health == "Healthy" {
			continue
		}
		message, _, _ := unstructured.NestedString(obj, "health", "message")
		kind, _, _ := unstructured.NestedString(obj, "kind")
		name, _, _ := unstructured.NestedString(obj, "name")
		if ns, _, _ := unstructured.NestedString(obj, "namespace"); ns != "" {
			name = ns + "/" + name
		}
		return shorten(strings.TrimSuffix(fmt.Sprintf("%s %s %s: %s", kind, name, health, message), ": "))
	}
	if phase, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase"); phase == "Failed" || phase == "Error" {
		m, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "message")
		return shorten("sync " + phase + ": " + m)
	}
	return ""
}

// dashboard reads the ConfigMap Grafana's sidecar loads the environment's overview dashboard from.
func (s *smoke) dashboard(ctx context.Context) []result {
	name := observability.DashboardConfigMapName(s.env)
	target := "ConfigMap " + s.monitoringNamespace + "/" + name
	cm, err := s.kube.CoreV1().ConfigMaps(s.monitoringNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fail(checkDashboard, target, "%v", err)
	}
	key := observability.DashboardFile(s.env)
	raw, ok := cm.Data[key]
	if !ok {
		return fail(checkDashboard, target, "no key %s", key)
	}
	var d struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return fail(checkDashboard, target, "%s is not a dashboard's JSON: %v", key, err)
	}
	if want := observability.DashboardTitle(s.env); d.Title != want {
		return fail(checkDashboard, target, "the dashboard's title is %q, want %q", d.Title, want)
	}
	return pass(checkDashboard, target, "dashboard %q", d.Title)
}
