// Package config turns a stack's configuration into one typed, validated Environment.
//
// Every key lives in the project's namespace ("lke-platform:<key>"); Pulumi.yaml declares each one with its type
// and default, and a stack file sets only what differs. Parse reports every problem at once, each naming the key,
// the value and what is allowed, so a bad stack fails its preview before any resource is registered.
package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trustelem/zxcvbn"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/quota"
)

// Namespace is the Pulumi project name, which prefixes every key of this program's config.
const Namespace = "lke-platform"

// The environments the platform knows. Each stack is exactly one of them.
const (
	Development = "development"
	Staging     = "staging"
	Production  = "production"
	System      = "system"
)

// Environments lists every environment in promotion order.
var Environments = []string{Development, Staging, Production, System}

// Mode says where a stack's Kubernetes API comes from.
type Mode string

const (
	// Create makes (or, with importClusterId, adopts) an LKE cluster with the linode provider.
	Create Mode = "create"
	// Attach uses an existing cluster through a kubeconfig; no Linode API call is made.
	Attach Mode = "attach"
	// Render writes every Kubernetes object as YAML under generated/<env>/ for GitOps promotion; no cluster is
	// touched at all.
	Render Mode = "render"
)

// Modes lists every cluster mode.
var Modes = []string{string(Create), string(Attach), string(Render)}

// ExternalPoolTag marks a node pool that is its own LkeNodePool resource (the GPU pool) rather than one of the
// LkeCluster's pools. The cluster lists it in externalPoolTags, so the linode provider leaves such pools out of
// the cluster's pools when it reads the cluster: otherwise a refresh would adopt the GPU pool into the cluster
// and the next update would delete it. The baseline pool must never carry it, so the tags key refuses it.
const ExternalPoolTag = "pool:external"

// SampleServiceBundle is the secret bundle the sample service mounts: every stack must define it, so the
// service proves the secret path end to end.
const SampleServiceBundle = "sample-service"

// Environment is the whole validated configuration of one stack.
type Environment struct {
	Name    string
	Region  string
	Cluster Cluster
	GPUPool *GPUPool // nil unless the stack asks for one (system only)
	// Namespaces are the full names of the environment's workload namespaces ("<env>-<short name>").
	Namespaces          []string
	Sizing              quota.Sizing
	IngressNamespace    string // where the ingress controller runs; namespaces admit traffic from it
	MonitoringNamespace string // where Prometheus runs; namespaces admit its scrapes
	Tags                []string

	Domain    string // DNS zone served by Linode DNS; hosts are "<name>.<env>.<domain>"
	ACMEEmail string // Let's Encrypt account address
	Tracing   bool   // Tempo on this stack
	Deferred  bool   // previewed, never applied (CheckApplied refuses its update)
	// MonthlyBudgetUSD is the most the stack's Linode resources may cost a month at list price (package cost);
	// the policy pack refuses a preview or update over it. 0: no budget.
	MonthlyBudgetUSD   int
	GitOps             GitOps
	Secrets            Secrets
	SampleServiceImage string
	// AccessPackages are the time-limited grants to people (docs/access-control.md), expired ones included:
	// the program leaves those out.
	AccessPackages []AccessPackage
}

// GitOps is the repository Argo CD is registered with.
type GitOps struct {
	RepoURL  string
	Revision string
}

// Secrets are the stack's secret values and the certificate they are sealed with. The values are plaintext in
// memory only: components seal them before anything reaches a resource, state or a rendered file.
type Secrets struct {
	SealingCertificatePath string
	SealingCertificate     []byte // PEM of the Sealed Secrets controller's certificate (public)
	SlackWebhookURL        string // #platform-infra's incoming webhook
	SlackPagerWebhookURL   string // #platform-pager's
	GrafanaAdminPassword   string // sealed into the monitoring namespace; the chart's default password is never used
	DNSToken               string
	// Bundles are named sets of secret values, sealed into the environment's first namespace.
	Bundles map[string]map[string]string
}

// Host is the public host name of a service of the environment.
func (e *Environment) Host(name string) string { return name + names.HostSuffix(e.Name, e.Domain) }

