//go:build integration

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/platform-eng/lke-platform/audit/audittest"
	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/sampleservice"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/localargocd"
	"github.com/platform-eng/lke-platform/platform"
	"github.com/platform-eng/lke-platform/quota"
	"github.com/platform-eng/lke-platform/upstream"
)

// argoCDNamespace is where Argo CD and its Applications live, as the program places them.
const argoCDNamespace = platform.ArgoCDNamespace

// TestGitOpsLoop runs Argo CD's own application controller and repo-server (v3.2.11, as local processes) against
// a control plane of the test's own, with this repository served by a git daemon on loopback, and proves the
// GitOps path end to end:
//   - the root Application platform-<env>-infrastructure syncs the environment's folder of Applications
//     (generated/<env>/argo/), and the sample service's Application renders charts/sample-service with the
//     values the component gives, until the Deployment is Available, on development without anyone's hand;
//   - a commit to generated/development/ is synced (the HPA's minimum changes on the cluster);
//   - production stays OutOfSync, with nothing deployed, until an operator syncs it (what `argocd app sync`
//     does: it sets the Application's operation), first the root Application, then the sample service's;
//   - Argo CD's notifications controller sends the Applications' events to Loki (a stand-in checking each push
//     as Loki does), labelled argo_app, as the bootstrap configures it;
//   - Argo-side drift: on development self-heal puts a deleted object back; on production the Application
//     turns OutOfSync and nothing changes until an operator syncs.
func TestGitOpsLoop(t *testing.T) {
	parallel(t)
	cp := startControlPlane(t, "lke-platform-gitops")
	// The events go to a Loki on loopback instead of the monitoring namespace's gateway, which a local process
	// cannot reach: the settings are otherwise the bootstrap's.
	loki := audittest.NewLokiOf(t, audittest.JSONLine)
	prepareArgoCD(t, cp.kubeconfig, []string{config.Development, config.Production},
		gitops.EventsArgs{LokiURL: loki.URL, Tenant: config.Development})
	loop := startGitOpsLoop(t, cp.kubeconfig)
	argo, repo := loop.argo, loop.repo
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, argo.StartController(ctx))
	require.NoError(t, argo.StartNotifications(ctx))

	for _, env := range []string{config.Development, config.Production} {
		repo.writeApplication(t, env, sampleApplication(loop.repoURL, env, 1))
	}
	repo.commit(t, "the environments' Applications")

	start := time.Now()
	for _, env := range []string{config.Development, config.Production} {
		out, err := kubectlInputOn(cp.kubeconfig, mustJSON(t, rootApplication(loop.repoURL, env)), "apply", "-f", "-")
		require.NoError(t, err, out)
	}

	// Development: synced by Argo CD alone, down to an Available Deployment.
	dev := appWatcher{t: t, kubeconfig: cp.kubeconfig, argo: argo}
	devApp := gitops.ApplicationName(config.Development, sampleservice.AppName)
	dev.await(gitops.RootName(config.Development), "Synced")
	dev.await(devApp, "Synced")
	awaitAvailable(t, cp.kubeconfig, config.Development+"-apps", sampleservice.AppName, 3*time.Minute)
	figure(t, "root Application applied to the sample Deployment Available through Argo CD: %.1f s", time.Since(start).Seconds())

	// The sync's event reached Loki, in the Application's stream. (Its "deployed" event also needs the
	// Application's health to be Healthy, which this test's control plane never reported in the notifications
	// controller's view: the check is on the sync, which every environment's Application goes through.)
	require.Eventually(t, func() bool { return eventOf(loki, devApp, "sync-succeeded") != nil }, 2*time.Minute, time.Second,
		"no sync-succeeded event of %s in Loki; refused pushes: %v\n%s", devApp, loki.Refused(), argo.Logs())
	synced := eventOf(loki, devApp, "sync-succeeded")
	require.Equal(t, map[string]string{
		gitops.ArgoAppLabel: devApp, gitops.EnvironmentLabel: config.Development, gitops.EventSourceLabel: gitops.EventSource,
	}, synced.labels)
	require.Equal(t, "Succeeded", synced.fields["operation_phase"])
	require.Equal(t, gitops.ProjectName(config.Development), synced.fields["project"])
	require.NotEmpty(t, synced.fields["revision"], "the synced commit")
	require.Empty(t, loki.Refused(), "Loki refused a push")

	// A commit to generated/development/ reaches the cluster.
	repo.writeApplication(t, config.Development, sampleApplication(loop.repoURL, config.Development, 2))
	head := repo.commit(t, "development: the sample service keeps two replicas")
	committed := time.Now()
	dev.refresh(gitops.RootName(config.Development))
	require.Eventually(t, func() bool {
		dev.refresh(devApp)
		out, _ := kubectlOn(cp.kubeconfig, "get", "hpa", sampleservice.AppName, "-n", config.Development+"-apps",
			"-o", "jsonpath={.spec.minReplicas}")
		return strings.TrimSpace(string(out)) == "2"
	}, 2*time.Minute, 2*time.Second, "the commit's HPA minimum never reached the cluster\n%s", dev.describe(devApp))
	require.Equal(t, head, dev.field(gitops.RootName(config.Development), "{.status.sync.revision}"),
		"the root Application is synced to the commit")
	figure(t, "commit to generated/development/ synced to the cluster: %.1f s", time.Since(committed).Seconds())

	// Argo-side drift (docs/runbooks/drift.md): outside production, self-heal puts back what someone deletes.
	serviceExists := func(env string) bool {
		_, err := kubectlOn(cp.kubeconfig, "get", "service", sampleservice.AppName, "-n", env+"-apps")
		return err == nil
	}
	_, err := kubectlOn(cp.kubeconfig, "delete", "service", sampleservice.AppName, "-n", config.Development+"-apps", "--wait=true")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return serviceExists(config.Development) }, 2*time.Minute, time.Second,
		"self-heal never put the deleted Service back\n%s", dev.describe(devApp))

	// Production: nothing until an operator syncs, and then only what was synced.
	prod := appWatcher{t: t, kubeconfig: cp.kubeconfig, argo: argo}
	root := gitops.RootName(config.Production)
	prod.await(root, "OutOfSync")
	prodApp := gitops.ApplicationName(config.Production, sampleservice.AppName)
	_, err = kubectlOn(cp.kubeconfig, "get", "application", prodApp, "-n", argoCDNamespace)
	require.Error(t, err, "production's sample Application exists before anyone synced the root Application")
	prod.sync(root)
	prod.await(root, "Synced")
	prod.await(prodApp, "OutOfSync")
	out, err := kubectlOn(cp.kubeconfig, "get", "deployments", "-n", config.Production+"-apps", "-o", "name")
	require.NoError(t, err)
	require.Empty(t, strings.TrimSpace(string(out)), "production deployed before its Application was synced")
	prod.sync(prodApp)
	prod.await(prodApp, "Synced")
	awaitAvailable(t, cp.kubeconfig, config.Production+"-apps", sampleservice.AppName, 3*time.Minute)

	// On production, drift is shown, not repaired: the Application turns OutOfSync and the Service stays gone
	// until an operator syncs again.
	_, err = kubectlOn(cp.kubeconfig, "delete", "service", sampleservice.AppName, "-n", config.Production+"-apps", "--wait=true")
	require.NoError(t, err)
	prod.refresh(prodApp)
	prod.await(prodApp, "OutOfSync")
	require.False(t, serviceExists(config.Production), "production's deleted Service came back without a sync")
	prod.sync(prodApp)
	prod.await(prodApp, "Synced")
	require.Eventually(t, func() bool { return serviceExists(config.Production) }, time.Minute, time.Second)
}

