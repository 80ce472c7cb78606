//go:build integration

package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/sampleservice"
	"github.com/platform-eng/lke-platform/internal/vendorcharts"
	"github.com/platform-eng/lke-platform/monitoring"
)

// checkSmoke runs cmd/smoke against the environment TestPlatformDeploysEndToEnd deployed, as the deploy workflow
// does after each up. On the local control plane no pod runs (kwok), so what would answer is stood in for by real
// processes: the sample service's own binary, behind a TLS reverse proxy standing in for the ingress controller
// (the Ingress's host only, a certificate of its own trusted through -ca, reached through -connect-to), and a
// real Prometheus scraping it as its ServiceMonitor says. The Applications and the dashboard's ConfigMap are the
// ones Argo CD applied, and the test writes the status the controllers that do not run here would write on their
// objects (standInForControllers), so that Argo CD assesses their health as on LKE. Every add-on chart is vendored
// (internal/vendorcharts) and synced from this repository; on the local control plane their admission webhooks
// are off (config.Environment.LocalControlPlane). One Application cannot turn Healthy here, and exactly that one
// must fail, every other line pass: the one holding the ClusterIssuer, which is Ready only once cert-manager has
// registered its account with Let's Encrypt (and which the test cannot mark Ready in cert-manager's place: its
// admission webhook, which does not run here, must admit every write to it).
func checkSmoke(t *testing.T, env, ns string) {
	dir := t.TempDir()

	// The sample service, built as CI builds it.
	svcAddr, _ := startSampleService(t, dir)
	waitHTTP(t, "http://"+svcAddr+"/healthz", 30*time.Second)

	// The ingress controller, for the host the Ingress Argo CD applied names.
	out, err := kubectl(t, "get", "ingress", sampleservice.AppName, "-n", ns, "-o", "jsonpath={.spec.rules[0].host}")
	require.NoError(t, err)
	host := strings.TrimSpace(string(out))
	require.NotEmpty(t, host, "the sample service's Ingress names no host")
	ingress := startIngressStandIn(t, dir, host, "http://"+svcAddr)

	// Prometheus, scraping the service with the ServiceMonitor's endpoint and the labels the operator's
	// relabelling gives its series.
	var sm struct {
		Spec struct {
			Endpoints []monitoring.Endpoint `json:"endpoints"`
		} `json:"spec"`
	}
	out, err = kubectl(t, "get", "servicemonitor", sampleservice.AppName, "-n", ns, "-o", "json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(out, &sm))
	require.Len(t, sm.Spec.Endpoints, 1)
	cfg, err := monitoring.PrometheusConfig{ScrapeConfigs: []monitoring.ScrapeJob{monitoring.ScrapeConfig(sampleDeployment,
		sm.Spec.Endpoints[0], []string{svcAddr}, map[string]string{"namespace": ns, "service": sampleDeployment})}}.YAML()
	require.NoError(t, err)
	promFile := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(promFile, cfg, 0o644))
	promAddr := freeAddr(t)
	start(t, exec.Command("prometheus", "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr))
	waitHTTP(t, "http://"+promAddr+"/-/ready", 60*time.Second)
	// The first scrape comes within the endpoint's interval; -wait would wait for it too, but the Applications
	// that never pass here would keep it waiting to the end.
	require.Eventually(t, func() bool { return query(t, promAddr, `sample_service_up{namespace="`+ns+`"}`) == "1" },
		2*time.Minute, time.Second, "Prometheus never scraped sample_service_up = 1")

	smoke := buildCommand(t, "smoke")
	runSmoke := func() (int, string) {
		cmd := exec.Command(smoke, "-environment", env, "-kubeconfig", kubeconfig, "-namespace", ns,
			"-prometheus", "http://"+promAddr, "-connect-to", ingress.addr, "-ca", ingress.caFile)
		cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=true")
		return exitCode(t, cmd)
	}

	// The environment's Applications, and the one that must fail: the one with the ClusterIssuer.
	applications := environmentApplications(t, env)
	var apps, unhealthy []string
	for _, a := range applications {
		apps = append(apps, a.Metadata.Name)
		if slices.ContainsFunc(a.objects(), func(o string) bool { return strings.HasPrefix(o, "ClusterIssuer ") }) {
			unhealthy = append(unhealthy, a.Metadata.Name)
		}
	}
	require.Contains(t, apps, gitops.RootName(env))
	for _, c := range vendorcharts.All {
		if c.Name != "tempo" { // development goes without tracing
			require.Contains(t, apps, gitops.ApplicationName(env, c.Name), "every add-on chart has its Application")
		}
	}
	require.Len(t, unhealthy, 1, "one Application holds the ClusterIssuer")
	// Argo CD may still be converging on the others (-wait cannot be used: the ClusterIssuer's never passes), and
	// the controllers' stand-ins write on what it has applied so far, again on each round.
	var code int
	var report string
	converged := false
	for deadline := time.Now().Add(5 * time.Minute); !converged && time.Now().Before(deadline); {
		standInForControllers(t, environmentApplications(t, env), "127.0.0.1")
		code, report = runSmoke()
		if converged = slices.Equal(failedApplications(report), unhealthy); !converged {
			time.Sleep(5 * time.Second)
		}
	}
	assert.True(t, converged, "the failing Applications are not exactly %v", unhealthy)
	t.Logf("cmd/smoke:\n%s", report)
	if !converged {
		var held []string
		for _, a := range environmentApplications(t, env) {
			held = append(held, a.Metadata.Name+": "+strings.Join(a.objects(), ", "))
		}
		t.Fatalf("what each Application holds:\n%s", strings.Join(held, "\n"))
	}
	assert.Equal(t, 2, code, "a check failed: exit 2")
	lines := reportLines(report)
	for _, check := range []string{"healthz", "prometheus", "dashboard"} {
		assert.Regexp(t, `(?m)^ok +`+check+` `, report)
	}
	assert.Contains(t, report, "ok    healthz     https://"+host+"/healthz (through "+ingress.addr+"): 200 OK")
	for _, app := range apps {
		want := "ok   "
		if slices.Contains(unhealthy, app) {
			want = "FAIL "
		}
		assert.Contains(t, lines, want+" application "+app, "every Application of the environment has its line")
	}
	failures := 0
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "FAIL") {
			failures++
		}
	}
	assert.Equal(t, len(unhealthy), failures, "nothing else fails")
	assert.Equal(t, len(unhealthy), strings.Count(report, "::error title=smoke "+env+"%3A application::"),
		"one workflow annotation per failure")

	// Another host's requests are not the sample service's: with the Ingress's host unknown to the ingress
	// controller, the healthz line fails.
	ingress.host.Store("another." + host)
	code, report = runSmoke()
	assert.Equal(t, 2, code)
	assert.Contains(t, report, "FAIL  healthz     https://"+host+"/healthz (through "+ingress.addr+"): 404 Not Found, want 200 OK")
}

