package reachability

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bitnami/sealed-secrets/pkg/crypto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/platform"
)

// Stack is the environment of the stack file Pulumi.<stack>.yaml in the project directory dir, as the program
// reads it, with stand-ins for what a stack keeps outside its file: random values for the secret config and a
// sealing certificate made for the run. None of them shapes a NetworkPolicy. The cluster mode is create whatever
// the file says: where the objects go changes nothing in what they are, and attach mode would read a kubeconfig.
func Stack(dir, stack string) (*config.Environment, error) {
	values, err := config.StackValues(dir, stack)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	values["clusterMode"] = string(config.Create)
	for _, key := range []string{"kubeconfigPath", "kubeconfig", "kubeContext"} {
		delete(values, key)
	}
	cert, err := sealingCertificate()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "reachability-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	values["sealedSecretsCertificate"] = filepath.Join(tmp, "sealing.pem")
	if err := os.WriteFile(values["sealedSecretsCertificate"], cert, 0o600); err != nil {
		return nil, err
	}
	secrets, err := standInSecrets()
	if err != nil {
		return nil, err
	}
	for k, v := range secrets {
		values[k] = v
	}
	env, err := config.Parse(config.Source{
		Stack:    stack,
		Get:      func(key string) (string, bool) { v, ok := values[key]; return v, ok },
		IsSecret: func(key string) bool { return slices.Contains(config.SecretKeys, key) },
	}, dir)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	return env, nil
}

// standInSecrets are random values for the secret keys the program requires: random, so that none is a value
// anybody uses, and long enough for the program's guessability check.
func standInSecrets() (map[string]string, error) {
	random := func() (string, error) {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	out := map[string]string{}
	for _, key := range []string{"slackWebhookUrl", "slackPagerWebhookUrl", "grafanaAdminPassword", "dnsApiToken", "token"} {
		v, err := random()
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	out["slackWebhookUrl"] = "https://hooks.slack.com/services/" + out["slackWebhookUrl"]
	out["slackPagerWebhookUrl"] = "https://hooks.slack.com/services/" + out["slackPagerWebhookUrl"]
	bundles, err := json.Marshal(map[string]map[string]string{config.SampleServiceBundle: {"token": out["token"]}})
	if err != nil {
		return nil, err
	}
	delete(out, "token")
	out["secretBundles"] = string(bundles)
	return out, nil
}

// sealingCertificate is a certificate of a key pair made once per process, as the Sealed Secrets controller makes
// its own.
var sealingCertificate = sync.OnceValues(func() ([]byte, error) {
	_, cert, err := crypto.GeneratePrivateKeyAndCert(2048, time.Hour, "reachability")
	if err != nil {
		return nil, fmt.Errorf("a sealing certificate for the run: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), nil
})

// Register runs the program's composition for env under Pulumi's mocks and returns what it registers: the same
// objects an update would send to the cluster, with no cluster and no CLI.
func Register(env *config.Environment, stack string) (*mocks.Recorder, error) {
	rec := &mocks.Recorder{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error { return platform.Compose(ctx, env) },
		pulumi.WithMocks(config.Namespace, stack, rec))
	if err != nil {
		return nil, fmt.Errorf("stack %s under mocks: %w", stack, err)
	}
	return rec, nil
}
