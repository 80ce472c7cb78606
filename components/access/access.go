// Package access provides the Packages component: the environment's access packages, each a ServiceAccount
// "access-<name>" and a RoleBinding per granted namespace: to Kubernetes' built-in view ClusterRole, or to the
// environment's own edit role (EditRoleName), which is built-in edit less what would let a package widen itself.
// Kubernetes RBAC has no expiry, so the end of a package is enforced twice: its tokens are TokenRequest tokens
// that expire at the package's expiresAt at the latest (scripts/access issues them), and the program leaves an
// expired package out, so the next update deletes its ServiceAccount (which invalidates every token issued for
// it) and its RoleBindings. No long-lived token Secret is ever created. docs/access-control.md is the guide.
package access

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/quota"
)

// The label and annotation the policy pack checks (policy/pack/access.go), and the record of who asked and where.
const (
	PackageLabel        = "platform.lke/access-package"
	ExpiresAtAnnotation = "platform.lke/expires-at"
	SubjectAnnotation   = "platform.lke/access-subject"
	RequestAnnotation   = "platform.lke/access-request"
)

// ServiceAccountName is the identity of a package: its tokens authenticate as
// system:serviceaccount:<Namespace(env)>:access-<name>, and its RoleBindings have the same name.
func ServiceAccountName(pkg string) string { return "access-" + pkg }

// NamespaceName is the short name of the access namespace "<env>-access". The config package refuses it as a
// workload namespace (config.AccessNamespaceName, which platform's tests check is the same); the component
// keeps its own copy so it does not depend on the config package.
const NamespaceName = "access"

// Namespace is where the packages' ServiceAccounts live: "<env>-access", a namespace of their own. Not a
// workload namespace, because the edit role there can create tokens for (and impersonate) any ServiceAccount of
// the namespace, and so could mint a token that outlives its package; nothing is ever granted in this one.
func Namespace(env string) string { return env + "-" + NamespaceName }

// EditRoleName is the ClusterRole an "edit" package's RoleBindings grant in its namespaces.
func EditRoleName(env string) string { return names.Platform(env, "access-edit") }

