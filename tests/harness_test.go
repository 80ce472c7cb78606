//go:build integration

// Integration tests: the real pulumi CLI, the real kubernetes provider and a real Kubernetes API server on
// loopback (scripts/cluster). Run them with scripts/test, which builds or reuses the toolchain first.
//
// This file is the one harness every test uses:
//   - ProgramTest (pkg/v3/testing/integration, baseOptions) for a stack's whole lifecycle;
//   - cli, a copy of a project with stacks on its own state, run through the Automation API's PulumiCommand,
//     for every other command a test makes (and command, for the tests that need the process itself);
//   - the shared control plane (TestMain's, sharedPlane) and control planes of a test's own (startControlPlane),
//     with kubectl and get against either.
//
// Tests run side by side (t.Parallel): each works in namespaces of its own on the shared control plane, or on a
// control plane of its own when it breaks it (TestFaults) or when its objects share names with another test's
// (two environments' stacks of the whole platform both manage the platform's namespaces: argocd, monitoring, …).
// With -short, TestMain starts no control plane and the tests that need one are skipped.
package tests

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sealedcrypto "github.com/bitnami/sealed-secrets/pkg/crypto"
	"github.com/pulumi/pulumi/pkg/v3/testing/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/upstream"
)

// repoRoot is the clone this test file lives in.
func repoRoot() string {
	// go test runs in the package's folder, tests/ (runtime.Caller would give no path under -trimpath).
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}

// kubeconfig is the shared local control plane's, started by TestMain; policyPack is the compiled policy pack.
var kubeconfig, policyPack string

// pulumiCLI runs the toolchain's pulumi (first on PATH, scripts/env.sh) for every cli.
var pulumiCLI auto.PulumiCommand

// sealingCert is the PEM certificate every test stack seals its secrets with, and sealingKey its private key
// (the Sealed Secrets controller's, which tests use to prove what was sealed).
var (
	sealingCert string
	sealingKey  *rsa.PrivateKey
)

// testSecrets are the secret config values of every test stack of the program. Each is easy to search for: a
// test proves none of them appears in plain text in state, outputs or rendered files.
var testSecrets = map[string]string{
	"slackWebhookUrl":      "https://hooks.slack.com/services/TPLATFORM/BTEST/plaintextSlackWebhook7Qx",
	"slackPagerWebhookUrl": "https://hooks.slack.com/services/TPLATFORM/BPAGER/plaintextSlackPager5Hn",
	"grafanaAdminPassword": "plaintextGrafanaAdmin-v9Rk2mWq4Tz8",
	"dnsApiToken":          "plaintextDnsToken4Rw-Hq8zN3vK7pXm",
	"secretBundles":        `{"sample-service":{"token":"plaintextBundleToken9Kz-Fw6tB2sL9qVc"}}`,
}

// plaintexts are the secret values themselves, as they would appear if one leaked.
var plaintexts = []string{"plaintextSlackWebhook7Qx", "plaintextSlackPager5Hn", "plaintextGrafanaAdmin", "plaintextDnsToken4Rw", "plaintextBundleToken9Kz"}

// platformConfig is the plain config of a program stack attached to the control plane of kubeconfigPath as env.
func platformConfig(env, kubeconfigPath string) map[string]string {
	return map[string]string{
		"environment":              env,
		"clusterMode":              "attach",
		"kubeconfigPath":           kubeconfigPath,
		"sealedSecretsCertificate": sealingCert,
	}
}

// newSealingKey makes the test controller's key pair and writes its certificate to dir.
func newSealingKey(dir string) (string, *rsa.PrivateKey, error) {
	key, cert, err := sealedcrypto.GeneratePrivateKeyAndCert(2048, 24*time.Hour, "sealed-secret")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "sealed-secrets.pem")
	return path, key, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func TestMain(m *testing.M) {
	flag.Parse()
	for _, tool := range []string{"pulumi", "kubectl", "kwokctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "%s is not on PATH: run the integration tests through scripts/test (it builds the toolchain)\n", tool)
			os.Exit(1)
		}
	}
	if os.Getenv("LKE_PLATFORM_KUBERNETES_PLUGIN_DIR") == "" {
		fmt.Fprintln(os.Stderr, "LKE_PLATFORM_KUBERNETES_PLUGIN_DIR is not set: run the integration tests through scripts/test")
		os.Exit(1)
	}
	os.Exit(setUpAndRun(m))
}