// Cluster describes the LKE cluster (create mode) or the kubeconfig to reach an existing one (attach mode).
type Cluster struct {
	Mode              Mode
	Label             string
	KubernetesVersion string
	HighAvailability  bool
	BaselinePool      NodePool
	// ImportID adopts an existing LKE cluster (the inventory's 531921, 531922) instead of creating one.
	ImportID string
	// Attach mode: a kubeconfig file, or its content from secret config, and optionally a context in it.
	KubeconfigPath string
	Kubeconfig     string // secret: only ever handed to Pulumi wrapped with pulumi.ToSecret
	KubeContext    string
	// Render mode: the folder the YAML goes to, "<project>/generated/<env>".
	RenderDirectory string
	// ControlPlaneACL lists who may reach the LKE API server (create mode: created and adopted clusters).
	ControlPlaneACL ACL
}

// ACL is the allow list of the LKE control plane: the addresses (single, or CIDRs) that may reach the Kubernetes
// API server, as written in the stack's config, split by family as the Linode API takes them. Every other
// address is refused in front of the API server, so a leaked kubeconfig is not enough to reach the cluster.
type ACL struct {
	IPv4 []string
	IPv6 []string
}

// NodePool is an autoscaled LKE node pool.
type NodePool struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
	Min   int    `json:"min"`
	Max   int    `json:"max"`
}

// GPUPool is the GPU node pool for vLLM workloads.
type GPUPool struct {
	Type  string
	Count int
}

// Protected reports whether the stack's resources must be protected from deletion.
func (e *Environment) Protected() bool { return e.Name == Production }

// Labels are the labels every object of the environment carries.
func (e *Environment) Labels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/managed-by": "pulumi",
		names.PartOfLabel:              names.PartOf,
		names.EnvironmentLabel:         e.Name,
	}
}

// Values reads one config key; ok is false when the key is not set at all.
type Values func(key string) (value string, ok bool)

// Source is a stack's configuration: its values, and which of them are encrypted secrets.
type Source struct {
	// Stack is the stack's name. A stack named after an environment must be that environment.
	Stack    string
	Get      Values
	IsSecret func(key string) bool
	// Now is the time access packages' expiries are checked against; nil means time.Now.
	Now func() time.Time
}