// Verbs of the edit role's rules.
var (
	read  = []string{"get", "list", "watch"}
	write = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// EditRules are what an "edit" package may do in its namespaces: deploy and operate workloads, as Kubernetes'
// built-in edit allows, less what would let a package undo the namespace's isolation or outlive itself. Edit
// would let it delete default-deny-all or add an allow-all NetworkPolicy (here NetworkPolicies are read-only),
// create ServiceAccounts and request their tokens for a year (`kubectl create token --duration=8760h`; here
// ServiceAccounts are read-only and serviceaccounts/token is not granted), and write Secrets (here secret values
// arrive sealed: SealedSecrets are writable, Secrets readable). Rules are listed, never aggregated, so a CRD
// that aggregates into edit later does not widen it.
var EditRules = []struct{ Groups, Resources, Verbs []string }{
	{[]string{""}, []string{"pods", "services", "configmaps", "persistentvolumeclaims"}, write},
	{[]string{""}, []string{"pods/log", "pods/status", "events", "endpoints", "secrets", "serviceaccounts", "resourcequotas", "limitranges"}, read},
	{[]string{""}, []string{"pods/exec", "pods/attach", "pods/portforward"}, []string{"get", "create"}},
	{[]string{""}, []string{"pods/ephemeralcontainers"}, []string{"get", "patch", "update"}}, // kubectl debug, held to the admission policies
	{[]string{"apps"}, []string{"deployments", "deployments/scale", "statefulsets", "statefulsets/scale", "replicasets", "replicasets/scale", "daemonsets"}, write},
	{[]string{"batch"}, []string{"jobs", "cronjobs"}, write},
	{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, write},
	{[]string{"policy"}, []string{"poddisruptionbudgets"}, write},
	{[]string{"networking.k8s.io"}, []string{"ingresses"}, write},
	{[]string{"networking.k8s.io"}, []string{"networkpolicies"}, read},
	{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, read},
	{[]string{"bitnami.com"}, []string{"sealedsecrets"}, write},
	{[]string{"monitoring.coreos.com"}, []string{"servicemonitors", "podmonitors", "prometheusrules"}, write},
}

// Package is one person's time-limited access to some of the environment's workload namespaces: the fields of
// a validated access package this component reads. The component has its own type, rather than the config
// package's, so it depends only on what it is given: platform maps config.AccessPackage onto it.
type Package struct {
	Name       string    // DNS label; the ServiceAccount is "access-<name>"
	Subject    string    // e-mail address of the person, for the record
	Role       string    // "view" (Kubernetes' built-in view) or "edit" (EditRoleName)
	Namespaces []string  // full names of the workload namespaces granted
	ExpiresAt  time.Time // when the access ends; the package is left out from then on
	Request    string    // link to the request, for the record
}

// Expired reports whether the package's time is up at now (expiresAt itself included).
func (p Package) Expired(now time.Time) bool { return !p.ExpiresAt.After(now) }

// sizing keeps the access namespace's quota minimal: it holds ServiceAccounts, never pods.
var sizing = quota.Sizing{Services: 1, Profile: quota.Profile{
	CPURequest: resource.MustParse("10m"), CPULimit: resource.MustParse("10m"),
	MemoryRequest: resource.MustParse("16Mi"), MemoryLimit: resource.MustParse("16Mi"),
	MinReplicas: 1, MaxReplicas: 1,
}}

// Args configures the environment's access packages.
type Args struct {
	Environment string
	Labels      map[string]string // the environment's common labels
	// Packages are the stack's packages, expired ones included: those are left out, with a warning.
	Packages []Package
	// Source is the configuration key the packages come from ("lke-platform:accessPackages"): the warning for
	// an expired package says to remove it from there.
	Source string
	// Now is the time expiries are compared with (the time of the update).
	Now time.Time
	// The guard rails of the access namespace admit the ingress controller and the scrape, as every namespace's.
	IngressNamespace    string
	MonitoringNamespace string
}

// Packages is the environment's access packages in force.
type Packages struct {
	pulumi.ResourceState

	// Issued maps each package in force to {serviceAccount, namespace, subject, role, namespaces, expiresAt,
	// request}: what scripts/access needs to issue its kubeconfig, and the record. The platform exports it as
	// the stack output "accessPackages".
	Issued pulumi.MapOutput
}

// New registers the Packages component. The access namespace exists only while some package is in force.
// Pass pulumi.DependsOn the granted workload namespaces in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Packages, error) {
	c := &Packages{}
	if err := ctx.RegisterComponentResource("platform:access:Packages", name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	active, expired := Split(args.Packages, args.Now)
	for _, p := range expired {
		if err := ctx.Log.Warn(ExpiredMessage(p, args.Source), &pulumi.LogArgs{Resource: c}); err != nil {
			return nil, err
		}
	}

	issued := pulumi.Map{}
	if len(active) > 0 {
		ns, err := namespace.New(ctx, Namespace(args.Environment), &namespace.Args{
			Name: Namespace(args.Environment), Labels: args.Labels, Sizing: sizing,
			IngressNamespace: args.IngressNamespace, MonitoringNamespace: args.MonitoringNamespace,
		}, child)
		if err != nil {
			return nil, err
		}
		roles := map[string]string{"view": "view"}
		if slices.ContainsFunc(active, func(p Package) bool { return p.Role == "edit" }) {
			edit, err := editRole(ctx, args, child)
			if err != nil {
				return nil, err
			}
			roles["edit"] = edit
		}
		for _, p := range active {
			if err := register(ctx, args, ns, p, roles[p.Role], child); err != nil {
				return nil, err
			}
			issued[p.Name] = pulumi.ToMap(map[string]any{
				"serviceAccount": ServiceAccountName(p.Name), "namespace": Namespace(args.Environment),
				"subject": p.Subject, "role": p.Role, "namespaces": p.Namespaces,
				"expiresAt": p.ExpiresAt.Format(time.RFC3339), "request": p.Request,
			})
		}
	}
	c.Issued = issued.ToMapOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"issued": c.Issued})
}