// prepareArgoCD gives a bare control plane what the program's gitops bootstrap gives a cluster before Argo CD's
// controllers start, built by the bootstrap's own functions: the CRDs (the add-ons' too), Argo CD's namespace with the ConfigMaps and
// Secret of its install (as the bootstrap labels them), and each environment's AppProject; plus the
// environments' workload namespaces.
func prepareArgoCD(t *testing.T, kubeconfigPath string, environments []string, events gitops.EventsArgs) {
	t.Helper()
	labels := (&config.Environment{Name: environments[0]}).Labels()
	// Argo CD's CRDs as the bootstrap applies them, and the add-ons' as the CRDs Application does (the sample
	// service's chart holds a ServiceMonitor and a PrometheusRule).
	crds, err := platformCRDs()
	require.NoError(t, err)
	install, err := gitops.ArgoCDObjects(&gitops.BootstrapArgs{
		Environment: environments[0], Namespace: argoCDNamespace, Labels: labels, Events: events,
	})
	require.NoError(t, err)
	var settings []upstream.Object
	for _, o := range install {
		if o["kind"] == "ConfigMap" || o["kind"] == "Secret" {
			settings = append(settings, o)
		}
	}
	apply := func(objects []upstream.Object, args ...string) {
		out, err := kubectlInputOn(kubeconfigPath, mustJSON(t, map[string]any{"apiVersion": "v1", "kind": "List", "items": objects}),
			append([]string{"apply", "--server-side", "-f", "-"}, args...)...)
		require.NoError(t, err, out)
	}
	apply(crds)
	for _, crd := range crds {
		name := crd["metadata"].(map[string]any)["name"].(string)
		waitEstablished(t, kubeconfigPath, "crd/"+name)
	}
	namespaces := []upstream.Object{namespaceObject(argoCDNamespace, nil)}
	for _, env := range environments {
		namespaces = append(namespaces, namespaceObject(env+"-apps", map[string]string{"platform.lke/environment": env}))
	}
	apply(namespaces)
	apply(settings)
	var projects []upstream.Object
	for _, env := range environments {
		projects = append(projects, toObject(t, map[string]any{
			"apiVersion": gitops.ArgoCDAPIVersion, "kind": "AppProject",
			"metadata": map[string]any{"name": gitops.ProjectName(env), "namespace": argoCDNamespace},
			"spec": gitops.AppProjectSpec{
				Description: "the " + env + " environment of the GitOps loop test",
				SourceRepos: []string{"*"}, // the loop's git daemon picks its port at run time
				Destinations: []gitops.ProjectDestination{
					{Server: gitops.InClusterServer, Namespace: argoCDNamespace},
					{Server: gitops.InClusterServer, Namespace: env + "-apps"},
				},
				ClusterResourceWhitelist:   gitops.ClusterKinds,
				NamespaceResourceBlacklist: gitops.PulumiOwnedKinds,
			},
		}))
	}
	apply(projects)
}