// Parse validates the raw values of every key in Keys and builds the Environment. baseDir resolves relative
// kubeconfig paths (the program runs in the project directory).
func Parse(src Source, baseDir string) (*Environment, error) {
	get := src.Get
	p := parser{get: get, isSecret: src.IsSecret}
	env := &Environment{}

	env.Name = p.oneOf("environment", Environments)
	// The policy pack takes such a stack's environment from its name (docs/policy.md): an edit of the stack file
	// must not move production out of production's rules, and the program must not deploy what the pack judges
	// as another environment.
	if named := src.Stack; slices.Contains(Environments, named) && slices.Contains(Environments, env.Name) && env.Name != named {
		p.fail("environment", env.Name, fmt.Sprintf("%q, the stack's own name: a stack named after an environment is that environment", named))
	}

	defaultRegion := p.oneOf("defaultRegion", Regions)
	overrides := map[string]string{}
	p.object("regionOverrides", &overrides)
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		key := "regionOverrides." + name
		if !slices.Contains(Environments, name) {
			p.fail(key, name, "an environment: "+strings.Join(Environments, ", "))
		}
		if !slices.Contains(Regions, overrides[name]) {
			p.fail(key, overrides[name], "a Linode region: "+strings.Join(Regions, ", "))
		}
	}
	env.Region = defaultRegion
	if r, ok := overrides[env.Name]; ok {
		env.Region = r
	}

	c := &env.Cluster
	c.Mode = Mode(p.oneOf("clusterMode", Modes))
	c.Label = names.Platform(env.Name)
	c.KubernetesVersion = p.pattern("kubernetesVersion", kubernetesVersion, "an LKE minor version 1.31 or later, such as 1.33")
	c.HighAvailability = p.boolean("highAvailability")
	// HA is a property of the LKE cluster the program creates; an attached cluster's control plane is not ours.
	if env.Name == Production && c.Mode == Create && !c.HighAvailability {
		p.fail("highAvailability", "false", "true on production: its control plane must be highly available")
	}
	p.requiredObject("baselinePool", &c.BaselinePool, `an object {"type", "count", "min", "max"}, such as {"type": "g6-standard-8", "count": 3, "min": 3, "max": 10}`)
	p.pool("baselinePool", c.BaselinePool, BaselineNodeTypes)

	if id, ok := get("importClusterId"); ok && id != "" {
		if n, err := strconv.Atoi(id); err != nil || n <= 0 {
			p.fail("importClusterId", id, "the numeric ID of an existing LKE cluster, such as 531921")
		} else if c.Mode == Attach {
			p.fail("importClusterId", id, "only with clusterMode create (attach mode never touches the Linode API)")
		}
		if c.Mode == Render {
			id = "" // reported above; render mode has no cluster to adopt
		}
		c.ImportID = id
	}

	c.ControlPlaneACL = p.controlPlaneACL(env.Name)

	c.KubeContext, _ = get("kubeContext")
	switch c.Mode {
	case Attach:
		p.kubeconfig(c, baseDir)
	case Render:
		c.RenderDirectory = filepath.Join(baseDir, "generated", env.Name)
		if id, _ := get("importClusterId"); id != "" {
			p.fail("importClusterId", id, "only with clusterMode create (render mode touches no cluster)")
		}
	}

	var gpu struct {
		Enabled bool   `json:"enabled"`
		Type    string `json:"type"`
		Count   int    `json:"count"`
	}
	p.object("gpuPool", &gpu)
	if gpu.Enabled {
		env.GPUPool = &GPUPool{Type: gpu.Type, Count: gpu.Count}
		switch {
		case env.Name != "" && env.Name != System:
			p.fail("gpuPool.enabled", "true", "only on the system environment (this stack is "+env.Name+")")
		case c.Mode != Create:
			p.fail("gpuPool.enabled", "true", "only with clusterMode create (the pool is added to the LKE cluster the program manages)")
		}
		if !slices.Contains(GPUNodeTypes, gpu.Type) {
			p.fail("gpuPool.type", gpu.Type, "a GPU node type: "+strings.Join(GPUNodeTypes, ", "))
		}
		if gpu.Count < 1 || gpu.Count > 10 {
			p.fail("gpuPool.count", strconv.Itoa(gpu.Count), "1..10 nodes")
		}
	}

	var shortNames []string
	p.requiredObject("namespaces", &shortNames, `a list of namespace names (DNS labels), such as ["apps"]`)
	if len(shortNames) == 0 {
		p.fail("namespaces", "[]", "at least one namespace name")
	}
	for i, n := range shortNames {
		full := env.Name + "-" + n
		if !dnsLabel.MatchString(n) || len(full) > 63 {
			p.fail(fmt.Sprintf("namespaces[%d]", i), n, "a DNS label (lower-case letters, digits, '-') that keeps '<env>-<name>' within 63 characters")
		}
		if slices.Contains(env.Namespaces, full) {
			p.fail(fmt.Sprintf("namespaces[%d]", i), n, "a name not already listed")
		}
		env.Namespaces = append(env.Namespaces, full)
	}
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	env.AccessPackages = p.accessPackages(env.Name, shortNames, now())

	env.Sizing = p.sizing()
	env.IngressNamespace = p.dnsLabel("ingressNamespace")
	env.MonitoringNamespace = p.dnsLabel("monitoringNamespace")
	p.object("tags", &env.Tags)
	for i, t := range env.Tags {
		switch {
		case !tag.MatchString(t):
			p.fail(fmt.Sprintf("tags[%d]", i), t, "3..50 characters of letters, digits, '-', '_', ':' or '.'")
		case strings.EqualFold(t, ExternalPoolTag):
			// The baseline pool carries these tags: with this one the cluster would stop managing it.
			p.fail(fmt.Sprintf("tags[%d]", i), t, "a tag other than "+ExternalPoolTag+" (it marks node pools the cluster leaves to their own resource)")
		}
	}

	env.Domain = p.pattern("domain", dnsName, "a DNS zone served by Linode DNS, such as platform.example.com")
	const acmeEmail = "a plain e-mail address for the Let's Encrypt account, such as platform-infra@example.com"
	env.ACMEEmail = p.str("acmeEmail", acmeEmail)
	if a, err := mail.ParseAddress(env.ACMEEmail); env.ACMEEmail != "" && (err != nil || a.Address != env.ACMEEmail) {
		p.fail("acmeEmail", env.ACMEEmail, acmeEmail)
	}
	env.Tracing = p.boolean("tracing")
	env.Deferred = p.boolean("deferred")
	env.MonthlyBudgetUSD = p.integer(MonthlyBudgetKey, 0, 10_000_000)
	const repoURL = "the https URL of the Git repository Argo CD is registered with (or git://127.0.0.1:PORT/… for a local loop)"
	env.GitOps.RepoURL = p.str("gitopsRepoUrl", repoURL)
	if env.GitOps.RepoURL != "" && !repositoryURL(env.GitOps.RepoURL) {
		p.fail("gitopsRepoUrl", env.GitOps.RepoURL, repoURL)
	}
	env.GitOps.Revision = p.str("gitopsRevision", "a branch, tag or commit of gitopsRepoUrl, such as main")
	const image = "an image pinned by a tag other than latest or by a digest, such as ghcr.io/platform-eng/sample-service:0.1.0"
	env.SampleServiceImage = p.str("sampleServiceImage", image)
	if img := env.SampleServiceImage; img != "" && (!pinnedImage.MatchString(img) || strings.HasSuffix(strings.ToLower(img), ":latest")) {
		p.fail("sampleServiceImage", img, image)
	}
	env.Secrets = p.secrets(baseDir)

	if len(p.errs) > 0 {
		return nil, &Error{Problems: p.errs}
	}
	return env, nil
}

