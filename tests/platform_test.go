//go:build integration

package tests

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sealedcrypto "github.com/bitnami/sealed-secrets/pkg/crypto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/rollback"
)

// sampleDeployment is the sample service's Deployment, in the environment's first namespace.
const sampleDeployment = "sample-service"

// TestPlatformDeploysEndToEnd deploys one environment's whole platform onto the local control plane twice, in
// the same run: first the rendered YAML with kubectl apply, then the program with pulumi up, each timed until
// every workload it applied is ready; with pulumi up, Argo CD (run as local processes against the same control
// plane, the repository served on loopback) then deploys the sample service from its chart, timed from the
// up's start to the Deployment being Available (the spec allows 5 minutes). Then the admission
// policies must refuse what bypasses Pulumi. The operations run on the deployed stack: drift detection (whose
// first, clean refresh preview is this stack's no-drift check), the rollback drill (which ends on a preview with
// no changes), the audit event, an access package, the smoke check the deploy workflow runs after each up
// (cmd/smoke). Last, the state and outputs must hold no secret in plain text, the sealed bundle must open with
// the controller's key, and destroy must leave nothing behind. The empty preview, empty up and refresh of
// ProgramTest's lifecycle are TestEnvironmentLifecycle's.
func TestPlatformDeploysEndToEnd(t *testing.T) {
	needsCluster(t)
	parallelCriticalPath(t)
	const env = "development"
	ns := env + "-apps"
	dir := renderedCluster(t, env)

	// The baseline, kubectl apply of the same objects, runs on a control plane of its own, thrown away after: on
	// the shared one, deleting the CRDs afterwards left kube-controller-manager's quota controller stuck (the
	// metadata informers of the deleted kinds never sync again), and no ResourceQuota created later on that
	// control plane got its status, so every later test's quota timed out.
	baseline := startControlPlane(t, "lke-platform-e2e-kubectl")
	kubectlAll := applyRendered(t, baseline.kubeconfig, dir)
	baseline.stop()

	// Argo CD's loop for the shared control plane, serving this working tree's charts: the sample service
	// reaches the cluster the way it does on LKE, through its Application. The controller starts once the
	// bootstrap has put Argo CD's settings in place, as its pod would.
	loop := startGitOpsLoop(t, kubeconfig)
	c := newCLI(t, "")
	stack := "e2e-" + env
	c.platformStack(stack, env, kubeconfig)
	c.must("config", "set", "-s", stack, "gitopsRepoUrl", loop.repoURL)
	c.must("config", "set", "-s", stack, "gitopsRevision", gitRevision)
	setAccessPackages(c, stack, accessPackageConfig())
	controller := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	go func() { controller <- loop.argo.StartController(ctx) }()
	// Timed, not asserted: on a loaded machine the same up takes several times longer. The figure says how it
	// compares with the spec's 5 minutes; the watch's own limit only catches a Deployment that never comes up.
	start := time.Now()
	available := watchAvailable(ns, sampleDeployment, start, 30*time.Minute)
	trace := filepath.Join(t.TempDir(), "up-trace.json")
	out := c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack, "--otel-traces", "file://"+trace)
	upTotal := time.Since(start)
	require.NoError(t, <-controller, "starting Argo CD's application controller")
	upTime := <-available
	require.NotZero(t, upTime, "the sample Deployment did not become Available through Argo CD:\n%s\n%s", out, loop.argo.Logs())
	within := "within"
	if upTime > 5*time.Minute {
		within = "over"
	}
	figure(t, "sample Deployment Available through Argo CD after pulumi up start: %.1f s (%s the spec's 300 s)", upTime.Seconds(), within)
	figure(t, "pulumi up of the development stack: %.1f s (its first resource registered after %.1f s); kubectl apply of the same objects until every workload is ready: %.1f s; ratio %.2f",
		upTotal.Seconds(), firstRegistration(t, trace), kubectlAll.Seconds(), upTotal.Seconds()/kubectlAll.Seconds())

	t.Run("admission policies refuse what bypasses Pulumi", func(t *testing.T) { checkAdmission(t, env) })

	// Operations on the deployed stack (issue 5): drift found and restored, the rollback drill, the audit event
	// of the latest update (the drill's rollback), an access package issued and used.
	t.Run("drift", func(t *testing.T) { checkDrift(t, c, stack, env) })
	t.Run("rollback drill", func(t *testing.T) { rollbackDrill(t, c, stack, ns) })
	t.Run("audit", func(t *testing.T) { checkAudit(t, c, stack, env) })
	t.Run("access package", func(t *testing.T) { checkAccess(t, c, stack, env) })
	// What the deploy workflow runs after each up (cmd/smoke), against the deployed environment.
	t.Run("smoke", func(t *testing.T) { checkSmoke(t, env, ns) })

	// No secret in plain text: not in the exported state, not in the outputs, not in any file of the backend.
	export := c.must("stack", "export", "-s", stack)
	state := c.stateSize(stack)
	figure(t, "state of the deployed development stack: %.2f MB, %d resources (%d of them CRDs)",
		state.megabytes(), state.resources, state.crds)
	outputs := c.must("stack", "output", "-s", stack, "--json")
	for _, secret := range plaintexts {
		assert.NotContains(t, export, secret)
		assert.NotContains(t, outputs, secret)
	}
	backend := c.backend()
	require.NoError(t, filepath.WalkDir(backend, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, secret := range plaintexts {
			assert.NotContains(t, string(b), secret, "%s holds a secret in plain text", path)
		}
		return err
	}))

	// What reached the cluster is sealed for the controller's key, for exactly that namespace and name.
	var sealed struct {
		Spec struct {
			EncryptedData map[string]string `json:"encryptedData"`
		} `json:"spec"`
	}
	// Argo CD applies it (the secrets folder), once the CRDs Application has installed its type.
	var raw []byte
	var err error
	applied := assert.Eventually(t, func() bool {
		raw, err = kubectl(t, "get", "sealedsecret", "sample-service", "-n", ns, "-o", "json")
		return err == nil
	}, 5*time.Minute, 2*time.Second)
	if !applied { // the last error and Argo CD's logs as they are now, not as they were when the wait began
		t.Fatalf("Argo CD did not apply the sealed secret: %v\n%s", err, loop.argo.Logs())
	}
	require.NoError(t, json.Unmarshal(raw, &sealed))
	assert.Equal(t, "plaintextBundleToken9Kz-Fw6tB2sL9qVc", unseal(t, ns, "sample-service", sealed.Spec.EncryptedData["token"]))
	// The add-ons' CRDs were on the shared control plane before the test (installCRDs); the CRDs Application
	// applies the same ones over them and finds nothing left to do.
	appWatcher{t: t, kubeconfig: kubeconfig, argo: loop.argo}.await(gitops.CRDsName(env), "Synced")

	c.must("destroy", "-s", stack, "--yes")
	assertNothingLeft(t, env, export)
}