// lokiEvent is an application event Loki accepted: its stream's labels and its line's fields.
type lokiEvent struct {
	labels map[string]string
	fields map[string]any
}

// eventOf is the latest event of the kind for the Application that Loki accepted, or nil.
func eventOf(loki *audittest.Loki, app, event string) *lokiEvent {
	var found *lokiEvent
	for _, push := range loki.Pushes() {
		for _, s := range push.Streams {
			for _, e := range s.Entries {
				if s.Labels[gitops.ArgoAppLabel] == app && e.Fields["event"] == event {
					found = &lokiEvent{labels: s.Labels, fields: e.Fields}
				}
			}
		}
	}
	return found
}

func namespaceObject(name string, labels map[string]string) upstream.Object {
	meta := map[string]any{"name": name}
	if labels != nil {
		meta["labels"] = labels
	}
	return upstream.Object{"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
}

// rootApplication is an environment's root Application: the folder of its Applications in the repository.
func rootApplication(repoURL, env string) gitops.Application {
	return gitops.RepoApplication(gitops.RepoApplicationArgs{
		Name: gitops.RootName(env), Environment: env, Namespace: argoCDNamespace,
		Labels: (&config.Environment{Name: env}).Labels(), RepoURL: repoURL, Revision: gitRevision,
		Path: "generated/" + env + "/argo", Destination: argoCDNamespace, AutoSync: env != config.Production,
	})
}

// sampleApplication is the sample service's Application of an environment: charts/sample-service with the
// values the component gives for the committed stacks' service profile, and minReplicas replicas at least.
func sampleApplication(repoURL, env string, minReplicas int) gitops.Application {
	profile := quota.Profile{
		CPURequest: resource.MustParse("100m"), CPULimit: resource.MustParse("500m"),
		MemoryRequest: resource.MustParse("128Mi"), MemoryLimit: resource.MustParse("256Mi"),
		MinReplicas: minReplicas, MaxReplicas: 3,
	}
	issuer := "letsencrypt-staging"
	if env == config.Production {
		issuer = "letsencrypt-production"
	}
	return sampleservice.Application(&sampleservice.Args{
		Environment: env, Namespace: env + "-apps", Labels: (&config.Environment{Name: env}).Labels(),
		Image: "ghcr.io/platform-eng/sample-service:0.1.0", Host: "sample-service." + env + ".example.net",
		IngressClass: "nginx", ClusterIssuer: issuer, SecretName: config.SampleServiceBundle, Resources: profile,
		ArgoCDNamespace: argoCDNamespace, RepoURL: repoURL, Revision: gitRevision, AutoSync: env != config.Production,
	})
}

// gitRevision is the branch of the loop's repository that Applications follow.
const gitRevision = "main"

// gitopsLoop is Argo CD's loop (internal/localargocd) for a control plane, with a platform repository served on
// loopback that holds this working tree's charts. The application controller is the caller's to start
// (StartController), once the control plane holds Argo CD's settings.
type gitopsLoop struct {
	argo    *localargocd.ArgoCD
	repo    *platformRepo
	repoURL string // the repository's URL, for an Application or the gitopsRepoUrl config
}

// startGitOpsLoop starts the loop's processes for the control plane of kubeconfigPath, stopped when the test
// ends; a failing test logs their output.
func startGitOpsLoop(t *testing.T, kubeconfigPath string) *gitopsLoop {
	t.Helper()
	argo, err := localargocd.Start(context.Background(), localargocd.Options{
		Kubeconfig: kubeconfigPath, Namespace: argoCDNamespace, Dir: t.TempDir(),
	})
	require.NoError(t, err)
	t.Cleanup(argo.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Argo CD's logs:\n%s", argo.Logs())
		}
	})
	repo := newPlatformRepo(t, argo)
	repo.commit(t, "the platform's charts")
	return &gitopsLoop{argo: argo, repo: repo, repoURL: argo.GitURL + "platform.git"}
}

