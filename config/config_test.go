package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stack returns the real values of a committed stack plus the secrets and certificate an operator sets, with
// overrides applied (an empty override unsets a key). Every key of SecretKeys counts as set with --secret.
func stack(t *testing.T, name string, overrides map[string]string) Source {
	t.Helper()
	values, err := StackValues("..", name)
	require.NoError(t, err)
	cert := filepath.Join(t.TempDir(), "sealed-secrets.pem")
	require.NoError(t, os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600))
	values["sealedSecretsCertificate"] = cert
	values["slackWebhookUrl"] = "https://hooks.slack.com/services/T0/B0/SLACK-SECRET"
	values["slackPagerWebhookUrl"] = "https://hooks.slack.com/services/T0/B1/PAGER-SECRET-v6Lq"
	values["grafanaAdminPassword"] = "GRAFANA-SECRET-w8Kp3Xv7Qz2Rm"
	values["dnsApiToken"] = "DNS-SECRET-k4Qz8Vw2Lp7Rm3Xt"
	values["secretBundles"] = `{"sample-service":{"token":"BUNDLE-SECRET-q7Vx2LmR8tNw4PzK"}}`
	for k, v := range overrides {
		values[k] = v
		if v == "" {
			delete(values, k)
		}
	}
	return Source{
		Stack:    name,
		Get:      func(key string) (string, bool) { v, ok := values[key]; return v, ok },
		IsSecret: func(key string) bool { return slices.Contains(SecretKeys, key) },
	}
}

func TestEveryCommittedStackIsValid(t *testing.T) {
	for _, name := range Environments {
		t.Run(name, func(t *testing.T) {
			env, err := Parse(stack(t, name, nil), "..")
			require.NoError(t, err)
			assert.Equal(t, name, env.Name)
			assert.Equal(t, "fr-par", env.Region)
			assert.Equal(t, Create, env.Cluster.Mode)
			assert.Equal(t, "platform-"+name, env.Cluster.Label)
			assert.Equal(t, "g6-standard-8", env.Cluster.BaselinePool.Type)
			assert.Equal(t, 10, env.Cluster.BaselinePool.Max)
			assert.Equal(t, []string{name + "-apps"}, env.Namespaces)
			assert.Equal(t, 30, env.Sizing.Services)
			assert.Equal(t, name == Production, env.Protected())
			assert.Equal(t, name == Production, env.Cluster.HighAvailability)
			assert.Equal(t, name == System, env.GPUPool != nil)
		})
	}
}

func TestSpecValuesPerStack(t *testing.T) {
	dev, err := Parse(stack(t, Development, nil), "..")
	require.NoError(t, err)
	assert.Equal(t, "531921", dev.Cluster.ImportID)
	assert.Equal(t, NodePool{Type: "g6-standard-8", Count: 3, Min: 3, Max: 10}, dev.Cluster.BaselinePool)

	prod, err := Parse(stack(t, Production, nil), "..")
	require.NoError(t, err)
	assert.Equal(t, "531922", prod.Cluster.ImportID)
	assert.Equal(t, NodePool{Type: "g6-standard-8", Count: 6, Min: 6, Max: 10}, prod.Cluster.BaselinePool)

	sys, err := Parse(stack(t, System, nil), "..")
	require.NoError(t, err)
	assert.Equal(t, &GPUPool{Type: "g1-gpu-rtx6000-1", Count: 2}, sys.GPUPool)
}

func TestRegionOverride(t *testing.T) {
	env, err := Parse(stack(t, Staging, map[string]string{"regionOverrides": `{"staging":"nl-ams","production":"de-fra-2"}`}), "..")
	require.NoError(t, err)
	assert.Equal(t, "nl-ams", env.Region)
	env, err = Parse(stack(t, Development, map[string]string{"regionOverrides": `{"staging":"nl-ams"}`}), "..")
	require.NoError(t, err)
	assert.Equal(t, "fr-par", env.Region)
}

