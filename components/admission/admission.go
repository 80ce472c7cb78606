// Package admission provides the Policies component: native Kubernetes ValidatingAdmissionPolicies
// (admissionregistration.k8s.io/v1) with their bindings, which enforce inside the cluster the policy pack's rules on
// workloads (kubectl debug's containers too), NetworkPolicies, Services, Ingresses and Secrets. The pack refuses
// what the program would create; these refuse what anyone else creates in the environment's namespaces, a
// `kubectl apply` that bypasses Pulumi included. One more rule has no counterpart in the pack: only the platform's
// own identities delete the platform's objects (rules.AdmissionOnly).
//
// Each rule is one policy (the CEL below) and one binding (validationActions: [Deny]) scoped by a namespaceSelector
// to the namespaces labelled with the environment, minus the system namespaces. Policies and bindings are
// cluster-scoped, so their names carry the environment: several environments can share one control plane.
package admission

import (
	"fmt"
	"strings"
	"unicode"

	admissionv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/admissionregistration/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/internal/rules"
)

// The rules are the policy pack's that also hold in the cluster (rules.InCluster), named as the pack names them
// (docs/policy.md). The policy and the binding of a rule are both named Name(environment, rule).

// Labels the bindings select namespaces by.
const (
	// EnvironmentLabel is the label the platform puts on every object of an environment, its namespaces included
	// (config.Environment.Labels).
	EnvironmentLabel = names.EnvironmentLabel
	// namespaceNameLabel is set by the API server on every namespace.
	namespaceNameLabel = "kubernetes.io/metadata.name"
)

// Name is the name of a rule's ValidatingAdmissionPolicy and of its binding in an environment.
func Name(environment, rule string) string { return names.Platform(environment, rule) }

// Args configures the environment's admission policies.
type Args struct {
	Environment      string            // the environment's name; its namespaces carry EnvironmentLabel=Environment
	IngressNamespace string            // where the ingress controller runs: the one namespace that may expose traffic
	SystemNamespaces []string          // never bound, whatever their labels (kube-system, ingress, monitoring)
	Labels           map[string]string // the environment's common labels, put on the policies and bindings
	Domain           string            // the DNS zone: the environment's hosts are <name>.<Environment>.<Domain>

	// SecretWriters are the identities (request usernames) that may write literal data into the environment's
	// Secrets: the Sealed Secrets controller, which opens SealedSecrets into Secrets, and the controller manager,
	// which fills service-account token Secrets. Anyone else seals.
	SecretWriters []string

	// Platform are the identities that run the platform (Pulumi's, Argo CD's controller, the cluster's own
	// controllers): the only ones that may delete an object the platform declares (labelled
	// names.PartOfLabel=names.PartOf), so that no access package can delete a namespace's guard rails, the
	// sample service's alert rule or the environment's own namespaces.
	Platform Identities
}

// Identities are request usernames and groups.
type Identities struct {
	Usernames []string
	Groups    []string
}

// Policies is the environment's set of ValidatingAdmissionPolicies and bindings.
type Policies struct {
	pulumi.ResourceState

	// Names are the names of the policies (each binding has its policy's name).
	Names pulumi.StringArrayOutput
	// Bindings put the policies in force; each waits for its policy.
	Bindings []pulumi.Resource
}

// InForce is the resource option that makes a resource wait until every policy is in force. It names the
// bindings themselves: the SDK learns a component's children as they register, asynchronously, so depending on
// the component just after its constructor returns can miss some of them.
func (p *Policies) InForce() pulumi.ResourceOption { return pulumi.DependsOn(p.Bindings) }