// setUpAndRun prepares what every test shares, runs the tests and cleans up after them.
func setUpAndRun(m *testing.M) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		return 1
	}
	var err error
	if atOnce, err = parseAtOnce(os.Getenv("LKE_PLATFORM_TEST_PARALLEL")); err != nil {
		return fail("%v", err)
	}
	slots = make(chan struct{}, atOnce)
	if pulumiCLI, err = auto.NewPulumiCommand(nil); err != nil {
		return fail("the pulumi CLI: %v", err)
	}
	packDir, err := os.MkdirTemp("", "lke-platform-policy")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(packDir)
	// ProgramTest copies Go programs under $GOPATH/src: a GOPATH of the run's own, set once for the whole process
	// (t.Setenv would forbid t.Parallel), with the module cache kept where it is.
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return fail("go env GOMODCACHE: %v", err)
	}
	for k, v := range map[string]string{
		"GOMODCACHE": strings.TrimSpace(string(modcache)),
		"GOPATH":     filepath.Join(packDir, "gopath"),
		"GOFLAGS":    "-mod=mod -trimpath", // -trimpath: see scripts/env.sh
	} {
		if err := os.Setenv(k, v); err != nil {
			return fail("%v", err)
		}
	}
	if sealingCert, sealingKey, err = newSealingKey(packDir); err != nil {
		return fail("making the sealing key: %v", err)
	}
	policyPack = filepath.Join(packDir, "lke-platform-policy")
	build := exec.Command("go", "build", "-o", policyPack, "./policy")
	build.Dir, build.Stderr = repoRoot(), os.Stderr
	if err := build.Run(); err != nil {
		return fail("building the policy pack: %v", err)
	}
	defer func() {
		for _, dir := range renderedDirs() {
			os.RemoveAll(dir)
		}
	}()
	if testing.Short() {
		return m.Run() // no control plane: the tests that need one skip
	}

	const cluster = "lke-platform-test"
	out, err := exec.Command(filepath.Join(repoRoot(), "scripts", "cluster"), "up", cluster).Output()
	if err != nil {
		return fail("starting the local control plane: %v", err)
	}
	kubeconfig = strings.TrimSpace(string(out))
	if os.Getenv("LKE_PLATFORM_KEEP_CLUSTER") == "" {
		defer controlPlaneDown(cluster)
	}
	if err := installCRDs(kubeconfig); err != nil {
		return fail("installing the CRDs on the local control plane: %v", err)
	}
	return m.Run()
}