// application is an Argo CD Application as the test reads it: its name and the objects it holds.
type application struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		Resources []struct {
			Group     string `json:"group"`
			Kind      string `json:"kind"`
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"resources"`
	} `json:"status"`
}

// objects are the Application's objects, "Kind namespace/name".
func (a application) objects() []string {
	var out []string
	for _, r := range a.Status.Resources {
		out = append(out, r.Kind+" "+r.Namespace+"/"+r.Name)
	}
	return out
}

// environmentApplications are the Applications of the environment's Argo CD project.
func environmentApplications(t *testing.T, env string) []application {
	t.Helper()
	out, err := kubectl(t, "get", "applications", "-n", argoCDNamespace, "-o", "json")
	require.NoError(t, err)
	var list struct {
		Items []struct {
			application
			Spec struct {
				Project string `json:"project"`
			} `json:"spec"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	var apps []application
	for _, a := range list.Items {
		if a.Spec.Project == gitops.ProjectName(env) {
			apps = append(apps, a.application)
		}
	}
	return apps
}

// standInForControllers writes on the Applications' objects the status their controllers, which do not run on
// the local control plane, would write, and which Argo CD's health checks read: the Sealed Secrets controller's
// Synced on each SealedSecret (once every value of it opens with the controller's key, as the controller would
// open it), the ingress controller's address on each Ingress (ingressIP, where the test's stand-in listens), the
// cloud controller's on each Service of type LoadBalancer (the ingress controller's, a NodeBalancer on LKE), the
// Prometheus operator's Available on each Prometheus, and, as LKE's volume provisioner, a volume bound to each
// pending claim of a StatefulSet (Loki's), so that its pod is scheduled. Idempotent: it runs on every round.
func standInForControllers(t *testing.T, apps []application, ingressIP string) {
	t.Helper()
	now := time.Now().UTC().Format(time.RFC3339)
	synced := map[string]any{"type": "Synced", "status": "True", "reason": "StandIn",
		"message": "written by the test in the controller's place", "lastTransitionTime": now}
	// ifApplied runs kubectl on an object the Application lists. It may not be applied yet (its sync is still
	// under way): then ifApplied reports false, and the next round sees to it.
	ifApplied := func(args ...string) ([]byte, bool) {
		t.Helper()
		out, err := kubectl(t, args...)
		if err != nil && strings.Contains(err.Error()+string(out), "NotFound") {
			return nil, false
		}
		require.NoError(t, err, string(out))
		return out, true
	}
	patchStatus := func(resource, namespace, name string, status map[string]any) {
		t.Helper()
		args := []string{"patch", resource, name, "--subresource=status", "--type=merge", "-p", string(mustJSON(t, map[string]any{"status": status}))}
		if namespace != "" {
			args = append(args, "-n", namespace)
		}
		ifApplied(args...)
	}
	for _, a := range apps {
		for _, r := range a.Status.Resources {
			switch r.Group + "/" + r.Kind {
			case "bitnami.com/SealedSecret":
				var sealed struct {
					Spec struct {
						EncryptedData map[string]string `json:"encryptedData"`
					} `json:"spec"`
				}
				out, ok := ifApplied("get", "sealedsecret.bitnami.com", r.Name, "-n", r.Namespace, "-o", "json")
				if !ok {
					continue
				}
				require.NoError(t, json.Unmarshal(out, &sealed))
				for _, v := range sealed.Spec.EncryptedData {
					unseal(t, r.Namespace, r.Name, v)
				}
				patchStatus("sealedsecret.bitnami.com", r.Namespace, r.Name, map[string]any{"conditions": []any{synced}})
			case "networking.k8s.io/Ingress":
				patchStatus("ingress.networking.k8s.io", r.Namespace, r.Name,
					map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": ingressIP}}}})
			case "/Service":
				if out, ok := ifApplied("get", "service", r.Name, "-n", r.Namespace, "-o", "jsonpath={.spec.type}"); ok && string(out) == "LoadBalancer" {
					patchStatus("service", r.Namespace, r.Name,
						map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": ingressIP}}}})
				}
			case "monitoring.coreos.com/Prometheus":
				available := maps.Clone(synced)
				available["type"] = "Available"
				patchStatus("prometheus.monitoring.coreos.com", r.Namespace, r.Name, map[string]any{
					"availableReplicas": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 0, "paused": false,
					"conditions": []any{available},
				})
			case "apps/StatefulSet":
				if _, ok := ifApplied("get", "statefulset", r.Name, "-n", r.Namespace, "-o", "name"); ok {
					provisionClaims(t, r.Namespace, r.Name)
				}
			}
		}
	}
}

// provisionClaims binds a volume to each pending claim of the StatefulSet's pods, as LKE's block storage
// provisioner would: the local control plane has none, and a pod whose claim is unbound is never scheduled.
func provisionClaims(t *testing.T, namespace, statefulSet string) {
	t.Helper()
	out, err := kubectl(t, "get", "statefulset", statefulSet, "-n", namespace, "-o", "json")
	require.NoError(t, err, string(out))
	var sts struct {
		Spec struct {
			VolumeClaimTemplates []struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"volumeClaimTemplates"`
		} `json:"spec"`
	}
	require.NoError(t, json.Unmarshal(out, &sts))
	if len(sts.Spec.VolumeClaimTemplates) == 0 {
		return
	}
	out, err = kubectl(t, "get", "pvc", "-n", namespace, "-o", "json")
	require.NoError(t, err, string(out))
	var claims struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				AccessModes []string `json:"accessModes"`
				Resources   struct {
					Requests map[string]string `json:"requests"`
				} `json:"resources"`
			} `json:"spec"`
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(out, &claims))
	for _, c := range claims.Items {
		ours := slices.ContainsFunc(sts.Spec.VolumeClaimTemplates, func(v struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}) bool {
			return strings.HasPrefix(c.Metadata.Name, v.Metadata.Name+"-"+statefulSet+"-")
		})
		if !ours || c.Status.Phase != "Pending" {
			continue
		}
		pv := map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": "stand-in-" + namespace + "-" + c.Metadata.Name},
			"spec": map[string]any{
				"capacity":                      map[string]any{"storage": c.Spec.Resources.Requests["storage"]},
				"accessModes":                   c.Spec.AccessModes,
				"persistentVolumeReclaimPolicy": "Retain",
				"storageClassName":              "",
				"hostPath":                      map[string]any{"path": "/var/lib/stand-in/" + namespace + "/" + c.Metadata.Name},
				"claimRef":                      map[string]any{"namespace": namespace, "name": c.Metadata.Name},
			},
		}
		name := "stand-in-" + namespace + "-" + c.Metadata.Name
		out, err := kubectlInputOn(kubeconfig, mustJSON(t, pv), "apply", "-f", "-")
		require.NoError(t, err, out)
		if strings.Contains(out, "created") {
			t.Cleanup(func() { _, _ = kubectl(t, "delete", "pv", name, "--wait=false") })
		}
	}
}

// failedApplications are the Applications a report fails, sorted.
func failedApplications(report string) []string {
	var apps []string
	for _, m := range regexp.MustCompile(`(?m)^FAIL  application (\S+):`).FindAllStringSubmatch(report, -1) {
		apps = append(apps, m[1])
	}
	slices.Sort(apps)
	return apps
}

// reportLines are each line of a report up to its target: "ok    application platform-development-crds".
func reportLines(report string) []string {
	var lines []string
	for _, l := range strings.Split(report, "\n") {
		if head, _, ok := strings.Cut(l, ":"); ok && (strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "FAIL ")) {
			lines = append(lines, head)
		}
	}
	return lines
}

// ingressStandIn is a TLS reverse proxy in place of the ingress controller: it serves the host it is given with
// a certificate of its own (caFile, for cmd/smoke's -ca) and proxies its requests to the backend, and answers
// 404 for any other host, as ingress-nginx's default backend does.
type ingressStandIn struct {
	addr, caFile string
	host         *atomic.Value // the host it serves; a test may change it
}

func startIngressStandIn(t *testing.T, dir, host, backend string) ingressStandIn {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		// Its own root: cmd/smoke trusts it through -ca, as it would Let's Encrypt staging's.
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	caFile := filepath.Join(dir, "ingress-ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))

	target, err := url.Parse(backend)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	served := &atomic.Value{}
	served.Store(host)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			name = h
		}
		if name != served.Load().(string) {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return ingressStandIn{addr: srv.Listener.Addr().String(), caFile: caFile, host: served}
}