// validate checks every name against the DNS-label rule: values put into CEL string literals are checked
// against it, so they cannot break out of the literal.
func (a *Args) validate() error {
	var problems []string
	check := func(what, value string) {
		if !names.DNSLabel.MatchString(value) {
			problems = append(problems, fmt.Sprintf("%s %q is not a valid namespace name (RFC 1123 label)", what, value))
		}
	}
	if a.Environment == "" {
		problems = append(problems, "Environment is empty")
	} else {
		check("Environment", a.Environment)
	}
	check("IngressNamespace", a.IngressNamespace)
	if !names.DNSName.MatchString(a.Domain) {
		problems = append(problems, fmt.Sprintf("Domain %q is not a DNS name", a.Domain))
	}
	if len(a.SystemNamespaces) == 0 {
		problems = append(problems, "SystemNamespaces is empty (kube-system at least)")
	}
	for _, ns := range a.SystemNamespaces {
		check("SystemNamespaces entry", ns)
	}
	// The environment's own namespaces are "<environment>-<name>" (docs/decisions.md, 10): exempting one of them
	// would switch the rules off where the workloads run.
	exempt := func(what, ns string) {
		if a.Environment != "" && strings.HasPrefix(ns, a.Environment+"-") {
			problems = append(problems, fmt.Sprintf("%s %q is one of the environment's own namespaces and cannot be exempt", what, ns))
		}
	}
	if len(a.SecretWriters) == 0 {
		problems = append(problems, "SecretWriters is empty (the Sealed Secrets controller at least, or no sealed secret opens)")
	}
	notAName := func(what, name string) {
		if name == "" || strings.ContainsFunc(name, unicode.IsControl) {
			problems = append(problems, fmt.Sprintf("%s %q is not a username", what, name))
		}
	}
	for _, w := range a.SecretWriters {
		notAName("SecretWriters entry", w)
	}
	if len(a.Platform.Usernames)+len(a.Platform.Groups) == 0 {
		problems = append(problems, "Platform names no identity (then nothing could delete the platform's objects)")
	}
	for _, u := range a.Platform.Usernames {
		notAName("Platform username", u)
	}
	for _, g := range a.Platform.Groups {
		notAName("Platform group", g)
	}
	exempt("IngressNamespace", a.IngressNamespace)
	for _, ns := range a.SystemNamespaces {
		exempt("SystemNamespaces entry", ns)
	}
	if len(problems) > 0 {
		return fmt.Errorf("admission: %s", strings.Join(problems, "; "))
	}
	return nil
}

// New registers the Policies component: for each rule a ValidatingAdmissionPolicy and its binding.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Policies, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	p := &Policies{}
	if err := ctx.RegisterComponentResource("platform:admission:Policies", name, p, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(p)
	labels := pulumi.ToStringMap(args.Labels)

	var names pulumi.StringArray
	for _, r := range append(inCluster(args), platformObjectsKept(args)) {
		objectName := Name(args.Environment, r.name)
		policy, err := admissionv1.NewValidatingAdmissionPolicy(ctx, objectName, &admissionv1.ValidatingAdmissionPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Labels: labels},
			Spec:     policySpec(r),
		}, child)
		if err != nil {
			return nil, err
		}
		policyName := policy.Metadata.Name().Elem()
		binding, err := admissionv1.NewValidatingAdmissionPolicyBinding(ctx, objectName, &admissionv1.ValidatingAdmissionPolicyBindingArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Labels: labels},
			Spec: &admissionv1.ValidatingAdmissionPolicyBindingSpecArgs{
				PolicyName:        policyName,
				ValidationActions: pulumi.StringArray{pulumi.String("Deny")},
				MatchResources:    &admissionv1.MatchResourcesArgs{NamespaceSelector: namespaceSelector(args)},
			},
		}, child)
		if err != nil {
			return nil, err
		}
		p.Bindings = append(p.Bindings, binding)
		names = append(names, policyName)
	}
	p.Names = names.ToStringArrayOutput()
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{"names": p.Names})
}