func TestAttachMode(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	env, err := Parse(stack(t, Development, map[string]string{
		"clusterMode": "attach", "importClusterId": "", "kubeconfigPath": kubeconfig, "kubeContext": "kwok-local",
	}), "..")
	require.NoError(t, err)
	assert.Equal(t, Attach, env.Cluster.Mode)
	assert.Equal(t, kubeconfig, env.Cluster.KubeconfigPath)
	assert.Equal(t, "kwok-local", env.Cluster.KubeContext)

	env, err = Parse(stack(t, Staging, map[string]string{"clusterMode": "attach", "kubeconfig": "apiVersion: v1"}), "..")
	require.NoError(t, err)
	assert.Equal(t, "apiVersion: v1", env.Cluster.Kubeconfig)

	// An attached cluster's control plane is not the program's: production's HA requirement does not apply.
	_, err = Parse(stack(t, Production, map[string]string{
		"clusterMode": "attach", "importClusterId": "", "highAvailability": "false", "kubeconfigPath": kubeconfig,
	}), "..")
	require.NoError(t, err)
}

func TestInvalidConfigNamesKeyValueAndWhatIsAllowed(t *testing.T) {
	cases := []struct {
		name      string
		stack     string
		overrides map[string]string
		want      string
	}{
		{"unknown environment", Development, map[string]string{"environment": "qa"},
			`lke-platform:environment = "qa" is not allowed; want one of development, staging, production, system`},
		{"missing environment", Development, map[string]string{"environment": ""},
			`lke-platform:environment is not set; want one of development, staging, production, system`},
		{"unknown region", Development, map[string]string{"defaultRegion": "mars-1"},
			`lke-platform:defaultRegion = "mars-1" is not allowed; want one of`},
		{"override for unknown environment", Development, map[string]string{"regionOverrides": `{"qa":"fr-par"}`},
			`lke-platform:regionOverrides.qa = "qa" is not allowed; want an environment`},
		{"override to unknown region", Development, map[string]string{"regionOverrides": `{"development":"mars-1"}`},
			`lke-platform:regionOverrides.development = "mars-1" is not allowed; want a Linode region`},
		{"unknown mode", Development, map[string]string{"clusterMode": "borrow"},
			`lke-platform:clusterMode = "borrow" is not allowed; want one of create, attach, render`},
		{"import in render mode", Development, map[string]string{"clusterMode": "render"},
			`lke-platform:importClusterId = "531921" is not allowed; want only with clusterMode create (render mode`},
		{"bad domain", Staging, map[string]string{"domain": "example"},
			`lke-platform:domain = "example" is not allowed; want a DNS zone`},
		{"bad acme email", Staging, map[string]string{"acmeEmail": "Ops <ops@example.com>"},
			`lke-platform:acmeEmail = "Ops <ops@example.com>" is not allowed; want a plain e-mail address`},
		{"plain http repository", Staging, map[string]string{"gitopsRepoUrl": "http://git.example.com/x.git"},
			`lke-platform:gitopsRepoUrl = "http://git.example.com/x.git" is not allowed; want the https URL`},
		{"git protocol across a network", Staging, map[string]string{"gitopsRepoUrl": "git://git.example.com/x.git"},
			`lke-platform:gitopsRepoUrl = "git://git.example.com/x.git" is not allowed; want the https URL`},
		{"floating sample image", Staging, map[string]string{"sampleServiceImage": "ghcr.io/platform-eng/sample-service:latest"},
			`lke-platform:sampleServiceImage = "ghcr.io/platform-eng/sample-service:latest" is not allowed; want an image pinned`},
		{"untagged sample image", Staging, map[string]string{"sampleServiceImage": "ghcr.io/platform-eng/sample-service"},
			`lke-platform:sampleServiceImage = "ghcr.io/platform-eng/sample-service" is not allowed`},
		{"no certificate", Staging, map[string]string{"sealedSecretsCertificate": ""},
			`lke-platform:sealedSecretsCertificate is not set`},
		{"missing certificate file", Staging, map[string]string{"sealedSecretsCertificate": "/nonexistent/cert.pem"},
			`lke-platform:sealedSecretsCertificate = "/nonexistent/cert.pem" is not allowed; want a readable PEM file`},
		{"no slack webhook", Staging, map[string]string{"slackWebhookUrl": ""},
			`lke-platform:slackWebhookUrl is not set; want the URL of the Slack incoming webhook of #platform-infra, set as a secret: pulumi config set --secret slackWebhookUrl VALUE`},
		{"slack webhook not https", Staging, map[string]string{"slackWebhookUrl": "http://hooks.example.com/x"},
			`lke-platform:slackWebhookUrl = "(secret, not shown)" is not allowed; want an https URL`},
		{"no dns token", Staging, map[string]string{"dnsApiToken": ""},
			`lke-platform:dnsApiToken is not set; want a Linode API token`},
		{"bundles not json", Staging, map[string]string{"secretBundles": "token=abc"},
			`lke-platform:secretBundles = "(secret, not shown)" is not allowed; want a JSON object`},
		{"bundle without the sample service's", Staging, map[string]string{"secretBundles": `{"other":{"k":"v"}}`},
			`lke-platform:secretBundles.sample-service is not set; want the bundle the sample service mounts`},
		{"bad bundle key", Staging, map[string]string{"secretBundles": `{"sample-service":{"a/b":"v"}}`},
			`lke-platform:secretBundles.sample-service (key 1 of 1, in sorted order) = "(secret, not shown)" is not allowed; want keys of letters`},
		{"bad bundle name", Staging, map[string]string{"secretBundles": `{"sample-service":{"k":"v"},"token: hunter2":{"k":"v"}}`},
			`lke-platform:secretBundles (bundle 2 of 2, in sorted order) = "(secret, not shown)" is not allowed; want bundle names that are DNS labels`},
		{"old kubernetes", Development, map[string]string{"kubernetesVersion": "1.29"},
			`lke-platform:kubernetesVersion = "1.29" is not allowed; want an LKE minor version 1.31 or later`},
		{"unknown node type", Development, map[string]string{"baselinePool": `{"type":"g6-huge-1","count":3,"min":3,"max":6}`},
			`lke-platform:baselinePool.type = "g6-huge-1" is not allowed; want one of g6-standard-2`},
		{"gpu type as baseline", Development, map[string]string{"baselinePool": `{"type":"g1-gpu-rtx6000-1","count":3,"min":3,"max":6}`},
			`lke-platform:baselinePool.type = "g1-gpu-rtx6000-1" is not allowed`},
		{"min above max", Development, map[string]string{"baselinePool": `{"type":"g6-standard-8","count":5,"min":7,"max":5}`},
			`lke-platform:baselinePool.min = "7" is not allowed; want at most baselinePool.max (5)`},
		{"max above 100", Development, map[string]string{"baselinePool": `{"type":"g6-standard-8","count":3,"min":3,"max":101}`},
			`lke-platform:baselinePool.max = "101" is not allowed; want 1..100`},
		{"min below 1", Development, map[string]string{"baselinePool": `{"type":"g6-standard-8","count":1,"min":0,"max":3}`},
			`lke-platform:baselinePool.min = "0" is not allowed; want 1..100`},
		{"count outside bounds", Development, map[string]string{"baselinePool": `{"type":"g6-standard-8","count":11,"min":3,"max":10}`},
			`lke-platform:baselinePool.count = "11" is not allowed; want within the autoscaler bounds 3..10`},
		{"typo inside an object", Development, map[string]string{"baselinePool": `{"type":"g6-standard-8","count":3,"min":3,"maks":6}`},
			`lke-platform:baselinePool = "{\"type\":\"g6-standard-8\",\"count\":3,\"min\":3,\"maks\":6}" is not allowed; want JSON of the shape Pulumi.yaml documents (json: unknown field "maks")`},
		{"gpu outside system", Staging, map[string]string{"gpuPool": `{"enabled":true,"type":"g1-gpu-rtx6000-1","count":2}`},
			`lke-platform:gpuPool.enabled = "true" is not allowed; want only on the system environment (this stack is staging)`},
		{"gpu pool of a cpu type", System, map[string]string{"gpuPool": `{"enabled":true,"type":"g6-standard-8","count":2}`},
			`lke-platform:gpuPool.type = "g6-standard-8" is not allowed; want a GPU node type`},
		{"gpu count", System, map[string]string{"gpuPool": `{"enabled":true,"type":"g1-gpu-rtx6000-1","count":0}`},
			`lke-platform:gpuPool.count = "0" is not allowed; want 1..10 nodes`},
		{"gpu pool in attach mode", System, map[string]string{"clusterMode": "attach", "kubeconfig": "x"},
			`lke-platform:gpuPool.enabled = "true" is not allowed; want only with clusterMode create`},
		{"production without HA", Production, map[string]string{"highAvailability": "false"},
			`lke-platform:highAvailability = "false" is not allowed; want true on production`},
		{"not a boolean", Development, map[string]string{"highAvailability": "yes please"},
			`lke-platform:highAvailability = "yes please" is not allowed; want true or false`},
		{"bad import id", Development, map[string]string{"importClusterId": "lke531921"},
			`lke-platform:importClusterId = "lke531921" is not allowed; want the numeric ID`},
		{"import in attach mode", Development, map[string]string{"clusterMode": "attach", "kubeconfig": "x"},
			`lke-platform:importClusterId = "531921" is not allowed; want only with clusterMode create`},
		{"attach without kubeconfig", Staging, map[string]string{"clusterMode": "attach"},
			`lke-platform:kubeconfigPath is not set; want a kubeconfig file in attach mode`},
		{"attach with a missing file", Staging, map[string]string{"clusterMode": "attach", "kubeconfigPath": "/nonexistent/kubeconfig"},
			`lke-platform:kubeconfigPath = "/nonexistent/kubeconfig" is not allowed; want a readable kubeconfig file: fix the path with ` + "`pulumi config set kubeconfigPath FILE`"},
		{"attach with both", Staging, map[string]string{"clusterMode": "attach", "kubeconfigPath": "/etc/hostname", "kubeconfig": "x"},
			`want either kubeconfigPath or the secret kubeconfig, not both`},
		{"no namespaces", Development, map[string]string{"namespaces": `[]`},
			`lke-platform:namespaces = "[]" is not allowed; want at least one namespace name`},
		{"bad namespace", Development, map[string]string{"namespaces": `["Apps_1"]`},
			`lke-platform:namespaces[0] = "Apps_1" is not allowed; want a DNS label`},
		{"duplicate namespace", Development, map[string]string{"namespaces": `["apps","apps"]`},
			`lke-platform:namespaces[1] = "apps" is not allowed; want a name not already listed`},
		{"services out of range", Development, map[string]string{"servicesPerNamespace": "0"},
			`lke-platform:servicesPerNamespace = "0" is not allowed; want an integer in 1..500`},
		{"headroom not a number", Development, map[string]string{"quotaHeadroomPercent": "lots"},
			`lke-platform:quotaHeadroomPercent = "lots" is not allowed; want an integer in 0..100`},
		{"bad quantity", Development, map[string]string{"serviceProfile": `{"cpuRequest":"a lot","cpuLimit":"1","memoryRequest":"1Gi","memoryLimit":"1Gi","minReplicas":1,"maxReplicas":2}`},
			`lke-platform:serviceProfile.cpuRequest = "a lot" is not allowed; want a Kubernetes quantity`},
		{"limit below request", Development, map[string]string{"serviceProfile": `{"cpuRequest":"1","cpuLimit":"500m","memoryRequest":"1Gi","memoryLimit":"1Gi","minReplicas":1,"maxReplicas":2}`},
			`want CPU limit 500m is below the request 1`},
		{"bad ingress namespace", Development, map[string]string{"ingressNamespace": "Ingress NGINX"},
			`lke-platform:ingressNamespace = "Ingress NGINX" is not allowed; want a namespace name`},
		{"bad tag", Development, map[string]string{"tags": `["ok-tag","x"]`},
			`lke-platform:tags[1] = "x" is not allowed`},
		{"external pool tag on the cluster", System, map[string]string{"tags": `["POOL:external"]`},
			`lke-platform:tags[0] = "POOL:external" is not allowed; want a tag other than pool:external`},
		{"production ACL open to every IPv4 address", Production, map[string]string{"controlPlaneAcl": `["203.0.113.0/28","0.0.0.0/0"]`},
			`lke-platform:controlPlaneAcl[1] = "0.0.0.0/0" is not allowed; want only the ranges that must reach the production API server (CI's and the operators'): 0.0.0.0/0 admits every address on the internet`},
		{"production ACL open to every IPv6 address", Production, map[string]string{"controlPlaneAcl": `["::/0"]`},
			`lke-platform:controlPlaneAcl[0] = "::/0" is not allowed; want only the ranges that must reach the production API server`},
		{"production ACL open in attach mode too", Production, map[string]string{"controlPlaneAcl": `["0.0.0.0/0"]`, "clusterMode": "attach", "importClusterId": "", "kubeconfig": "x"},
			`lke-platform:controlPlaneAcl[0] = "0.0.0.0/0" is not allowed`},
		{"ACL entry not an address", Staging, map[string]string{"controlPlaneAcl": `["ci.example.com"]`},
			`lke-platform:controlPlaneAcl[0] = "ci.example.com" is not allowed; want an IPv4 or IPv6 address or CIDR`},
		{"ACL entry with host bits", Staging, map[string]string{"controlPlaneAcl": `["10.1.2.3/8"]`},
			`lke-platform:controlPlaneAcl[0] = "10.1.2.3/8" is not allowed; want a CIDR with no host bits set, such as 10.0.0.0/8`},
		{"ACL entry listed twice", Staging, map[string]string{"controlPlaneAcl": `["203.0.113.7","203.0.113.7/32"]`},
			`lke-platform:controlPlaneAcl[1] = "203.0.113.7/32" is not allowed; want an address not already listed`},
		{"empty ACL", Staging, map[string]string{"controlPlaneAcl": `[]`},
			`lke-platform:controlPlaneAcl = "[]" is not allowed; want at least one address or CIDR`},
		{"ACL not a list", Staging, map[string]string{"controlPlaneAcl": `"203.0.113.0/28"`},
			`lke-platform:controlPlaneAcl = "\"203.0.113.0/28\"" is not allowed; want JSON of the shape Pulumi.yaml documents`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, err := Parse(stack(t, c.stack, c.overrides), "..")
			require.Error(t, err)
			assert.Nil(t, env)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// A required key that is missing, or set to an empty value by hand (which replaces Pulumi.yaml's default), is
// reported with what is allowed, as a wrong value is: the message says what to set.
func TestMissingOrEmptyKeyListsWhatIsAllowed(t *testing.T) {
	cases := []struct{ key, want string }{
		{"environment", "one of development, staging, production, system"},
		{"defaultRegion", "one of ap-northeast, ap-south"},
		{"clusterMode", "one of create, attach, render"},
		{"kubernetesVersion", "an LKE minor version 1.31 or later, such as 1.33"},
		{"highAvailability", "true or false"},
		{"baselinePool", `an object {"type", "count", "min", "max"}, such as {"type": "g6-standard-8", "count": 3, "min": 3, "max": 10}`},
		{"controlPlaneAcl", "a list of the IPv4/IPv6 addresses or CIDRs allowed to reach the Kubernetes API server (CI's and the operators')"},
		{"namespaces", `a list of namespace names (DNS labels), such as ["apps"]`},
		{"servicesPerNamespace", "an integer in 1..500"},
		{"quotaHeadroomPercent", "an integer in 0..100"},
		{"serviceProfile", `an object {"cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit", "minReplicas", "maxReplicas"}`},
		{"ingressNamespace", "a namespace name (a DNS label)"},
		{"monitoringNamespace", "a namespace name (a DNS label)"},
		{"domain", "a DNS zone served by Linode DNS, such as platform.example.com"},
		{"acmeEmail", "a plain e-mail address for the Let's Encrypt account"},
		{"tracing", "true or false"},
		{"gitopsRepoUrl", "the https URL of the Git repository Argo CD is registered with (or git://127.0.0.1:PORT/… for a local loop)"},
		{"gitopsRevision", "a branch, tag or commit of gitopsRepoUrl, such as main"},
		{"sampleServiceImage", "an image pinned by a tag other than latest or by a digest"},
		{"sealedSecretsCertificate", "a readable PEM file: the Sealed Secrets controller's certificate"},
	}
	for _, c := range cases {
		for _, how := range []string{"missing", "empty"} {
			t.Run(c.key+"/"+how, func(t *testing.T) {
				src := stack(t, Staging, map[string]string{c.key: ""}) // unset
				if how == "empty" {
					get := src.Get
					src.Get = func(key string) (string, bool) {
						if key == c.key {
							return "", true
						}
						return get(key)
					}
				}
				_, err := Parse(src, "..")
				var cfgErr *Error
				require.ErrorAs(t, err, &cfgErr)
				assert.Contains(t, err.Error(), "lke-platform:"+c.key+" is not set; want "+c.want)
				assert.NotContains(t, err.Error(), "Pulumi.yaml declares its default")
				for _, p := range cfgErr.Problems {
					assert.NotEmpty(t, p.Allowed, "%s", p.Key)
				}
			})
		}
	}
}

func TestControlPlaneACL(t *testing.T) {
	env, err := Parse(stack(t, Production, nil), "..")
	require.NoError(t, err)
	assert.Equal(t, ACL{IPv4: []string{"203.0.113.0/28", "198.51.100.0/24"}, IPv6: []string{"2001:db8:ac1::/48"}}, env.Cluster.ControlPlaneACL,
		"Pulumi.yaml's default: CI's and the operators' ranges")

	// Single addresses and CIDRs of both families, kept as written; outside production the API server may be
	// opened on purpose.
	env, err = Parse(stack(t, Staging, map[string]string{"controlPlaneAcl": `["0.0.0.0/0","::/0","203.0.113.7","2001:db8::1"]`}), "..")
	require.NoError(t, err)
	assert.Equal(t, ACL{IPv4: []string{"0.0.0.0/0", "203.0.113.7"}, IPv6: []string{"::/0", "2001:db8::1"}}, env.Cluster.ControlPlaneACL)
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := Parse(stack(t, Development, map[string]string{"environment": "qa", "defaultRegion": "mars-1", "clusterMode": "x"}), "..")
	var cfgErr *Error
	require.ErrorAs(t, err, &cfgErr)
	assert.Len(t, cfgErr.Problems, 3)
	assert.Contains(t, err.Error(), "invalid stack configuration (3 problems")
}

func TestUnknownKeys(t *testing.T) {
	assert.Equal(t, []string{"lke-platform:baselinePol", "lke-platform:region"},
		Unknown([]string{"lke-platform:environment", "lke-platform:region", "linode:url", "lke-platform:baselinePol"}))
	assert.Empty(t, Unknown([]string{"lke-platform:environment", "kubernetes:context"}))
}

func TestKeysMatchPulumiYAML(t *testing.T) {
	values, err := StackValues("..", Development)
	require.NoError(t, err)
	for _, k := range Keys {
		if k == "environment" || slices.Contains(SecretKeys, k) {
			continue // environment is required; secrets are not declared (see Pulumi.yaml)
		}
		assert.Contains(t, values, k, "Pulumi.yaml declares no default for %s", k)
	}
	for k := range values {
		assert.Contains(t, Keys, k, "Pulumi.yaml declares %s, which the program does not read", k)
	}
}

func TestKubeconfigMustBeASecret(t *testing.T) {
	src := stack(t, Staging, map[string]string{"clusterMode": "attach", "kubeconfig": "SECRET-TOKEN"})
	src.IsSecret = func(string) bool { return false }
	_, err := Parse(src, "..")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:kubeconfig = "(plain text, not shown)" is not allowed; want the kubeconfig as an encrypted secret`)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN")
}

func TestEverySecretKeyMustBeEncrypted(t *testing.T) {
	for _, key := range []string{"slackWebhookUrl", "slackPagerWebhookUrl", "grafanaAdminPassword", "dnsApiToken", "secretBundles"} {
		src := stack(t, Staging, nil)
		src.IsSecret = func(k string) bool { return k != key }
		_, err := Parse(src, "..")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "lke-platform:"+key+` = "(plain text, not shown)" is not allowed`)
		assert.Contains(t, err.Error(), "pulumi config set --secret "+key)
		for _, secret := range []string{"SLACK-SECRET", "PAGER-SECRET", "GRAFANA-SECRET", "DNS-SECRET", "BUNDLE-SECRET"} {
			assert.NotContains(t, err.Error(), secret)
		}
	}
}

// A malformed name or key inside secretBundles may be a value pasted in the wrong place: the error names its
// position, never the text.
func TestMalformedSecretBundlesNeverQuoteTheirText(t *testing.T) {
	for _, bundles := range []string{
		`{"sample-service":{"k":"v"},"hunter2 token":{"k":"v"}}`,
		`{"sample-service":{"password=hunter2":"v"}}`,
		`{"sample-service":{"k":"v"},"Hunter2":{}}`,
	} {
		_, err := Parse(stack(t, Staging, map[string]string{"secretBundles": bundles}), "..")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"(secret, not shown)"`)
		assert.NotContains(t, strings.ToLower(err.Error()), "hunter2")
	}
}

func TestRenderModeWritesUnderGenerated(t *testing.T) {
	env, err := Parse(stack(t, Staging, map[string]string{"clusterMode": "render"}), "/project")
	require.NoError(t, err)
	assert.Equal(t, Render, env.Cluster.Mode)
	assert.Equal(t, "/project/generated/staging", env.Cluster.RenderDirectory)
	assert.Equal(t, "sample.staging.lke.example.com", env.Host("sample"))
	assert.Equal(t, map[string]map[string]string{"sample-service": {"token": "BUNDLE-SECRET-q7Vx2LmR8tNw4PzK"}}, env.Secrets.Bundles)
}

func TestSecretsNeverPrinted(t *testing.T) {
	_, err := Parse(stack(t, Staging, map[string]string{"clusterMode": "attach", "kubeconfig": "SECRET-TOKEN", "kubeconfigPath": "/x"}), "..")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN")
}

// The template of development's review stacks (deployments/) renders development: it must never adopt or create
// a cluster, since a review stack is destroyed with its pull request.
func TestReviewTemplateRendersDevelopment(t *testing.T) {
	env, err := Parse(stack(t, "development-review", nil), "..")
	require.NoError(t, err)
	assert.Equal(t, Development, env.Name)
	assert.Equal(t, Render, env.Cluster.Mode)
	assert.Empty(t, env.Cluster.ImportID)
}

func TestParseSizingAgreesWithParse(t *testing.T) {
	src := stack(t, Development, nil)
	env, err := Parse(src, "..")
	require.NoError(t, err)
	sizing, err := ParseSizing(src.Get)
	require.NoError(t, err)
	assert.Equal(t, env.Sizing, sizing)

	_, err = ParseSizing(stack(t, Development, map[string]string{"servicesPerNamespace": "0"}).Get)
	require.EqualError(t, err, "invalid stack configuration (1 problems; fix them with `pulumi config set`):\n"+
		`  - lke-platform:servicesPerNamespace = "0" is not allowed; want an integer in 1..500`)
}

// A stack named after an environment is that environment: its stack file cannot say otherwise (the pack judges it
// by its name). Other stacks (local-…, a team's own) take the environment their config names.
func TestAStackNamedAfterAnEnvironmentIsThatEnvironment(t *testing.T) {
	src := stack(t, Production, map[string]string{"environment": Staging})
	_, err := Parse(src, "..")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:environment = "staging" is not allowed; want "production", the stack's own name`)

	src = stack(t, Staging, nil)
	src.Stack = "local-staging"
	env, err := Parse(src, "..")
	require.NoError(t, err)
	assert.Equal(t, Staging, env.Name)
}

// Secrets are sealed deterministically, so a guessable one could be confirmed from its SealedSecret: each is
// refused by key, never shown.
func TestGuessableSecretsAreRefused(t *testing.T) {
	_, err := Parse(stack(t, Staging, map[string]string{
		"dnsApiToken":          "hunter2hunter2",
		"grafanaAdminPassword": "admin123",
		"secretBundles":        `{"sample-service":{"token":"Password123!","api-key":"Xk3pQ9vL2mN8rT5wY7zB4cF6"},"db":{"user pass":"letmein"}}`,
	}), "..")
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `lke-platform:dnsApiToken = "(secret, not shown)" is not allowed; want a value nobody can guess (at least 64 bits`)
	assert.Contains(t, msg, `lke-platform:grafanaAdminPassword = "(secret, not shown)" is not allowed; want a value nobody can guess`)
	assert.Contains(t, msg, `lke-platform:secretBundles.sample-service.token = "(secret, not shown)" is not allowed; want a value nobody can guess`)
	assert.NotContains(t, msg, "secretBundles.sample-service.api-key", "a random value passes")
	assert.Contains(t, msg, `lke-platform:secretBundles.db (key 1 of 1, in sorted order) = "(secret, not shown)" is not allowed; want a value nobody can guess`,
		"a malformed key is named by its place")
	for _, value := range []string{"hunter2", "Password123", "letmein", "user pass", "admin123"} {
		assert.NotContains(t, msg, value)
	}
	assert.True(t, Guessable("correct horse battery"))
	assert.False(t, Guessable("Xk3pQ9vL2mN8rT5wY7zB4cF6"))
}

