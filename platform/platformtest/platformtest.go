// Package platformtest runs the whole program under mocks with a committed stack's configuration plus what an
// operator sets beside it: the sealing certificate (of a test controller) and the secret config.
package platformtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

// Secrets are the test values of the secret keys; tests search for them to prove none leaks.
//
// #nosec G101 -- made-up values for tests, valid nowhere
var Secrets = map[string]string{
	"slackWebhookUrl":      "https://hooks.slack.com/services/TUNIT/BUNIT/unitSlackWebhook2Lp",
	"slackPagerWebhookUrl": "https://hooks.slack.com/services/TUNIT/BPAGE/unitSlackPager7Wd",
	"grafanaAdminPassword": "unitGrafanaAdmin-Hq7vX3pZ9cLw",
	"dnsApiToken":          "unitDnsToken6Tq-Vb9xK2mQ7wLz",
	"secretBundles":        `{"sample-service":{"token":"unitBundleToken3Vs-Rt5nW8cJ2yHd"}}`,
}

// Domain and ACMEEmail stand for an operator's own zone and mailbox (config.Placeholders).
const (
	Domain    = "lke.platform-eng.dev"
	ACMEEmail = "platform-infra@platform-eng.dev"
)

// Plaintexts are the secret values as they would appear if one leaked.
var Plaintexts = []string{"unitSlackWebhook2Lp", "unitSlackPager7Wd", "unitGrafanaAdmin", "unitDnsToken6Tq", "unitBundleToken3Vs"}

// Config is a committed stack's config as the CLI hands it to the program (qualified keys), with the test
// sealing certificate, the secrets and the overrides (unqualified keys; an empty value unsets the key).
// repoRoot is the project directory relative to the test.
func Config(t testing.TB, repoRoot, stack string, overrides map[string]string) map[string]string {
	t.Helper()
	cfg, err := config.StackConfig(repoRoot, stack)
	require.NoError(t, err)
	cert := filepath.Join(t.TempDir(), "sealed-secrets.pem")
	require.NoError(t, os.WriteFile(cert, secretstest.NewController(t).CertPEM, 0o644)) // #nosec G306 -- a public certificate
	cfg[config.Namespace+":sealedSecretsCertificate"] = cert
	for k, v := range Secrets {
		cfg[config.Namespace+":"+k] = v
	}
	// Under mocks the program runs as an update, which a deferred stack (staging, system) refuses: the tests
	// look at what it would register, as a preview does. An update also refuses the committed placeholders of
	// domain and acmeEmail in create mode: the tests set them as an operator does before the first update.
	// Overrides of these keys are kept.
	cfg[config.Namespace+":deferred"] = "false"
	cfg[config.Namespace+":domain"] = Domain
	cfg[config.Namespace+":acmeEmail"] = ACMEEmail
	for k, v := range overrides {
		cfg[config.Namespace+":"+k] = v
		if v == "" {
			delete(cfg, config.Namespace+":"+k)
		}
	}
	return cfg
}

// Run runs program under mocks with cfg as an update, every secret key counting as set with --secret.
func Run(t *testing.T, stack string, cfg map[string]string, program pulumi.RunFunc) (*mocks.Recorder, error) {
	t.Helper()
	return mocks.RunWithSecrets(t, stack, cfg, secretKeys(), program)
}

// Preview is Run as a preview (ctx.DryRun() true).
func Preview(t *testing.T, stack string, cfg map[string]string, program pulumi.RunFunc) (*mocks.Recorder, error) {
	t.Helper()
	return mocks.RunWithSecrets(t, stack, cfg, secretKeys(), program, true)
}

func secretKeys() []string {
	keys := make([]string, 0, len(config.SecretKeys))
	for _, k := range config.SecretKeys {
		keys = append(keys, config.Namespace+":"+k)
	}
	return keys
}