// rollbackDrill is the quarterly rollback drill (spec section 6; docs/runbooks/rollback.md) on the deployed
// stack: version N runs the sample service's default image, N+1 a new one; cmd/rollback sets the stack's
// configuration back to N's from its history, and an up brings the cluster back to N with nothing left to do.
func rollbackDrill(t *testing.T, c *cli, stack, ns string) {
	image := func() string {
		out, err := kubectl(t, "get", "deployment", sampleDeployment, "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
		require.NoError(t, err)
		return string(out)
	}
	// Argo CD applies the Application's new values moments after the up that changed them.
	awaitImage := func(want, why string) {
		require.Eventually(t, func() bool { return image() == want }, 2*time.Minute, time.Second, "%s: the Deployment runs %s", why, image())
	}
	versionN := lastUpdate(t, c, stack)
	imageN := image()

	const imageN1 = "ghcr.io/platform-eng/sample-service:0.1.1"
	c.must("config", "set", "-s", stack, "--plaintext", "sampleServiceImage", imageN1)
	c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	awaitImage(imageN1, "version N+1 is deployed")

	rollbackCmd := buildCommand(t, "rollback")
	runRollback := func(args ...string) string {
		cmd := exec.Command(rollbackCmd, append([]string{"-stack", stack}, args...)...)
		cmd.Dir, cmd.Env = c.dir, c.environ()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	listing := runRollback("-list")
	assert.Regexp(t, fmt.Sprintf(`(?m)^ *%d  \S+  update +succeeded`, versionN), listing)
	plan := runRollback("-to", fmt.Sprint(versionN))
	// The history records the value version N ran with (the default, from Pulumi.yaml).
	assert.Contains(t, plan, `lke-platform:sampleServiceImage = "`+imageN+`"`)
	for _, secret := range plaintexts {
		assert.NotContains(t, plan, secret)
	}
	c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
	awaitImage(imageN, "version N is back")
	c.must("preview", "-s", stack, "--expect-no-changes", "--policy-pack", policyPack)
	assert.Contains(t, runRollback("-to", fmt.Sprint(versionN), "-dry-run"), "already has the configuration of version")
}

// lastUpdate is the version of the stack's latest update that succeeded, numbered as cmd/rollback numbers it.
func lastUpdate(t *testing.T, c *cli, stack string) int {
	var history []rollback.Update
	require.NoError(t, json.Unmarshal([]byte(c.stdout("stack", "history", "-s", stack, "--json")), &history))
	rollback.Number(history)
	for _, h := range history {
		if h.Kind == "update" && h.Result == "succeeded" {
			return h.Version
		}
	}
	require.FailNow(t, "no update in the stack's history")
	return 0
}

// applyRendered applies the rendered objects as a GitOps tool would (CRDs, then namespaces, then the rest,
// server-side with strict field validation, so an unknown field is an error) and waits for every workload to be
// ready, as pulumi up does. It returns the time from the first apply to then.
func applyRendered(t *testing.T, kubeconfigPath, dir string) time.Duration {
	t.Helper()
	kubectl := func(args ...string) ([]byte, error) { return kubectlOn(kubeconfigPath, args...) }
	start := time.Now()
	apply := func(paths ...string) {
		args := []string{"apply", "--server-side", "--validate=strict"}
		for _, p := range paths {
			args = append(args, "-f", p)
		}
		_, err := kubectl(args...)
		require.NoError(t, err)
	}
	crds := filepath.Join(dir, "0-crd")
	apply(crds)
	waitEstablished(t, kubeconfigPath, "-f", crds)
	namespaces, err := filepath.Glob(filepath.Join(dir, "1-manifest", "v1-namespace-*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, namespaces)
	apply(namespaces...)
	apply(filepath.Join(dir, "1-manifest"))
	// What pulumi up waits for before it ends: every rendered Deployment and StatefulSet rolled out.
	for _, o := range readObjects(t, filepath.Join(dir, "1-manifest")) {
		if o.Kind() == "Deployment" || o.Kind() == "StatefulSet" {
			_, err = kubectl("rollout", "status", "--timeout=300s", "-n", o.Namespace(), strings.ToLower(o.Kind())+"/"+o.Name())
			require.NoError(t, err)
		}
	}
	return time.Since(start)
}

// waitEstablished waits until the CRDs (kubectl's object arguments) are Established. kubectl wait fails at once,
// instead of waiting, on a CRD whose status has no conditions yet (".status.conditions accessor error"), which is
// how a CRD looks for a moment after it is created: that is retried too.
func waitEstablished(t *testing.T, kubeconfigPath string, objects ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := kubectlOn(kubeconfigPath, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, objects...)...)
		return err == nil
	}, 2*time.Minute, time.Second, "CRDs %v not Established", objects)
}

// watchAvailable polls the Deployment until its Available condition is True and sends the time since start,
// or zero after limit.
func watchAvailable(ns, name string, start time.Time, limit time.Duration) <-chan time.Duration {
	done := make(chan time.Duration, 1)
	go func() {
		for time.Since(start) < limit {
			out, _ := exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "deployment", name, "-n", ns,
				"-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`).Output()
			if strings.TrimSpace(string(out)) == "True" {
				done <- time.Since(start)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		done <- 0
	}()
	return done
}

// unseal opens one value of a SealedSecret with the test controller's private key, as the controller would.
func unseal(t *testing.T, namespace, name, value string) string {
	t.Helper()
	ciphertext, err := base64.StdEncoding.DecodeString(value)
	require.NoError(t, err)
	fp, err := sealedcrypto.PublicKeyFingerprint(&sealingKey.PublicKey)
	require.NoError(t, err)
	// Strict scope: the label is "<namespace>/<name>"; another namespace or name cannot open it.
	plain, err := sealedcrypto.HybridDecrypt(rand.Reader, map[string]*rsa.PrivateKey{fp: sealingKey}, ciphertext, []byte(namespace+"/"+name))
	require.NoError(t, err)
	return string(plain)
}

// assertNothingLeft checks that no object of the environment remains on the control plane: none of the objects
// the stack's state held before the destroy (export is `pulumi stack export`: other tests share the control plane
// and may label objects of their own with the same environment), and no namespaced object Argo CD applied (they
// go with their namespaces). The add-ons' CRDs are kept on purpose (they are shared by the cluster's
// environments and deleting one deletes every object of its kind, docs/decisions.md), and exist only where Argo
// CD has installed them: a kind the server does not know has no object left either. Cluster-scoped objects Argo
// CD applied (the ClusterIssuer, a chart's ClusterRoles) stay after a destroy, by decision 48.
func assertNothingLeft(t *testing.T, env, export string) {
	t.Helper()
	var state struct {
		Deployment struct {
			Resources []struct {
				Type           string `json:"type"`
				RetainOnDelete bool   `json:"retainOnDelete"` // Argo CD's CRDs: shared by the environments, kept
				Outputs        struct {
					Metadata struct {
						Name      string `json:"name"`
						Namespace string `json:"namespace"`
					} `json:"metadata"`
				} `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	require.NoError(t, json.Unmarshal([]byte(export), &state))
	checked := 0
	for _, r := range state.Deployment.Resources {
		// "kubernetes:<group>/<version>:<Kind>" ("core/v1" for the core group), as kubectl's Kind.version.group.
		parts := strings.Split(r.Type, ":")
		if len(parts) != 3 || parts[0] != "kubernetes" || r.Outputs.Metadata.Name == "" || r.RetainOnDelete {
			continue
		}
		group, version, _ := strings.Cut(parts[1], "/")
		resource := parts[2] + "." + version + "." + group
		if group == "core" {
			resource = parts[2]
		}
		args := []string{"get", resource, r.Outputs.Metadata.Name, "--ignore-not-found", "-o", "name"}
		if ns := r.Outputs.Metadata.Namespace; ns != "" {
			args = append(args, "-n", ns)
		}
		out, err := kubectl(t, args...)
		if err != nil && strings.Contains(err.Error(), "the server doesn't have a resource type") {
			continue // its CRD is gone too
		}
		require.NoError(t, err)
		assert.Empty(t, strings.TrimSpace(string(out)), "%s %s/%s of %s left after destroy", r.Type, r.Outputs.Metadata.Namespace, r.Outputs.Metadata.Name, env)
		checked++
	}
	require.Greater(t, checked, 50, "the exported state lists the stack's objects")
	selector := "platform.lke/environment=" + env
	for _, kind := range []string{"applications.argoproj.io", "appprojects.argoproj.io", "prometheusrules.monitoring.coreos.com",
		"servicemonitors.monitoring.coreos.com", "sealedsecrets.bitnami.com"} {
		out, err := kubectl(t, "get", kind, "--all-namespaces", "-l", selector, "-o", "name")
		if err != nil && strings.Contains(err.Error(), "the server doesn't have a resource type") {
			continue
		}
		require.NoError(t, err, string(out))
		assert.Empty(t, strings.TrimSpace(string(out)), "%s left after destroy", kind)
	}
	out, err := kubectl(t, "get", "clusterroles,clusterrolebindings", "-o", "name")
	require.NoError(t, err)
	assert.NotContains(t, string(out), "platform-"+env+"-", "cluster roles of %s left after destroy", env)
}