// MinSecretBits is the least strength a secret value may have: log2 of the guesses zxcvbn estimates an
// attacker needs (a random 20-character value of letters and digits has about 66). The program seals
// deterministically (the same value seals to the same SealedSecret, so an unchanged secret changes nothing on
// an update), which lets anyone holding a SealedSecret, as the repository does, confirm a guess offline: only
// values nobody can guess are sealed.
const MinSecretBits = 64

// Guessable reports whether a secret value is weaker than MinSecretBits.
func Guessable(value string) bool {
	return math.Log2(zxcvbn.PasswordStrength(value, nil).Guesses) < MinSecretBits
}

// secrets reads the secret keys. None is declared in Pulumi.yaml (Pulumi treats a declared secret without a
// default as required, and a default cannot be a secret), so the program checks that each one is encrypted. A
// secret's value is never part of a problem: only "(plain text, not shown)" or its absence.
func (p *parser) secrets(baseDir string) Secrets {
	var s Secrets
	const certificate = "a readable PEM file: the Sealed Secrets controller's certificate (kubeseal --fetch-cert > FILE)"
	s.SealingCertificatePath = p.str("sealedSecretsCertificate", certificate)
	if path := s.SealingCertificatePath; path != "" {
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		pem, err := os.ReadFile(path) // #nosec G304 -- the file the stack configuration names, which the operator owns
		if err != nil {
			p.fail("sealedSecretsCertificate", s.SealingCertificatePath, certificate)
		}
		s.SealingCertificate = pem
	}

	secret := func(key, what string) string {
		v, ok := p.get(key)
		switch {
		case !ok || v == "":
			p.fail(key, "", what+", set as a secret: pulumi config set --secret "+key+" VALUE")
			return ""
		case !p.isSecret(key):
			p.fail(key, "(plain text, not shown)", what+" as an encrypted secret: pulumi config set --secret "+key+" VALUE")
			return ""
		}
		return v
	}
	// unguessable refuses a value an attacker could guess, by key only.
	unguessable := func(key, value string) {
		if value != "" && Guessable(value) {
			p.fail(key, "(secret, not shown)", fmt.Sprintf("a value nobody can guess (at least %d bits by zxcvbn's estimate, "+
				"e.g. openssl rand -base64 32): secrets are sealed deterministically, so a guessed value could be confirmed "+
				"against its SealedSecret", MinSecretBits))
		}
	}
	// One webhook per channel: a Slack app's incoming webhook posts to the channel it was made for, whatever
	// channel a message names.
	webhook := func(key, channel string) string {
		v := secret(key, "the URL of the Slack incoming webhook of "+channel)
		if u, err := url.Parse(v); v != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
			p.fail(key, "(secret, not shown)", "an https URL (the Slack incoming webhook of "+channel+")")
		} else {
			unguessable(key, v)
		}
		return v
	}
	s.SlackWebhookURL = webhook("slackWebhookUrl", "#platform-infra")
	s.SlackPagerWebhookURL = webhook("slackPagerWebhookUrl", "#platform-pager")
	if s.SlackPagerWebhookURL != "" && s.SlackPagerWebhookURL == s.SlackWebhookURL {
		p.fail("slackPagerWebhookUrl", "(secret, not shown)", "the webhook of #platform-pager, not slackWebhookUrl's "+
			"(a Slack app's webhook posts to its own channel only: one webhook would page in #platform-infra)")
	}
	s.GrafanaAdminPassword = secret("grafanaAdminPassword", "the password of Grafana's admin user")
	unguessable("grafanaAdminPassword", s.GrafanaAdminPassword)
	s.DNSToken = secret("dnsApiToken", "a Linode API token with Domains read/write, for external-dns")
	unguessable("dnsApiToken", s.DNSToken)

	raw := secret("secretBundles", `the secret bundles as a JSON object {"<bundle>": {"<key>": "<value>"}} including "`+SampleServiceBundle+`"`)
	if raw == "" {
		return s
	}
	if err := json.Unmarshal([]byte(raw), &s.Bundles); err != nil {
		// json's message can quote the input: never show it.
		p.fail("secretBundles", "(secret, not shown)", `a JSON object {"<bundle>": {"<key>": "<value>"}} of strings`)
		return s
	}
	// Names and keys are part of the secret value: one that is malformed may be a value pasted in the wrong
	// place, so it is named by its position (in sorted order), never quoted.
	for i, name := range slices.Sorted(maps.Keys(s.Bundles)) {
		bundle := "secretBundles." + name
		if !dnsLabel.MatchString(name) {
			bundle = fmt.Sprintf("secretBundles (bundle %d of %d, in sorted order)", i+1, len(s.Bundles))
			p.fail(bundle, "(secret, not shown)", "bundle names that are DNS labels (they name a Secret)")
		}
		if len(s.Bundles[name]) == 0 {
			p.fail(bundle, "{}", "at least one key")
		}
		keys := slices.Sorted(maps.Keys(s.Bundles[name]))
		for j, key := range keys {
			where := bundle + "." + key
			if !secretKey.MatchString(key) || !strings.HasPrefix(bundle, "secretBundles.") {
				where = fmt.Sprintf("%s (key %d of %d, in sorted order)", bundle, j+1, len(keys))
			}
			if !secretKey.MatchString(key) {
				p.fail(where, "(secret, not shown)", "keys of letters, digits, '-', '_' and '.' (a Secret's keys)")
			}
			unguessable(where, s.Bundles[name][key])
		}
	}
	if _, ok := s.Bundles[SampleServiceBundle]; !ok {
		p.fail("secretBundles."+SampleServiceBundle, "", "the bundle the sample service mounts (any keys), e.g. pulumi config set --secret --path 'secretBundles."+SampleServiceBundle+".token' VALUE")
	}
	return s
}