// namespaceSelector scopes a binding to the environment's namespaces: those labelled EnvironmentLabel=<environment>
// (which the platform's Namespace component sets), never a system namespace even if someone labels it.
// Namespaces of other environments on the same control plane carry another value and are left to their own
// environment's bindings.
func namespaceSelector(args *Args) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchExpressions: metav1.LabelSelectorRequirementArray{
		&metav1.LabelSelectorRequirementArgs{
			Key: pulumi.String(EnvironmentLabel), Operator: pulumi.String("In"),
			Values: pulumi.StringArray{pulumi.String(args.Environment)},
		},
		&metav1.LabelSelectorRequirementArgs{
			Key: pulumi.String(namespaceNameLabel), Operator: pulumi.String("NotIn"),
			Values: pulumi.ToStringArray(args.SystemNamespaces),
		},
	}}
}

func policySpec(r rule) *admissionv1.ValidatingAdmissionPolicySpecArgs {
	operations := r.operations
	if operations == nil {
		operations = []string{"CREATE", "UPDATE"}
	}
	namedRules := func(rs []resources) admissionv1.NamedRuleWithOperationsArray {
		var out admissionv1.NamedRuleWithOperationsArray
		for _, g := range rs {
			out = append(out, &admissionv1.NamedRuleWithOperationsArgs{
				ApiGroups:   pulumi.StringArray{pulumi.String(g.group)},
				ApiVersions: pulumi.StringArray{pulumi.String(g.version)},
				Resources:   pulumi.ToStringArray(g.resources),
				Operations:  pulumi.ToStringArray(operations),
			})
		}
		return out
	}
	conditions := r.matchConditions
	if conditions == nil {
		conditions = []variable{{"not-being-deleted", notBeingDeleted}}
	}
	var matchConditions admissionv1.MatchConditionArray
	for _, c := range conditions {
		matchConditions = append(matchConditions, &admissionv1.MatchConditionArgs{Name: pulumi.String(c.name), Expression: pulumi.String(c.expression)})
	}
	var variables admissionv1.VariableArray
	for _, v := range r.variables {
		variables = append(variables, &admissionv1.VariableArgs{Name: pulumi.String(v.name), Expression: pulumi.String(v.expression)})
	}
	var validations admissionv1.ValidationArray
	for _, v := range r.validations {
		validations = append(validations, &admissionv1.ValidationArgs{
			Expression:        pulumi.String(v.expression),
			Message:           pulumi.String(v.message(r.fix)),
			MessageExpression: pulumi.String(v.messageExpression(r.fix)),
		})
	}
	return &admissionv1.ValidatingAdmissionPolicySpecArgs{
		// A policy that cannot be evaluated refuses: an expression error must not open the door.
		FailurePolicy: pulumi.String("Fail"),
		MatchConstraints: &admissionv1.MatchResourcesArgs{
			ResourceRules: namedRules(r.resources), ExcludeResourceRules: namedRules(r.excluded),
		},
		MatchConditions: matchConditions,
		Variables:       variables,
		Validations:     validations,
	}
}

// rule is one policy: what it matches, the CEL variables its validations use, and what to do about a refusal.
type rule struct {
	name            string
	resources       []resources
	excluded        []resources // matched by resources but left alone
	operations      []string    // CREATE and UPDATE when nil
	matchConditions []variable  // not-being-deleted when nil
	variables       []variable
	validations     []validation
	fix             string // plain text: what to do instead; ends every message after "Fix: "
}

type resources struct {
	group, version string
	resources      []string
}

type variable struct{ name, expression string }

// validation is one CEL check. The refusal reads "<subject>: <problem>. Fix: <fix>".
type validation struct {
	expression string // CEL, true when the object is admitted
	problem    string // CEL string expression: what is wrong with this object, for messageExpression
	summary    string // plain text: the same, without the object's details, for the static message
}

// message is the static fallback, used if messageExpression cannot be evaluated.
func (v validation) message(fix string) string {
	return "The object " + v.summary + ". Fix: " + fix + "."
}

// messageExpression names the object (the subject variable), what is wrong and the fix.
func (v validation) messageExpression(fix string) string {
	return "variables.subject + ': ' + " + v.problem + " + " + celString(". Fix: "+fix+".")
}

