//go:build integration

// Integration tests: the real pulumi CLI, the real kubernetes provider and a real Kubernetes API server on
// loopback (scripts/cluster). Run them with scripts/test, which builds or reuses the toolchain first.
package tests

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sealedcrypto "github.com/bitnami/sealed-secrets/pkg/crypto"
	"github.com/pulumi/pulumi/pkg/v3/testing/integration"
	"github.com/stretchr/testify/require"
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

// kubeconfig is the local control plane's, started by TestMain; policyPack is the compiled policy pack.
var kubeconfig, policyPack string

// sealingCert is the PEM certificate every test stack seals its secrets with, and sealingKey its private key
// (the Sealed Secrets controller's, which tests use to prove what was sealed).
var (
	sealingCert string
	sealingKey  *rsa.PrivateKey
)

// testSecrets are the secret config values of every test stack of the program. Each is easy to search for: a
// test proves none of them appears in plain text in state, outputs or rendered files.
var testSecrets = map[string]string{
	"slackWebhookUrl": "https://hooks.slack.com/services/TPLATFORM/BTEST/plaintextSlackWebhook7Qx",
	"dnsApiToken":     "plaintextDnsToken4Rw",
	"secretBundles":   `{"sample-service":{"token":"plaintextBundleToken9Kz"}}`,
}

// plaintexts are the secret values themselves, as they would appear if one leaked.
var plaintexts = []string{"plaintextSlackWebhook7Qx", "plaintextDnsToken4Rw", "plaintextBundleToken9Kz"}

// platformConfig is the plain config of a program stack attached to the local control plane as env.
func platformConfig(env string) map[string]string {
	return map[string]string{
		"environment":              env,
		"clusterMode":              "attach",
		"kubeconfigPath":           kubeconfig,
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
	packDir, err := os.MkdirTemp("", "lke-platform-policy")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(packDir)
	if sealingCert, sealingKey, err = newSealingKey(packDir); err != nil {
		fmt.Fprintf(os.Stderr, "making the sealing key: %v\n", err)
		os.Exit(1)
	}
	policyPack = filepath.Join(packDir, "lke-platform-policy")
	build := exec.Command("go", "build", "-o", policyPack, "./policy")
	build.Dir, build.Stderr = repoRoot(), os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the policy pack: %v\n", err)
		os.Exit(1)
	}

	const cluster = "lke-platform-test"
	out, err := exec.Command(filepath.Join(repoRoot(), "scripts", "cluster"), "up", cluster).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the local control plane: %v\n", err)
		os.Exit(1)
	}
	kubeconfig = strings.TrimSpace(string(out))
	code := m.Run()
	for _, dir := range renderedDir {
		os.RemoveAll(dir)
	}
	if os.Getenv("LKE_PLATFORM_KEEP_CLUSTER") == "" {
		_ = exec.Command(filepath.Join(repoRoot(), "scripts", "cluster"), "down", cluster).Run()
	}
	os.Exit(code)
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

// baseOptions are the ProgramTest options every test shares: local file state, the built kubernetes plugin,
// no network, and the program attached to the local control plane as environment env.
func baseOptions(t *testing.T, env string) *integration.ProgramTestOptions {
	t.Helper()
	// ProgramTest copies Go programs under $GOPATH/src; keep the module cache where it is.
	modcache := goEnv(t, "GOMODCACHE")
	t.Setenv("GOMODCACHE", modcache)
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("GOFLAGS", "-mod=mod -trimpath") // -trimpath: see scripts/env.sh

	state := t.TempDir()
	return &integration.ProgramTestOptions{
		Dir:            programDir(t),
		StackName:      "it-" + env,
		CloudURL:       "file://" + state,
		Config:         platformConfig(env),
		Secrets:        testSecrets,
		LocalProviders: []integration.LocalDependency{{Package: "kubernetes", Path: os.Getenv("LKE_PLATFORM_KUBERNETES_PLUGIN_DIR")}},
		Env: []string{
			"PULUMI_SKIP_UPDATE_CHECK=true",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
			// The test's own state: never the clone's (scripts/env.sh points PULUMI_BACKEND_URL there).
			"PULUMI_BACKEND_URL=file://" + state,
			"PULUMI_CONFIG_PASSPHRASE=integration-test-only",
			"PULUMI_CONFIG_PASSPHRASE_FILE=",
			"GOPATH=" + os.Getenv("GOPATH"),
			"GOMODCACHE=" + modcache,
		},
		// Every preview and update runs the policy pack, as CI and the README's main command do.
		PreviewCommandlineFlags: []string{"--policy-pack", policyPack},
		UpdateCommandlineFlags:  []string{"--policy-pack", policyPack},
		SkipExportImport:        true,
		// The tests share one control plane and set GOPATH for ProgramTest: one at a time.
		NoParallel:                      true,
		RequireEmptyPreviewAfterRefresh: true,
		Verbose:                         testing.Verbose(),
	}
}

func goEnv(t *testing.T, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// kubectl runs kubectl against the local control plane and returns its standard output.
func kubectl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// get reads one object (or, with an empty name, the list of them) back from the API server into its
// Kubernetes API type.
func get[T any](t *testing.T, kind, namespace, name string) T {
	t.Helper()
	args := []string{"get", kind, "-o", "json"}
	if name != "" {
		args = append(args, name)
	}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	out, err := kubectl(t, args...)
	require.NoError(t, err)
	var obj T
	require.NoError(t, json.Unmarshal(out, &obj))
	return obj
}