// Unknown returns the keys of this program's namespace that are set but not known to it (typos, mostly).
// all is every config key the stack sets, qualified ("lke-platform:clusterMode").
func Unknown(all []string) []string {
	var unknown []string
	for _, k := range all {
		name, ok := strings.CutPrefix(k, Namespace+":")
		if ok && !slices.Contains(Keys, name) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// MonthlyBudgetKey is the key of a stack's monthly budget in US dollars; the policy pack reads it too.
const MonthlyBudgetKey = "monthlyBudgetUsd"

// Keys are every key this program reads, as declared in Pulumi.yaml.
var Keys = []string{
	"environment", "defaultRegion", "regionOverrides", "clusterMode", "kubernetesVersion", "highAvailability",
	"baselinePool", "gpuPool", "importClusterId", "controlPlaneAcl", "kubeconfigPath", "kubeconfig", "kubeContext", "namespaces",
	"servicesPerNamespace", "serviceProfile", "quotaHeadroomPercent", "ingressNamespace", "monitoringNamespace", "tags",
	"domain", "acmeEmail", "tracing", "deferred", MonthlyBudgetKey, "gitopsRepoUrl", "gitopsRevision", "sampleServiceImage", "sealedSecretsCertificate",
	"slackWebhookUrl", "slackPagerWebhookUrl", "grafanaAdminPassword", "dnsApiToken", "secretBundles", "accessPackages",
}

// SecretKeys are the keys that must be set with --secret; Pulumi.yaml does not declare them (see secrets).
var SecretKeys = []string{"kubeconfig", "slackWebhookUrl", "slackPagerWebhookUrl", "grafanaAdminPassword", "dnsApiToken", "secretBundles"}

// Problem is one invalid value: which key, what it was, and what is allowed instead.
type Problem struct {
	Key     string
	Value   string
	Allowed string
}

func (p Problem) String() string {
	if p.Value == "" {
		return fmt.Sprintf("%s:%s is not set; want %s", Namespace, p.Key, p.Allowed)
	}
	return fmt.Sprintf("%s:%s = %q is not allowed; want %s", Namespace, p.Key, p.Value, p.Allowed)
}

// Error lists every problem of a stack's configuration.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid stack configuration (%d problems; fix them with `pulumi config set`):", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  - "+p.String())
	}
	return strings.Join(lines, "\n")
}