// celString is s as a single-quoted CEL string literal.
func celString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// celList is a CEL list literal of strings.
func celList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = celString(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// What the rules match.
var (
	// workloads: Pods and everything with a pod template (CronJobs through their jobTemplate).
	workloads = []resources{
		{"", "v1", []string{"pods", "replicationcontrollers"}},
		{"apps", "v1", []string{"deployments", "statefulsets", "daemonsets", "replicasets"}},
		{"batch", "v1", []string{"jobs", "cronjobs"}},
	}
	// workloadsAndDebugContainers adds the containers `kubectl debug` puts into a running pod: an update of the
	// pod's ephemeralcontainers subresource, whose object is the Pod.
	workloadsAndDebugContainers = append([]resources{{"", "v1", []string{"pods/ephemeralcontainers"}}}, workloads...)
	networkPolicies             = []resources{{"networking.k8s.io", "v1", []string{"networkpolicies"}}}
	services                    = []resources{{"", "v1", []string{"services"}}}
	secrets                     = []resources{{"", "v1", []string{"secrets"}}}
	ingresses                   = []resources{{"networking.k8s.io", "v1", []string{"ingresses"}}}
)

// hostSuffix is what every host of the environment ends with.
func hostSuffix(args *Args) string { return names.HostSuffix(args.Environment, args.Domain) }

// The CEL. Each policy's variables are evaluated lazily, in order, and are visible to its validations and
// message expressions (not to its match conditions).
const (
	// notBeingDeleted (match condition): an object already being deleted is not checked, so that removing a
	// finalizer from an object admitted before the policy existed can never be refused.
	notBeingDeleted = `!has(object.metadata.deletionTimestamp)`

	// subject (variable) names the object in messages, as `Deployment "web" in namespace "staging-apps"`. By the
	// time validating admission runs, a generateName has been expanded into metadata.name.
	subject = `request.kind.kind + ' "' + (has(object.metadata.name) ? object.metadata.name : object.metadata.generateName) + '" in namespace "' + request.namespace + '"'`

	// podSpec (variable) is the pod spec of a workload: a Pod's spec, a CronJob's jobTemplate's pod template, or
	// the pod template of the others. dyn(): the branches are different kinds, checked at run time.
	podSpec = `request.kind.kind == 'Pod' ? dyn(object).spec : ` +
		`request.kind.kind == 'CronJob' ? dyn(object).spec.jobTemplate.spec.template.spec : ` +
		`dyn(object).spec.template.spec`

	// containers (variable) are every container of the pod spec: containers, init containers and the ephemeral
	// containers of `kubectl debug`.
	containers = `variables.podSpec.containers + ` +
		`(has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + ` +
		`(has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])`

	// missingResources (variable): the names of the containers and init containers that do not set all four of
	// requests.cpu, requests.memory, limits.cpu and limits.memory. Ephemeral containers cannot set resources (the
	// API refuses them), so they are not asked to.
	missingResources = `(variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []))` +
		`.filter(c, !(has(c.resources) && has(c.resources.requests) && has(c.resources.limits) && ` +
		`has(c.resources.requests.cpu) && has(c.resources.requests.memory) && ` +
		`has(c.resources.limits.cpu) && has(c.resources.limits.memory))).map(c, c.name)`

	// unpinnedImages (variable): `container "web" image "nginx:latest"` for each container whose image is pinned
	// neither by a sha256 digest nor by a tag other than latest. No tag means latest. A tag is what follows the
	// last ':' when no '/' follows it (an earlier colon belongs to a registry port).
	unpinnedImages = `variables.containers.filter(c, !has(c.image) || !(` +
		`c.image.matches('@sha256:[a-f0-9]{64}$') || ` +
		`(!c.image.contains('@') && c.image.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$') && ` +
		`c.image.substring(c.image.lastIndexOf(':') + 1).lowerAscii() != 'latest')` +
		`)).map(c, 'container "' + c.name + '" image "' + (has(c.image) ? c.image : '') + '"')`

	// foreignHosts (variable): what an Ingress claims outside the environment's subdomain (the hostSuffix
	// variable): a rule without a host (the ingress controller routes every name to it), a host or a TLS host
	// that does not end with the suffix.
	foreignHosts = `(has(object.spec.rules) ? object.spec.rules.filter(r, !has(r.host) || r.host == '' || !r.host.endsWith(variables.hostSuffix))` +
		`.map(r, has(r.host) && r.host != '' ? 'host "' + r.host + '"' : 'a rule without a host (it would take every name)') : []) + ` +
		`(has(object.spec.tls) ? object.spec.tls.filter(t, has(t.hosts) && t.hosts.exists(h, !h.endsWith(variables.hostSuffix)))` +
		`.map(t, 'tls hosts ' + t.hosts.join(', ')) : [])`

	// literalKeys (variable): the keys of a Secret's data and stringData (never the values). The API server folds
	// stringData into data before admission; both are read so that the rule says what it means on its own.
	literalKeys = `(has(object.data) ? object.data.map(k, k) : []) + (has(object.stringData) ? object.stringData.map(k, k) : [])`

	// hostNamespaces (variable): which of hostNetwork, hostPID and hostIPC the pod spec turns on.
	hostNamespaces = `['hostNetwork', 'hostPID', 'hostIPC'].filter(f, f in variables.podSpec && variables.podSpec[f] == true)`

	// privilegedContainers (variable): the names of the containers with securityContext.privileged: true.
	privilegedContainers = `variables.containers.filter(c, has(c.securityContext) && has(c.securityContext.privileged) && ` +
		`c.securityContext.privileged == true).map(c, c.name)`

	// rulesWithoutFrom (variable): how many ingress rules have no `from`, or an empty one; such a rule admits
	// traffic from every source.
	rulesWithoutFrom = `has(object.spec.ingress) ? size(object.spec.ingress.filter(r, !has(r.from) || size(r.from) == 0)) : 0`

	// rulesFromAnyAddress (variable): how many ingress rules admit an ipBlock of the whole IPv4 or IPv6 address
	// space with no exceptions, which is "from everywhere" spelled differently.
	rulesFromAnyAddress = `has(object.spec.ingress) ? size(object.spec.ingress.filter(r, has(r.from) && r.from.exists(p, ` +
		`has(p.ipBlock) && p.ipBlock.cidr in ['0.0.0.0/0', '::/0'] && (!has(p.ipBlock.except) || size(p.ipBlock.except) == 0)))) : 0`

	// inIngressNamespace is true in the ingress controller's namespace, the one place traffic may enter from
	// anywhere (the ingressNamespace variable is the Args' IngressNamespace).
	inIngressNamespace = `request.namespace == variables.ingressNamespace`
)

// inCluster are the environment's policies, in the order of rules.InCluster. Values from the Args enter the CEL only as variables holding literals
// (ingressNamespace, systemNamespaces), checked to be namespace names first.
func inCluster(args *Args) []rule {
	workloadVariables := func(extra ...variable) []variable {
		return append([]variable{{"subject", subject}, {"podSpec", podSpec}, {"containers", containers}}, extra...)
	}
	return []rule{
		{
			name:      rules.ContainerResources,
			resources: workloads,
			variables: workloadVariables(variable{"missingResources", missingResources}),
			validations: []validation{{
				expression: `size(variables.missingResources) == 0`,
				problem:    `'container(s) ' + variables.missingResources.map(n, '"' + n + '"').join(', ') + ' do not set cpu and memory requests and limits'`,
				summary:    "has a container that does not set cpu and memory requests and limits",
			}},
			fix: "set resources.requests and resources.limits, each with cpu and memory, on every container and initContainer " +
				"(within the namespace's LimitRange \"container-limits\")",
		},
		{
			name:      rules.IngressFromEverywhere,
			resources: networkPolicies,
			variables: []variable{{"subject", subject}, {"ingressNamespace", celString(args.IngressNamespace)},
				{"rulesWithoutFrom", rulesWithoutFrom}, {"rulesFromAnyAddress", rulesFromAnyAddress}},
			validations: []validation{
				{
					expression: inIngressNamespace + ` || variables.rulesWithoutFrom == 0`,
					problem:    `'has ' + string(variables.rulesWithoutFrom) + ' ingress rule(s) without from, which admit traffic from every source'`,
					summary:    "has an ingress rule without from, which admits traffic from every source",
				},
				{
					expression: inIngressNamespace + ` || variables.rulesFromAnyAddress == 0`,
					problem:    `'has ' + string(variables.rulesFromAnyAddress) + ' ingress rule(s) admitting ipBlock 0.0.0.0/0 or ::/0, every address'`,
					summary:    "has an ingress rule admitting ipBlock 0.0.0.0/0 or ::/0, every address",
				},
			},
			fix: fmt.Sprintf("name the peers in from (for web traffic, the ingress controller's namespace %q through a "+
				"namespaceSelector on %s); only %q may admit traffic from everywhere", args.IngressNamespace, namespaceNameLabel, args.IngressNamespace),
		},
		exposure(args, rules.LoadBalancers, "LoadBalancer", "which would expose it on a public NodeBalancer"),
		exposure(args, rules.NodePorts, "NodePort", "which opens its port on every node's address, around the ingress controller"),
		exposure(args, rules.ExternalNames, "ExternalName", "which makes the ingress controller a proxy to any name, around the NetworkPolicies"),
		{
			name:      rules.IngressHosts,
			resources: ingresses,
			variables: []variable{{"subject", subject}, {"hostSuffix", celString(hostSuffix(args))}, {"foreignHosts", foreignHosts}},
			validations: []validation{{
				expression: `size(variables.foreignHosts) == 0`,
				problem:    `'claims names outside the environment\'s subdomain ' + variables.hostSuffix.substring(1) + ': ' + variables.foreignHosts.join('; ')`,
				summary:    "is an Ingress claiming names outside its environment's subdomain",
			}},
			fix: "name its hosts <name>" + hostSuffix(args),
		},
		{
			name:      rules.ImagesPinned,
			resources: workloadsAndDebugContainers,
			variables: workloadVariables(variable{"unpinnedImages", unpinnedImages}),
			validations: []validation{{
				expression: `size(variables.unpinnedImages) == 0`,
				problem:    `'image(s) not pinned (no tag means :latest, and :latest moves between builds): ' + variables.unpinnedImages.join(', ')`,
				summary:    "has an image that is not pinned (no tag means :latest, and :latest moves between builds)",
			}},
			fix: "pin the image to a release tag (registry/app:1.4.2) or a digest (registry/app@sha256:...)",
		},
		{
			name:      rules.Privileged,
			resources: workloadsAndDebugContainers,
			variables: workloadVariables(
				variable{"systemNamespaces", celList(args.SystemNamespaces)},
				variable{"hostNamespaces", hostNamespaces},
				variable{"privilegedContainers", privilegedContainers},
			),
			validations: []validation{{
				// The bindings never select a system namespace; the exemption is repeated here so that the
				// policy says what it means on its own.
				expression: `request.namespace in variables.systemNamespaces || ` +
					`(size(variables.hostNamespaces) == 0 && size(variables.privilegedContainers) == 0)`,
				problem: `'runs with node privileges outside the system namespaces (' + variables.systemNamespaces.join(', ') + '): ' + ` +
					`(variables.hostNamespaces.map(f, 'sets ' + f + ': true') + ` +
					`variables.privilegedContainers.map(n, 'container "' + n + '" is privileged')).join('; ')`,
				summary: "runs with node privileges (a privileged container, hostNetwork, hostPID or hostIPC) outside the system namespaces",
			}},
			fix: "drop securityContext.privileged and hostNetwork, hostPID and hostIPC; grant the specific capability the " +
				"container needs instead, or run the component in a system namespace if it is part of the platform",
		},
		{
			name:      rules.LiteralSecrets,
			resources: secrets,
			variables: []variable{{"subject", subject}, {"secretWriters", celList(args.SecretWriters)}, {"literalKeys", literalKeys}},
			validations: []validation{{
				expression: `request.userInfo.username in variables.secretWriters || size(variables.literalKeys) == 0`,
				problem:    `'holds literal data (keys ' + variables.literalKeys.join(', ') + ')'`,
				summary:    "is a Secret holding literal data",
			}},
			fix: "seal the values into a SealedSecret (kubeseal, or secretBundles in the stack's config: docs/secrets.md); " +
				"the Sealed Secrets controller creates the Secret",
		},
	}
}

// exposure is the rule that refuses Services of one type outside the ingress controller's namespace.
func exposure(args *Args, name, serviceType, exposes string) rule {
	return rule{
		name:      name,
		resources: services,
		variables: []variable{{"subject", subject}, {"ingressNamespace", celString(args.IngressNamespace)}},
		validations: []validation{{
			expression: inIngressNamespace + ` || !has(object.spec.type) || object.spec.type != ` + celString(serviceType),
			problem:    celString("is of type " + serviceType + ", " + exposes),
			summary:    "is a Service of type " + serviceType + ", " + exposes,
		}},
		fix: fmt.Sprintf("make it a ClusterIP Service and route to it with an Ingress through the controller in %q", args.IngressNamespace),
	}
}

// platformObjectsKept is the rule that only the platform's identities delete the platform's objects: those
// labelled names.PartOfLabel=names.PartOf, which Pulumi declares (the namespaces and their quota, LimitRange and
// NetworkPolicies, access and these policies) and Argo CD applies from this repository (the sample service's
// objects, its alert rule included). Pods and events are left alone: deleting a pod is how a workload is
// restarted, and its controller makes a new one. Cluster-scoped objects are matched whatever the namespace
// selector says (the API server applies a namespaceSelector to namespaced objects and to Namespaces only), so the
// environment's ClusterRoles and admission policies are kept too.
func platformObjectsKept(args *Args) rule {
	return rule{
		name:       rules.PlatformObjectsKept,
		resources:  []resources{{"*", "*", []string{"*"}}},
		excluded:   []resources{{"", "*", []string{"pods", "events"}}, {"events.k8s.io", "*", []string{"events"}}},
		operations: []string{"DELETE"},
		matchConditions: []variable{{"platform-object",
			`oldObject != null && has(oldObject.metadata.labels) && ` + celString(names.PartOfLabel) + ` in oldObject.metadata.labels && ` +
				`oldObject.metadata.labels[` + celString(names.PartOfLabel) + `] == ` + celString(names.PartOf)}},
		variables: []variable{
			{"subject", deletedSubject},
			{"platformUsernames", celList(args.Platform.Usernames)},
			{"platformGroups", celList(args.Platform.Groups)},
		},
		validations: []validation{{
			expression: `request.userInfo.username in variables.platformUsernames || ` +
				`(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in variables.platformGroups))`,
			problem: celString("is the platform's ("+names.PartOfLabel+"="+names.PartOf+") and only the platform deletes it; ") +
				` + request.userInfo.username + ' is not one of its identities'`,
			summary: "is the platform's (" + names.PartOfLabel + "=" + names.PartOf + ") and only the platform deletes it",
		}},
		fix: "change it through the platform, the stack's configuration (Pulumi) or this repository's charts (Argo CD); " +
			"docs/policy.md says which identities delete the platform's objects",
	}
}

// deletedSubject (variable) names the object of a DELETE, which is oldObject (object is null).
const deletedSubject = `request.kind.kind + ' "' + oldObject.metadata.name + '"' + ` +
	`(request.namespace == '' ? '' : ' in namespace "' + request.namespace + '"')`