// register makes one package's ServiceAccount and RoleBindings, each labelled and annotated with its expiry.
func register(ctx *pulumi.Context, args *Args, ns *namespace.Namespace, p Package, role string, child pulumi.ResourceOption) error {
	if role == "" {
		return fmt.Errorf("access package %q: role %q is neither view nor edit", p.Name, p.Role)
	}
	labels := pulumi.StringMap{PackageLabel: pulumi.String(p.Name)}
	for k, v := range args.Labels {
		labels[k] = pulumi.String(v)
	}
	annotations := pulumi.StringMap{
		ExpiresAtAnnotation: pulumi.String(p.ExpiresAt.Format(time.RFC3339)),
		SubjectAnnotation:   pulumi.String(p.Subject),
		RequestAnnotation:   pulumi.String(p.Request),
	}
	saName := ServiceAccountName(p.Name)
	sa, err := corev1.NewServiceAccount(ctx, args.Environment+"-"+saName, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(saName), Namespace: ns.Name, Labels: labels, Annotations: annotations,
		},
		// Nothing runs as a package: its only tokens are the ones scripts/access requests, which expire.
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, child)
	if err != nil {
		return err
	}
	for _, granted := range p.Namespaces {
		if _, err := rbacv1.NewRoleBinding(ctx, args.Environment+"-"+saName+"-"+granted, &rbacv1.RoleBindingArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String(saName), Namespace: pulumi.String(granted), Labels: labels, Annotations: annotations,
			},
			RoleRef: &rbacv1.RoleRefArgs{
				ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: pulumi.String(role),
			},
			Subjects: rbacv1.SubjectArray{&rbacv1.SubjectArgs{
				Kind: pulumi.String("ServiceAccount"), Name: sa.Metadata.Name().Elem(), Namespace: sa.Metadata.Namespace().Elem(),
			}},
		}, child); err != nil {
			return err
		}
	}
	return nil
}

// editRole registers the environment's edit ClusterRole (EditRules) and returns its name. Cluster-scoped, so
// named after the environment; it grants nothing by itself: the packages' RoleBindings grant it namespace by
// namespace.
func editRole(ctx *pulumi.Context, args *Args, child pulumi.ResourceOption) (string, error) {
	var rules rbacv1.PolicyRuleArray
	for _, r := range EditRules {
		rules = append(rules, &rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray(r.Groups), Resources: pulumi.ToStringArray(r.Resources), Verbs: pulumi.ToStringArray(r.Verbs),
		})
	}
	name := EditRoleName(args.Environment)
	if _, err := rbacv1.NewClusterRole(ctx, name, &rbacv1.ClusterRoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: pulumi.ToStringMap(args.Labels)},
		Rules:    rules,
	}, child); err != nil {
		return "", err
	}
	return name, nil
}

// Split separates the packages in force at now from the expired ones, keeping their order.
func Split(packages []Package, now time.Time) (active, expired []Package) {
	for _, p := range packages {
		if p.Expired(now) {
			expired = append(expired, p)
		} else {
			active = append(active, p)
		}
	}
	return active, expired
}

// ExpiredMessage is the warning an update prints for a package it leaves out; source is the configuration key
// the package comes from (Args.Source).
func ExpiredMessage(p Package, source string) string {
	return fmt.Sprintf("access package %q (%s, %s on %s) expired at %s: it is left out, so this update deletes its "+
		"ServiceAccount and RoleBindings; remove it from %s", p.Name, p.Subject, p.Role,
		strings.Join(p.Namespaces, ", "), p.ExpiresAt.Format(time.RFC3339), source)
}