var (
	kubernetesVersion = regexp.MustCompile(`^1\.(3[1-9]|[4-9][0-9])$`)
	dnsLabel          = names.DNSLabel
	tag               = regexp.MustCompile(`^[A-Za-z0-9_.:-]{3,50}$`)
	dnsName           = names.DNSName
	secretKey         = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	// An image with a tag that is not "latest", or with a digest (the policy pack's images-pinned says why).
	pinnedImage = regexp.MustCompile(`^[^\s@]+(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$`)
)

type parser struct {
	get      Values
	isSecret func(key string) bool
	errs     []Problem
}

func (p *parser) fail(key, value, allowed string) {
	p.errs = append(p.errs, Problem{Key: key, Value: value, Allowed: allowed})
}

// str reads a key that must have a value. A missing or empty one is reported with allowed, the same words as a
// wrong value gets: whoever fixes the stack needs to know what to set, not only that something is missing (a key
// such as environment has no default to fall back on, and an empty value set by hand replaces the default).
func (p *parser) str(key, allowed string) string {
	v, ok := p.get(key)
	if !ok || v == "" {
		p.fail(key, "", allowed)
	}
	return v
}

// pattern is str for values that must match re.
func (p *parser) pattern(key string, re *regexp.Regexp, allowed string) string {
	v := p.str(key, allowed)
	if v != "" && !re.MatchString(v) {
		p.fail(key, v, allowed)
	}
	return v
}

func (p *parser) oneOf(key string, allowed []string) string {
	want := "one of " + strings.Join(allowed, ", ")
	v := p.str(key, want)
	if v != "" && !slices.Contains(allowed, v) {
		p.fail(key, v, want)
	}
	return v
}

func (p *parser) dnsLabel(key string) string {
	return p.pattern(key, dnsLabel, "a namespace name (a DNS label)")
}

func (p *parser) boolean(key string) bool {
	v := p.str(key, "true or false")
	b, err := strconv.ParseBool(v)
	if v != "" && err != nil {
		p.fail(key, v, "true or false")
	}
	return b
}

func (p *parser) integer(key string, lo, hi int) int {
	want := fmt.Sprintf("an integer in %d..%d", lo, hi)
	v := p.str(key, want)
	n, err := strconv.Atoi(v)
	if v != "" && (err != nil || n < lo || n > hi) {
		p.fail(key, v, want)
	}
	return n
}

// requiredObject is object for a key that must be set; a missing or empty one is reported with allowed.
func (p *parser) requiredObject(key string, into any, allowed string) {
	if v, ok := p.get(key); !ok || v == "" {
		p.fail(key, "", allowed)
		return
	}
	p.object(key, into)
}

// object decodes a JSON-valued key strictly: an unknown field inside it is a problem too, not silently dropped.
// A key that is not set leaves into as it is.
func (p *parser) object(key string, into any) {
	v, ok := p.get(key)
	if !ok || v == "" {
		return
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		p.fail(key, v, "JSON of the shape Pulumi.yaml documents ("+err.Error()+")")
	}
}

func (p *parser) pool(key string, pool NodePool, types []string) {
	if !slices.Contains(types, pool.Type) {
		p.fail(key+".type", pool.Type, "one of "+strings.Join(types, ", "))
	}
	if pool.Min < 1 || pool.Min > 100 {
		p.fail(key+".min", strconv.Itoa(pool.Min), "1..100 (the LKE autoscaler's bounds)")
	}
	if pool.Max < 1 || pool.Max > 100 {
		p.fail(key+".max", strconv.Itoa(pool.Max), "1..100 (the LKE autoscaler's bounds)")
	}
	if pool.Min > pool.Max {
		p.fail(key+".min", strconv.Itoa(pool.Min), fmt.Sprintf("at most %s.max (%d)", key, pool.Max))
	}
	if pool.Count < pool.Min || pool.Count > pool.Max {
		p.fail(key+".count", strconv.Itoa(pool.Count), fmt.Sprintf("within the autoscaler bounds %d..%d", pool.Min, pool.Max))
	}
}