// platformCRDs are every CRD the platform brings, as the platform applies them: Argo CD's as each stack's
// bootstrap does (gitops.CRDObjects: descriptions stripped, the environments' shared labels), the add-ons' as the
// CRDs Application does (upstream/crds as they are).
func platformCRDs() ([]upstream.Object, error) {
	crds, err := gitops.CRDObjects((&config.Environment{Name: config.Development}).Labels())
	if err != nil {
		return nil, err
	}
	for _, f := range upstream.CRDs() {
		if path.Dir(f.Name) == upstream.ArgoCDCRDsDir {
			continue
		}
		objs, err := upstream.Decode(f.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		crds = append(crds, objs...)
	}
	return crds, nil
}

// installCRDs gives the shared control plane, before any test runs, every CRD the platform brings (Argo CD's,
// which each stack's bootstrap applies, and the add-ons', which Argo CD's CRDs Application applies), as a cluster
// that already runs an environment has them. kube-controller-manager's quota controller stops updating quotas
// while it starts watching newly served kinds (up to 30 s per discovery change); with stacks bootstrapping and
// Argo CD syncing under each other's feet, new kinds kept appearing, and a ResourceQuota created meanwhile could
// wait longer than the kubernetes provider's one minute for its status. The stacks and Argo CD still apply the
// same CRDs (server-side, the same values: no conflict).
func installCRDs(kubeconfigPath string) error {
	crds, err := platformCRDs()
	if err != nil {
		return err
	}
	list, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": crds})
	if err != nil {
		return err
	}
	if out, err := kubectlInputOn(kubeconfigPath, list, "apply", "--server-side", "--field-manager=lke-platform-tests", "-f", "-"); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	if out, err := kubectlInputOn(kubeconfigPath, nil, "wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// atOnce is how many tests that run Pulumi programs run at once beside the two longest, which start first and
// take no turn (parallelCriticalPath): LKE_PLATFORM_TEST_PARALLEL (scripts/test; default 2). Tests that run no
// program of their own (the real Prometheus and Alertmanager, the vendored files) call t.Parallel alone: they
// mostly wait, and take no turn either. slots is the gate that holds the others to atOnce, and the only one:
// scripts/test sets go test's own -parallel far higher, because go test starts waiting tests in no particular
// order, and a run whose longest test starts last ends with it running alone. With atOnce = 1 (bench/run)
// every test, the longest too, takes its turn: one at a time.
var (
	atOnce int
	slots  chan struct{}
)

// parseAtOnce reads LKE_PLATFORM_TEST_PARALLEL.
func parseAtOnce(raw string) (int, error) {
	if raw == "" {
		return 2, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("LKE_PLATFORM_TEST_PARALLEL = %q: want a whole number of tests, at least 1", raw)
	}
	return n, nil
}

// parallel runs the test beside the others once a slot is free, and frees it when the test and its subtests end.
// go test counts the wait in the test's time: the test logs it, in the words cmd/testreport looks for, so that
// the report of the slowest tests shows running time.
func parallel(t *testing.T) {
	t.Helper()
	t.Parallel()
	start := time.Now()
	slots <- struct{}{}
	t.Cleanup(func() { <-slots })
	if waited := time.Since(start); waited >= 100*time.Millisecond {
		t.Logf("waited %.1f s for its turn", waited.Seconds())
	}
}

// parallelCriticalPath runs one of the two longest tests (TestPlatformDeploysEndToEnd, TestEnvironmentLifecycle)
// beside the others from the start, without waiting for a slot, unless tests run one at a time.
func parallelCriticalPath(t *testing.T) {
	t.Helper()
	if atOnce == 1 {
		parallel(t)
		return
	}
	t.Parallel()
}

// needsCluster skips a test that needs the shared control plane when there is none (-short).
func needsCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a control plane: not run with -short")
	}
}

// programDir copies the program (tracked sources, not the clone's tool links, state or build outputs) to a
// temporary folder, so ProgramTest's own copy stays small.
func programDir(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	skip := map[string]bool{".git": true, ".tools": true, ".state": true, "generated": true, "tools": true}
	root := repoRoot()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && skip[rel] || strings.HasPrefix(d.Name(), "Pulumi.local-") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

// baseOptions are the ProgramTest options every lifecycle test shares: local file state, the built kubernetes
// plugin, no network, and the program attached as environment env to the control plane of kubeconfigPath.
func baseOptions(t *testing.T, env, kubeconfigPath string) *integration.ProgramTestOptions {
	t.Helper()
	state := t.TempDir()
	return &integration.ProgramTestOptions{
		Dir:            programDir(t),
		StackName:      "it-" + env,
		CloudURL:       "file://" + state,
		Config:         platformConfig(env, kubeconfigPath),
		Secrets:        testSecrets,
		LocalProviders: []integration.LocalDependency{{Package: "kubernetes", Path: os.Getenv("LKE_PLATFORM_KUBERNETES_PLUGIN_DIR")}},
		Env: []string{
			"PULUMI_SKIP_UPDATE_CHECK=true",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
			// The test's own state: never the clone's (scripts/env.sh points PULUMI_BACKEND_URL there).
			"PULUMI_BACKEND_URL=file://" + state,
			"PULUMI_CONFIG_PASSPHRASE=integration-test-only",
			"PULUMI_CONFIG_PASSPHRASE_FILE=",
		},
		// Every preview and update runs the policy pack, as CI and the README's main command do.
		PreviewCommandlineFlags: []string{"--policy-pack", policyPack},
		UpdateCommandlineFlags:  []string{"--policy-pack", policyPack},
		SkipExportImport:        true,
		// The test calls t.Parallel itself (ProgramTest would too, but only after its own setup).
		NoParallel:                      true,
		RequireEmptyPreviewAfterRefresh: true,
		Verbose:                         testing.Verbose(),
	}
}

// kubectl runs kubectl against the shared control plane and returns its standard output.
func kubectl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	return kubectlOn(kubeconfig, args...)
}

// kubectlOn runs kubectl against the control plane of kubeconfigPath and returns its standard output.
func kubectlOn(kubeconfigPath string, args ...string) ([]byte, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfigPath}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// get reads one object (or, with an empty name, the list of them) back from the shared control plane into its
// Kubernetes API type.
func get[T any](t *testing.T, kind, namespace, name string) T {
	t.Helper()
	return getFrom[T](t, kubeconfig, kind, namespace, name)
}

// getFrom is get on the control plane of kubeconfigPath.
func getFrom[T any](t *testing.T, kubeconfigPath, kind, namespace, name string) T {
	t.Helper()
	args := []string{"get", kind, "-o", "json"}
	if name != "" {
		args = append(args, name)
	}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	out, err := kubectlOn(kubeconfigPath, args...)
	require.NoError(t, err)
	var obj T
	require.NoError(t, json.Unmarshal(out, &obj))
	return obj
}

// controlPlane is a local control plane of a test's own (scripts/cluster, kwokctl's binary runtime).
type controlPlane struct {
	name, kubeconfig string
	dir              string // kwokctl's folder of the cluster: pids/, logs/, bin/
	server           string // the API server's address, host:port
	// commands are the command lines of the components a stop takes down, read from /proc while they run
	// (tests/faults_test.go).
	commands map[string][]string
}

// controlPlaneStarts keeps control planes from starting at the same time (startControlPlane).
var controlPlaneStarts sync.Mutex

// startControlPlane starts a fresh control plane named name, stopped when the test ends.
func startControlPlane(t *testing.T, name string) *controlPlane {
	t.Helper()
	needsCluster(t)
	// One start at a time: kwokctl picks each component's port by looking for one nobody listens on yet, so two
	// clusters starting together can pick the same (etcd: "bind: address already in use").
	controlPlaneStarts.Lock()
	// Fresh, never reused: one left behind by an interrupted run would hold its objects and stopped components.
	controlPlaneDown(name)
	var stderr bytes.Buffer
	up := exec.Command(filepath.Join(repoRoot(), "scripts", "cluster"), "up", name)
	up.Stderr = &stderr
	out, err := up.Output()
	controlPlaneStarts.Unlock()
	// (stop may end it earlier; "down" of a stopped control plane does nothing.)
	t.Cleanup(func() { controlPlaneDown(name) })
	require.NoError(t, err, "starting control plane %s:\n%s", name, stderr.String())

	workdir := os.Getenv("KWOK_WORKDIR")
	if workdir == "" {
		state := os.Getenv("LKE_PLATFORM_STATE")
		if state == "" {
			state = filepath.Join(repoRoot(), ".state")
		}
		workdir = filepath.Join(state, "kwok")
	}
	cp := &controlPlane{name: name, kubeconfig: strings.TrimSpace(string(out)), dir: filepath.Join(workdir, "clusters", name)}
	server, err := kubectlOn(cp.kubeconfig, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	require.NoError(t, err)
	cp.server = strings.TrimPrefix(strings.TrimSpace(string(server)), "https://")
	require.NotEmpty(t, cp.server)
	return cp
}

// stop ends the control plane before the test does, for one that has served its purpose.
func (cp *controlPlane) stop() { controlPlaneDown(cp.name) }

// controlPlaneDown stops control plane name and removes its files (scripts/cluster down); nothing if it is not running.
func controlPlaneDown(name string) {
	_ = exec.Command(filepath.Join(repoRoot(), "scripts", "cluster"), "down", name).Run()
}

// cli runs the real pulumi CLI in a copy of the project, on its own local state.
type cli struct {
	t    *testing.T
	dir  string
	vars []string // the test's own environment: its backend and passphrase
}

func newCLI(t *testing.T, subdir string) *cli {
	state := t.TempDir()
	vars := []string{
		"PULUMI_BACKEND_URL=file://" + state,
		"PULUMI_CONFIG_PASSPHRASE=integration-test-only",
		"PULUMI_CONFIG_PASSPHRASE_FILE=",
	}
	return &cli{t: t, dir: filepath.Join(programDir(t), subdir), vars: vars}
}

// environ is the environment of the project's other commands run beside the CLI (cmd/drift, cmd/audit, …):
// this process's, with the test's own vars after it (the last entry wins).
func (c *cli) environ() []string { return append(os.Environ(), c.vars...) }

// syncBuffer is a buffer two goroutines (the command's stdout and stderr copiers) may write at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// exec runs pulumi with args (non-interactive) and extra environment, and returns its standard output and
// its combined output.
func (c *cli) exec(stdin io.Reader, extraEnv []string, args ...string) (stdout, combined string, err error) {
	var all syncBuffer
	env := append(append([]string(nil), c.vars...), extraEnv...)
	stdout, _, _, err = pulumiCLI.Run(context.Background(), c.dir, stdin, []io.Writer{&all}, []io.Writer{&all}, env, args...)
	return stdout, all.String(), err
}

// run runs pulumi with args and returns its combined output.
func (c *cli) run(extraEnv []string, args ...string) (string, error) {
	c.t.Helper()
	_, out, err := c.exec(nil, extraEnv, args...)
	return out, err
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(nil, args...)
	require.NoError(c.t, err, out)
	return out
}

// stdout runs pulumi and returns its standard output alone, for JSON that a warning on stderr must not spoil.
func (c *cli) stdout(args ...string) string {
	c.t.Helper()
	stdout, out, err := c.exec(nil, nil, args...)
	require.NoError(c.t, err, out)
	return stdout
}

// command is pulumi with args as a process of the test's own, for the tests that watch or kill it.
func (c *cli) command(args ...string) *exec.Cmd {
	cmd := exec.Command("pulumi", append(args, "--non-interactive")...)
	cmd.Dir, cmd.Env = c.dir, c.environ()
	return cmd
}

// stack makes a stack with the given config (key=value, in the project's namespace).
func (c *cli) stack(name string, config ...string) {
	c.t.Helper()
	c.must("stack", "init", name)
	for _, kv := range config {
		k, v, _ := strings.Cut(kv, "=")
		c.must("config", "set", "-s", name, k, v)
	}
}

// platformStack makes a stack of the program as environment env, attached to the control plane of
// kubeconfigPath (programStack with platformConfig).
func (c *cli) platformStack(name, env, kubeconfigPath string) {
	c.t.Helper()
	c.programStack(name, platformConfig(env, kubeconfigPath))
}

// programStack makes a stack of the program with the given plain config, and the test secrets set as secrets
// (through stdin, as an operator would, never on a command line).
func (c *cli) programStack(name string, config map[string]string) {
	c.t.Helper()
	c.must("stack", "init", name)
	for k, v := range config {
		// --plaintext: the CLI takes a random temporary path for something that looks like a secret.
		c.must("config", "set", "--plaintext", "-s", name, k, v)
	}
	for k, v := range testSecrets {
		_, out, err := c.exec(strings.NewReader(v), nil, "config", "set", "--secret", "-s", name, k)
		require.NoError(c.t, err, out)
	}
}

// backend is the folder of the cli's diy backend.
func (c *cli) backend() string {
	return strings.TrimPrefix(envValue(c.vars, "PULUMI_BACKEND_URL"), "file://")
}

// stateSize is what a stack's state holds, as the backend stores it: the figure issue 15 sets a target for.
type stateSize struct {
	bytes     int // the checkpoint file's size (`stack export` pretty-prints it, about eight times larger)
	resources int
	crds      int // resources that are CustomResourceDefinitions
}

func (s stateSize) megabytes() float64 { return float64(s.bytes) / 1e6 }

// stateSize reads a stack's checkpoint file from the cli's backend.
func (c *cli) stateSize(stack string) stateSize {
	c.t.Helper()
	checkpoint, err := os.ReadFile(filepath.Join(c.backend(), ".pulumi", "stacks", "lke-platform", stack+".json"))
	require.NoError(c.t, err)
	var state struct {
		Checkpoint struct {
			Latest struct {
				Resources []struct {
					Type string `json:"type"`
				} `json:"resources"`
			} `json:"latest"`
		} `json:"checkpoint"`
	}
	require.NoError(c.t, json.Unmarshal(checkpoint, &state))
	s := stateSize{bytes: len(checkpoint), resources: len(state.Checkpoint.Latest.Resources)}
	for _, r := range state.Checkpoint.Latest.Resources {
		if r.Type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" {
			s.crds++
		}
	}
	return s
}

// envValue is key's value in env as exec.Cmd sees it: the last entry wins.
func envValue(env []string, key string) string {
	for _, kv := range slices.Backward(env) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// figure records a measured figure: in the test log, and in the file LKE_PLATFORM_FIGURES names (scripts/test
// prints it at the end, since go test shows a passing test's log only with -v).
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf("%s: %s", t.Name(), fmt.Sprintf(format, args...))
	t.Log(line)
	figuresMu.Lock()
	defer figuresMu.Unlock()
	if path := os.Getenv("LKE_PLATFORM_FIGURES"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		defer f.Close()
		_, err = fmt.Fprintln(f, line)
		require.NoError(t, err)
	}
}

// figuresMu keeps the lines of tests running side by side whole.
var figuresMu sync.Mutex

// buildCommand builds the project's command cmd/<name> for the calling test and returns the binary's path.
func buildCommand(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	build := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	build.Dir = repoRoot()
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building cmd/%s: %s", name, out)
	return bin
}
