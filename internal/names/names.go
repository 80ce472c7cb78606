// Package names is the platform's vocabulary, each word defined once: the label that says which environment an
// object belongs to, the "platform-<env>" names of an environment's platform-wide objects, and the DNS-label
// rule that namespaces, environments and release names are checked against. The program, the policy pack, the
// admission policies and the tests all take them from here.
package names

import (
	"regexp"
	"strings"
)

// EnvironmentLabel is the label every object of an environment carries, valued with the environment's name.
const EnvironmentLabel = "platform.lke/environment"

// PartOfLabel and PartOf mark the objects the platform itself declares, through Pulumi or Argo CD (not the add-on
// charts' objects, which keep their own part-of): only the platform's identities may delete them (the admission
// rule platform-objects-kept).
const (
	PartOfLabel = "app.kubernetes.io/part-of"
	PartOf      = "lke-platform"
)

// Platform names an environment's platform-wide object: "platform-<environment>", then each part after a dash,
// as in Platform("staging", "infrastructure") = "platform-staging-infrastructure".
func Platform(environment string, parts ...string) string {
	return strings.Join(append([]string{"platform", environment}, parts...), "-")
}

// DNSLabel matches an RFC 1123 label of at most 63 characters: what Kubernetes accepts as a namespace name.
var DNSLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// HostSuffix is what every public host of an environment ends with: ".<environment>.<domain>" (hosts are
// "<name>.<environment>.<domain>").
func HostSuffix(environment, domain string) string { return "." + Zone(environment, domain) }

// Zone is an environment's DNS zone, <environment>.<domain>: where its hosts live, and all external-dns may write.
func Zone(environment, domain string) string { return environment + "." + domain }

// DNSName matches a DNS name of two labels or more under a top-level domain of letters, such as
// platform.example.com: the platform's DNS zone.
var DNSName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// SampleServiceUpMetric is the gauge the sample service exposes (1 while it serves), which its chart's alert rule
// (charts/sample-service, checked against this by the component's test), the environment's dashboard and the
// smoke check read.
const SampleServiceUpMetric = "sample_service_up"

// MaxReleaseName is the longest name Helm accepts for a release (a DNS label that leaves room for suffixes).
const MaxReleaseName = 53