func (p *parser) kubeconfig(c *Cluster, baseDir string) {
	path, hasPath := p.get("kubeconfigPath")
	content, hasContent := p.get("kubeconfig")
	hasPath, hasContent = hasPath && path != "", hasContent && content != ""
	switch {
	case hasPath && hasContent:
		p.fail("kubeconfigPath", path, "either kubeconfigPath or the secret kubeconfig, not both")
	case !hasPath && !hasContent:
		p.fail("kubeconfigPath", "", "a kubeconfig file in attach mode (or the kubeconfig itself: `pulumi config set --secret kubeconfig < FILE`)")
	case hasPath:
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			p.fail("kubeconfigPath", path, "a readable kubeconfig file: fix the path with `pulumi config set kubeconfigPath FILE` (locally, scripts/cluster up starts the control plane and prints its kubeconfig)")
		}
		c.KubeconfigPath = path
	case !p.isSecret("kubeconfig"):
		// The value itself is never printed: it holds credentials.
		p.fail("kubeconfig", "(plain text, not shown)", "the kubeconfig as an encrypted secret: pulumi config set --secret kubeconfig < FILE")
	default:
		c.Kubeconfig = content
	}
}

// ParseSizing validates only the keys that size a namespace (servicesPerNamespace, serviceProfile,
// quotaHeadroomPercent), for tools that build namespaces the way an environment does without the rest of its
// configuration (the capacity harness).
func ParseSizing(get Values) (quota.Sizing, error) {
	p := parser{get: get, isSecret: func(string) bool { return false }}
	s := p.sizing()
	if len(p.errs) > 0 {
		return quota.Sizing{}, &Error{Problems: p.errs}
	}
	return s, nil
}

func (p *parser) sizing() quota.Sizing {
	before := len(p.errs)
	s := quota.Sizing{
		Services:        p.integer("servicesPerNamespace", 1, 500),
		HeadroomPercent: p.integer("quotaHeadroomPercent", 0, 100),
	}
	var prof struct {
		CPURequest    string `json:"cpuRequest"`
		CPULimit      string `json:"cpuLimit"`
		MemoryRequest string `json:"memoryRequest"`
		MemoryLimit   string `json:"memoryLimit"`
		MinReplicas   int    `json:"minReplicas"`
		MaxReplicas   int    `json:"maxReplicas"`
	}
	p.requiredObject("serviceProfile", &prof, `an object {"cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit", "minReplicas", "maxReplicas"}, such as {"cpuRequest": "100m", "cpuLimit": "500m", "memoryRequest": "128Mi", "memoryLimit": "256Mi", "minReplicas": 1, "maxReplicas": 3}`)
	q := func(field, v string) resource.Quantity {
		parsed, err := resource.ParseQuantity(v)
		if err != nil {
			p.fail("serviceProfile."+field, v, "a Kubernetes quantity such as 250m or 256Mi")
		}
		return parsed
	}
	s.Profile = quota.Profile{
		CPURequest: q("cpuRequest", prof.CPURequest), CPULimit: q("cpuLimit", prof.CPULimit),
		MemoryRequest: q("memoryRequest", prof.MemoryRequest), MemoryLimit: q("memoryLimit", prof.MemoryLimit),
		MinReplicas: prof.MinReplicas, MaxReplicas: prof.MaxReplicas,
	}
	if len(p.errs) == before {
		if err := s.Validate(); err != nil {
			p.fail("serviceProfile", fmt.Sprintf("%+v", prof), err.Error())
		}
	}
	return s
}

// LocalControlPlane reports whether the stack deploys onto the local control plane (scripts/cluster: kwok's fake
// nodes, where no pod really runs): its Argo CD repository is the local GitOps loop's git daemon on the loopback
// address (internal/localargocd), which nothing but the local Argo CD processes beside that control plane can
// read, and which repositoryURL accepts nowhere else. A stack on LKE, in either mode, names an https repository.
// The charts' values turn off there what only a running pod could serve: the admission webhooks.
func (e *Environment) LocalControlPlane() bool {
	u, err := url.Parse(e.GitOps.RepoURL)
	return err == nil && u.Scheme == "git" && u.Hostname() == "127.0.0.1"
}

// repositoryURL reports whether raw is a repository Argo CD may read: https, or the unauthenticated git protocol
// on the loopback address only (the local GitOps loop, internal/localargocd), never across a network.
func repositoryURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "git":
		return u.Hostname() == "127.0.0.1"
	}
	return false
}