// platformRepo is a repository the loop's git daemon serves (bare, in the daemon's folder) and a working copy
// of it the test commits to: this repository's charts, and the environments' Applications.
type platformRepo struct{ work string }

func newPlatformRepo(t *testing.T, argo *localargocd.ArgoCD) *platformRepo {
	t.Helper()
	bare := filepath.Join(argo.Dir, "git", "platform.git")
	r := &platformRepo{work: t.TempDir()}
	mustGit(t, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	mustGit(t, r.work, "init", "--quiet", "--initial-branch=main")
	mustGit(t, r.work, "remote", "add", "origin", bare)
	// What Argo CD reads from the platform repository: the charts, and the add-ons' CRDs (the CRDs Application).
	for _, dir := range []string{"charts", gitops.AddonCRDsPath} {
		src := filepath.Join(repoRoot(), filepath.FromSlash(dir))
		require.NoError(t, os.CopyFS(filepath.Join(r.work, filepath.FromSlash(dir)), os.DirFS(src)))
	}
	return r
}

func (r *platformRepo) writeApplication(t *testing.T, env string, app gitops.Application) {
	t.Helper()
	dir := filepath.Join(r.work, "generated", env, "argo")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	out, err := yaml.Marshal(app)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, strings.TrimPrefix(app.Metadata.Name, "platform-"+env+"-")+".yaml"), out, 0o644))
}

// commit commits and pushes everything in the working copy and returns the commit's hash.
func (r *platformRepo) commit(t *testing.T, message string) string {
	t.Helper()
	mustGit(t, r.work, "add", "--all")
	mustGit(t, r.work, "-c", "user.name=lke-platform tests", "-c", "user.email=tests@lke-platform.invalid",
		"commit", "--quiet", "-m", message)
	mustGit(t, r.work, "push", "--quiet", "origin", "main")
	return strings.TrimSpace(mustGit(t, r.work, "rev-parse", "HEAD"))
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// appWatcher reads and drives Applications on the loop's control plane.
type appWatcher struct {
	t          *testing.T
	kubeconfig string
	argo       *localargocd.ArgoCD
}

func (w appWatcher) field(app, jsonpath string) string {
	out, err := kubectlOn(w.kubeconfig, "get", "application", app, "-n", argoCDNamespace, "-o", "jsonpath="+jsonpath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// await waits until the Application's sync status is status, failing with the Application and Argo CD's state
// if a component has ended or it takes over three minutes.
func (w appWatcher) await(app, status string) {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		require.NoError(w.t, w.argo.Exited())
		return w.field(app, "{.status.sync.status}") == status
	}, 3*time.Minute, time.Second, "Application %s never became %s\n%s", app, status, w.describe(app))
}

// refresh asks Argo CD to compare the Application with the repository's latest commit now, instead of at its
// next periodic resync (what a Git webhook does on a real installation).
func (w appWatcher) refresh(app string) {
	_, _ = kubectlOn(w.kubeconfig, "annotate", "--overwrite", "application", app, "-n", argoCDNamespace,
		"argocd.argoproj.io/refresh=normal")
}

// sync is what `argocd app sync APP` does: it sets the Application's operation, which the controller carries
// out and clears.
func (w appWatcher) sync(app string) {
	w.t.Helper()
	patch := mustJSON(w.t, map[string]any{"operation": map[string]any{
		"initiatedBy": map[string]any{"username": "operator"},
		"sync":        map[string]any{"syncOptions": gitops.SyncOptions},
	}})
	out, err := kubectlOn(w.kubeconfig, "patch", "application", app, "-n", argoCDNamespace, "--type", "merge", "-p", string(patch))
	require.NoError(w.t, err, string(out))
}

func (w appWatcher) describe(app string) string {
	out, _ := kubectlOn(w.kubeconfig, "get", "application", app, "-n", argoCDNamespace, "-o", "yaml")
	return string(out)
}

// awaitAvailable waits until the Deployment exists and reports Available.
func awaitAvailable(t *testing.T, kubeconfigPath, namespace, name string, timeout time.Duration) {
	t.Helper()
	var last string
	require.Eventually(t, func() bool {
		out, err := kubectlOn(kubeconfigPath, "get", "deployment", name, "-n", namespace,
			"-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`)
		last = fmt.Sprint(strings.TrimSpace(string(out)), err)
		return err == nil && strings.TrimSpace(string(out)) == "True"
	}, timeout, time.Second, "deployment %s/%s is not Available: %s", namespace, name, last)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func toObject(t *testing.T, v any) upstream.Object {
	t.Helper()
	var o upstream.Object
	require.NoError(t, json.Unmarshal(mustJSON(t, v), &o))
	return o
}