// One webhook per Slack channel: a Slack app's webhook posts to its own channel whatever a message names, so the
// same webhook for both would page in #platform-infra. Refused by key, never shown.
func TestThePagerHasAWebhookOfItsOwn(t *testing.T) {
	_, err := Parse(stack(t, Staging, map[string]string{"slackPagerWebhookUrl": "https://hooks.slack.com/services/T0/B0/SLACK-SECRET"}), "..")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:slackPagerWebhookUrl = "(secret, not shown)" is not allowed; want the webhook of #platform-pager, not slackWebhookUrl's`)
	assert.NotContains(t, err.Error(), "SLACK-SECRET")

	_, err = Parse(stack(t, Staging, map[string]string{"slackPagerWebhookUrl": "http://hooks.slack.com/services/T0/B1/PAGER-SECRET-v6Lq"}), "..")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lke-platform:slackPagerWebhookUrl = "(secret, not shown)" is not allowed; want an https URL (the Slack incoming webhook of #platform-pager)`)
	assert.NotContains(t, err.Error(), "PAGER-SECRET")
}

// The local control plane is told by the local GitOps loop's repository: git on the loopback address.
func TestLocalControlPlaneIsTheLocalGitOpsLoop(t *testing.T) {
	for url, local := range map[string]bool{
		"git://127.0.0.1:9418/lke-platform":                true,
		"https://github.com/platform-eng/lke-platform.git": false,
		"https://127.0.0.1/lke-platform.git":               false,
		"":                                                 false,
	} {
		env := &Environment{GitOps: GitOps{RepoURL: url}}
		if got := env.LocalControlPlane(); got != local {
			t.Errorf("%q: LocalControlPlane() = %v, want %v", url, got, local)
		}
	}
}
