// Package gitops provides the GitOps layer of an environment, the bridge between what Pulumi owns and what
// Argo CD reconciles: the Bootstrap component (Argo CD's own CRDs and its core install) and the Infrastructure
// component (the environment's AppProject, its repository and the root Application platform-<env>-infrastructure,
// which holds every other Application of the environment: the add-ons' CRDs, one per add-on chart, one per folder
// of objects the components build as data, the sample service's).
//
// CRDs are cluster-scoped: every environment sharing a control plane applies the same vendored CRDs under the
// same names (server-side apply lets them share ownership of identical objects), so CRDs carry no environment
// label, and they are retained when a stack is destroyed: deleting a CRD deletes every custom object of its kind
// in every environment.
package gitops

import (
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	apiextensionsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions/v1"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/upstream"
)

// ArgoCDEgressPolicy is the NetworkPolicy that opens the egress Argo CD needs in its namespace, which the
// Namespace component closes by default: the API server, Helm and Git repositories over HTTPS, and its own pods.
const ArgoCDEgressPolicy = "argocd-allow-egress"

// ControllerServiceAccount is the ServiceAccount of Argo CD's application controller, the identity that applies
// and prunes what the environment's Applications hold.
const ControllerServiceAccount = "argocd-application-controller"

// argoCDComponents are the pods of Argo CD the bootstrap applies (their app.kubernetes.io/name label).
var argoCDComponents = []string{ControllerServiceAccount, "argocd-redis", "argocd-repo-server", NotificationsController}

// applicationSetController is the part of the core install the bootstrap leaves out: an environment's
// Applications are the root Application's, and nothing creates ApplicationSets.
const applicationSetController = "argocd-applicationset-controller"

// BootstrapArgs configures the bootstrap of one environment.
type BootstrapArgs struct {
	Environment string            // the environment's name
	Namespace   string            // namespace Argo CD runs in, already created
	Labels      map[string]string // the environment's common labels
	Events      EventsArgs        // where the notifications controller sends the Applications' events
}

// Bootstrap is Argo CD's own CRDs and its core install.
type Bootstrap struct {
	pulumi.ResourceState

	// CRDs are Argo CD's CustomResourceDefinitions. Depend on them (AfterCRDs) to create Argo CD's objects once
	// their types exist, without waiting for Argo CD itself to become ready.
	CRDs []pulumi.Resource
	// Resources are every object the bootstrap registers: the CRDs, Argo CD's install and its egress policy.
	Resources []pulumi.Resource
	// CRDNames are the names of the CRDs, in install order.
	CRDNames []string
	// Namespace is where Argo CD runs.
	Namespace pulumi.StringOutput
}

// AfterCRDs is the resource option that makes a resource wait for Argo CD's CRDs.
//
// Prefer it to DependsOn the Bootstrap component: the Go SDK expands a component into the children it knows of
// when the dependent registers, and children join asynchronously (pulumi/pulumi#7737, #7852), so a dependent
// can start before some of them, the Argo CD objects (which wait for the CRDs) most of all.
func (b *Bootstrap) AfterCRDs() pulumi.ResourceOption { return pulumi.DependsOn(b.CRDs) }

// AfterAll is the resource option that makes a resource wait for the whole bootstrap, Argo CD's workloads
// ready included.
func (b *Bootstrap) AfterAll() pulumi.ResourceOption { return pulumi.DependsOn(b.Resources) }

func (a *BootstrapArgs) validate() error {
	var problems []string
	if !names.DNSLabel.MatchString(a.Environment) {
		problems = append(problems, fmt.Sprintf("Environment %q is not a valid name (RFC 1123 label)", a.Environment))
	}
	if !names.DNSLabel.MatchString(a.Namespace) {
		problems = append(problems, fmt.Sprintf("Namespace %q is not a valid namespace name (RFC 1123 label)", a.Namespace))
	}
	problems = append(problems, a.Events.validate()...)
	if len(problems) > 0 {
		return fmt.Errorf("gitops: BootstrapArgs: %s", strings.Join(problems, "; "))
	}
	return nil
}

// NewBootstrap registers the Bootstrap component: Argo CD's CRDs and, beside them, its core install (minus the
// CRDs, which come from the vendored CRD files, and minus the ApplicationSet controller) in args.Namespace, the
// install's workloads last (isWorkload). The add-ons' CRDs are Argo CD's to apply (the Infrastructure's CRDs
// Application).
func NewBootstrap(ctx *pulumi.Context, name string, args *BootstrapArgs, opts ...pulumi.ResourceOption) (*Bootstrap, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	crds, err := CRDObjects(args.Labels)
	if err != nil {
		return nil, err
	}
	argocd, err := ArgoCDObjects(args)
	if err != nil {
		return nil, err
	}

	b := &Bootstrap{Namespace: pulumi.String(args.Namespace).ToStringOutput()}
	if err := ctx.RegisterComponentResource("platform:gitops:Bootstrap", name, b, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(b)

	for _, obj := range crds {
		crdName := objectName(obj)
		var crd apiextensionsv1.CustomResourceDefinition
		// Retained on delete: the CRD is shared by every environment of the cluster (see the package comment).
		if err := ctx.RegisterResource("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", crdName,
			kubernetes.UntypedArgs(obj), &crd, child, pulumi.RetainOnDelete(true)); err != nil {
			return nil, err
		}
		b.CRDs = append(b.CRDs, &crd)
		b.Resources = append(b.Resources, &crd)
		b.CRDNames = append(b.CRDNames, crdName)
	}

	// Everything the workloads use (service accounts, RBAC, settings, Services, the egress policy) beside the CRDs,
	// none of which needs them; the workloads last, after both: Argo CD's controllers watch its CRDs from the
	// start (workloadsLast).
	register := func(obj upstream.Object, opts ...pulumi.ResourceOption) (pulumi.CustomResource, error) {
		kind := kinds[typeKey(obj)] // ArgoCDObjects refuses any kind not in the table
		res := kind.newResource()
		err := ctx.RegisterResource(kind.token, objectName(obj), kubernetes.UntypedArgs(obj), res, append([]pulumi.ResourceOption{child}, opts...)...)
		return res, err
	}
	var workloads []upstream.Object
	var used []pulumi.Resource
	for _, obj := range argocd {
		if isWorkload(obj) {
			workloads = append(workloads, obj)
			continue
		}
		if (&unstructured.Unstructured{Object: obj}).GetKind() == "Service" {
			skipAwait(obj)
		}
		res, err := register(obj)
		if err != nil {
			return nil, err
		}
		used = append(used, res)
	}

	labels := pulumi.ToStringMap(args.Labels)
	egress, err := networkingv1.NewNetworkPolicy(ctx, ArgoCDEgressPolicy, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ArgoCDEgressPolicy), Namespace: pulumi.String(args.Namespace), Labels: labels},
		Spec:     argoCDEgress(),
	}, child)
	if err != nil {
		return nil, err
	}
	used = append(used, egress)
	b.Resources = append(b.Resources, used...)

	afterUsed := pulumi.DependsOn(append(append([]pulumi.Resource(nil), b.CRDs...), used...))
	for _, obj := range workloads {
		res, err := register(obj, afterUsed)
		if err != nil {
			return nil, err
		}
		b.Resources = append(b.Resources, res)
	}

	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{
		"namespace": b.Namespace,
		"crds":      pulumi.ToStringArray(b.CRDNames),
	})
}

// isWorkload says whether obj is one of the install's Deployments or StatefulSets, whose pods Pulumi waits for.
//
// workloadsLast: they are registered after everything else of the install and wait for it and for the CRDs. Their
// pods need their ServiceAccount (the API server refuses a pod whose account does not exist, and the ReplicaSet
// controller retries with a growing backoff), their settings and their egress, and Argo CD's controllers its CRDs.
// The rest of the install needs nothing but its namespace, and is created beside the CRDs. Registered beside the
// rest, with the workloads' and Services' long waits holding the engine's parallel steps (8 by default), the
// service accounts came ten seconds after the workloads and the pods twenty (docs/performance.md, 2026-12-03).
func isWorkload(obj upstream.Object) bool {
	k := (&unstructured.Unstructured{Object: obj}).GetKind()
	return k == "Deployment" || k == "StatefulSet"
}

// SkipAwaitAnnotation tells the kubernetes provider not to wait for an object to become ready.
const SkipAwaitAnnotation = "pulumi.com/skipAwait"

// skipAwait marks one of the install's Services not to be awaited. The provider waits for a Service's endpoints
// and then for them to stay unchanged for 10 s (their "settling"), which made every Argo CD Service a 10 s step.
// What that wait proves is proven otherwise: each Service's selector picks the pods of one of the install's
// workloads, and its ports are ports of their containers (TestEveryArgoCDServiceSelectsAWorkloadsPods), and
// Pulumi waits for those workloads' pods to be ready, so the endpoints hold ready pods when the update ends.
func skipAwait(obj upstream.Object) {
	u := &unstructured.Unstructured{Object: obj}
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[SkipAwaitAnnotation] = "true"
	u.SetAnnotations(annotations)
}

// argoCDEgress opens what Argo CD's pods need beyond DNS (which the namespace allows already): each other
// (controller -> repo-server, redis) and anything on 443/6443 (the API server, behind its Service or not, and
// the Helm and Git repositories). Ingress is opened by the install's own NetworkPolicies.
func argoCDEgress() *networkingv1.NetworkPolicySpecArgs {
	tcp := func(port int) *networkingv1.NetworkPolicyPortArgs {
		return &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}
	}
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchExpressions: metav1.LabelSelectorRequirementArray{
			&metav1.LabelSelectorRequirementArgs{
				Key: pulumi.String("app.kubernetes.io/name"), Operator: pulumi.String("In"),
				Values: pulumi.ToStringArray(argoCDComponents),
			},
		}},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{
			&networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}}},
			},
			&networkingv1.NetworkPolicyEgressRuleArgs{
				Ports: networkingv1.NetworkPolicyPortArray{tcp(443), tcp(6443)},
			},
		},
	}
}

// kind is how one Kubernetes kind of the core install is registered.
type kind struct {
	token       string
	namespaced  bool
	newResource func() pulumi.CustomResource
}

// kinds are the kinds Argo CD's core install holds, by "<apiVersion>/<kind>". An upgrade that brings a new kind
// fails ArgoCDObjects (and the unit tests) until it is added here.
var kinds = map[string]kind{
	"v1/ServiceAccount": {"kubernetes:core/v1:ServiceAccount", true, func() pulumi.CustomResource { return &corev1.ServiceAccount{} }},
	"v1/ConfigMap":      {"kubernetes:core/v1:ConfigMap", true, func() pulumi.CustomResource { return &corev1.ConfigMap{} }},
	"v1/Secret":         {"kubernetes:core/v1:Secret", true, func() pulumi.CustomResource { return &corev1.Secret{} }},
	"v1/Service":        {"kubernetes:core/v1:Service", true, func() pulumi.CustomResource { return &corev1.Service{} }},
	"apps/v1/Deployment": {"kubernetes:apps/v1:Deployment", true,
		func() pulumi.CustomResource { return &appsv1.Deployment{} }},
	"apps/v1/StatefulSet": {"kubernetes:apps/v1:StatefulSet", true,
		func() pulumi.CustomResource { return &appsv1.StatefulSet{} }},
	"rbac.authorization.k8s.io/v1/Role": {"kubernetes:rbac.authorization.k8s.io/v1:Role", true,
		func() pulumi.CustomResource { return &rbacv1.Role{} }},
	"rbac.authorization.k8s.io/v1/RoleBinding": {"kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", true,
		func() pulumi.CustomResource { return &rbacv1.RoleBinding{} }},
	"rbac.authorization.k8s.io/v1/ClusterRole": {"kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", false,
		func() pulumi.CustomResource { return &rbacv1.ClusterRole{} }},
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": {"kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", false,
		func() pulumi.CustomResource { return &rbacv1.ClusterRoleBinding{} }},
	"networking.k8s.io/v1/NetworkPolicy": {"kubernetes:networking.k8s.io/v1:NetworkPolicy", true,
		func() pulumi.CustomResource { return &networkingv1.NetworkPolicy{} }},
}

const (
	crdKey           = "apiextensions.k8s.io/v1/CustomResourceDefinition"
	networkPolicyKey = "networking.k8s.io/v1/NetworkPolicy"
)

// CRDObjects decodes Argo CD's vendored CRDs, in install order, labelled with the environment's common labels minus
// the environment label: the CRDs are shared by the environments of the cluster, and two stacks applying
// different values to one label would conflict.
func CRDObjects(labels map[string]string) ([]upstream.Object, error) {
	shared := maps.Clone(labels)
	delete(shared, names.EnvironmentLabel)
	objs, err := vendoredCRDs()
	if err != nil {
		return nil, err
	}
	for _, obj := range objs {
		addLabels(obj, shared)
	}
	return objs, nil
}

// Parsing megabytes of YAML takes a second or more; it is done once per process, and callers get copies.
var (
	parsedCRDs = sync.OnceValues(func() ([]upstream.Object, error) {
		var out []upstream.Object
		for _, f := range upstream.ArgoCDCRDs() {
			objs, err := upstream.Decode(f.Data)
			if err != nil {
				return nil, fmt.Errorf("gitops: vendored %s: %w", f.Name, err)
			}
			for _, obj := range objs {
				if typeKey(obj) != crdKey {
					return nil, fmt.Errorf("gitops: vendored %s holds a %s, not a CRD", f.Name, typeKey(obj))
				}
				stripSchemaDescriptions(obj)
				if err := openStatusSchema(obj); err != nil {
					return nil, fmt.Errorf("gitops: vendored %s: %w", f.Name, err)
				}
				out = append(out, obj)
			}
		}
		return out, nil
	})
	// The core install, then the notifications controller's base.
	parsedArgoCD = sync.OnceValues(func() ([]upstream.Object, error) {
		objs, err := upstream.Decode(upstream.ArgoCDInstall())
		if err != nil {
			return nil, fmt.Errorf("gitops: vendored Argo CD install: %w", err)
		}
		for _, f := range upstream.ArgoCDNotifications() {
			more, err := upstream.Decode(f.Data)
			if err != nil {
				return nil, fmt.Errorf("gitops: vendored %s: %w", f.Name, err)
			}
			objs = append(objs, more...)
		}
		return objs, nil
	})
)

func vendoredCRDs() ([]upstream.Object, error) { return copied(parsedCRDs()) }

// stripSchemaDescriptions removes the documentation strings from a CRD's OpenAPI schemas, as controller-gen's
// crd:maxDescLen=0 does. They are two thirds of the CRDs' bytes, and Pulumi keeps every CRD twice in state
// (inputs and outputs) and writes the state after every step: with them, state was 11 MB and each step of an
// update took seconds. Validation is unchanged; only `kubectl explain` loses the field docs.
func stripSchemaDescriptions(crd upstream.Object) {
	versions, _ := nestedSlice(crd, "spec", "versions")
	for _, v := range versions {
		if version, ok := v.(map[string]any); ok {
			stripDescriptions(version["schema"])
		}
	}
}

// openStatusSchema replaces the schema of each version's status with an open object. Only Argo CD's controllers
// write an Application's or AppProject's status, so the API server's check of it guards nothing a person or the
// program writes; the spec and the operation, which they do write, stay checked field by field. The status schema
// is two thirds of the Application CRD (35 of 53 KB without descriptions) because it repeats the source's
// schema in every place the status records a source, and Pulumi keeps the CRD three times in the stack's state
// (inputs, the inputs again in the outputs, the live object).
func openStatusSchema(crd upstream.Object) error {
	versions, err := nestedSlice(crd, "spec", "versions")
	if err != nil {
		return err
	}
	for _, v := range versions {
		version, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("a version of %s is a %T, not an object", objectName(crd), v)
		}
		path := []string{"schema", "openAPIV3Schema", "properties", "status"}
		if _, found, err := unstructured.NestedFieldNoCopy(version, path...); err != nil || !found {
			continue
		}
		if err := unstructured.SetNestedField(version, map[string]any{
			"type": "object", "x-kubernetes-preserve-unknown-fields": true,
		}, path...); err != nil {
			return err
		}
	}
	return nil
}

// nestedSlice is the list at path in obj itself, not a copy (unstructured.NestedSlice copies): editing its
// elements edits obj. A missing field is an empty list.
func nestedSlice(obj upstream.Object, path ...string) ([]any, error) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if err != nil || !found {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, not a list", strings.Join(path, "."), v)
	}
	return list, nil
}

// stripDescriptions deletes every "description" whose value is text. A property that happens to be named
// "description" is a schema (a map), and is kept.
func stripDescriptions(v any) {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["description"].(string); ok {
			delete(t, "description")
		}
		for _, e := range t {
			stripDescriptions(e)
		}
	case []any:
		for _, e := range t {
			stripDescriptions(e)
		}
	}
}

func vendoredArgoCD() ([]upstream.Object, error) { return copied(parsedArgoCD()) }

func copied(objs []upstream.Object, err error) ([]upstream.Object, error) {
	if err != nil {
		return nil, err
	}
	out := make([]upstream.Object, len(objs))
	for i, o := range objs {
		out[i] = runtime.DeepCopyJSON(o) // decoded YAML holds JSON values only (upstream.Decode)
	}
	return out, nil
}

// ClusterScopedName is the name of a cluster-scoped object of the Argo CD install: it carries the environment,
// so several environments' Argo CD instances can share one control plane.
func ClusterScopedName(environment, name string) string {
	return names.Platform(environment, name)
}

// ArgoCDObjects is Argo CD's core install and its notifications controller as the bootstrap applies them, with
// the platform's diff settings in argocd-cm (setUpSettings): without the CRDs, the ApplicationSet controller and upstream's NetworkPolicies, the notifications controller running the core install's
// image and sending the Applications' events to args.Events (NotificationsData), every namespaced object
// in args.Namespace, cluster-scoped objects named by ClusterScopedName (bindings following), every object
// labelled with args.Labels (but for upstream's part-of label, argoCDLabels), and every container given the requests and limits of ArgoCDResources.
func ArgoCDObjects(args *BootstrapArgs) ([]upstream.Object, error) {
	objs, err := vendoredArgoCD()
	if err != nil {
		return nil, err
	}
	var out []upstream.Object
	for _, obj := range objs {
		key := typeKey(obj)
		if key == crdKey {
			continue // installed from the vendored CRD files
		}
		if (&unstructured.Unstructured{Object: obj}).GetLabels()["app.kubernetes.io/name"] == applicationSetController {
			continue
		}
		if key == networkPolicyKey {
			// Upstream's policies open the metrics ports to the pods of every namespace. The namespace's own
			// (components/namespace, through platform) admit what Argo CD needs: its own pods, and Prometheus.
			continue
		}
		k, ok := kinds[key]
		if !ok {
			return nil, fmt.Errorf("gitops: Argo CD install holds a %s %q, which the bootstrap does not know", key, objectName(obj))
		}
		u := &unstructured.Unstructured{Object: obj}
		if k.namespaced {
			u.SetNamespace(args.Namespace)
		} else {
			u.SetName(ClusterScopedName(args.Environment, u.GetName()))
		}
		addLabels(obj, argoCDLabels(obj, args.Labels))
		switch u.GetKind() {
		case "ClusterRoleBinding":
			if err := bindTo(obj, args); err != nil {
				return nil, err
			}
		case "Deployment", "StatefulSet":
			if err := setResources(obj); err != nil {
				return nil, err
			}
		}
		out = append(out, obj)
	}
	if err := setUpSettings(out); err != nil {
		return nil, err
	}
	return out, setUpNotifications(out, args)
}

// setUpNotifications gives the notifications controller the image of the core install's application controller
// (its base names :latest, which kustomize replaces in upstream's full install) and its settings.
func setUpNotifications(objs []upstream.Object, args *BootstrapArgs) error {
	controller, err := findObject(objs, "StatefulSet", ControllerServiceAccount)
	if err != nil {
		return err
	}
	notifications, err := findObject(objs, "Deployment", NotificationsController)
	if err != nil {
		return err
	}
	image, err := containerField(controller, ControllerServiceAccount, "image")
	if err != nil {
		return err
	}
	containers, err := nestedSlice(notifications, "spec", "template", "spec", "containers")
	if err != nil || len(containers) != 1 {
		return fmt.Errorf("gitops: the notifications controller's Deployment should have one container (%v)", err)
	}
	containers[0].(map[string]any)["image"] = image
	cm, err := findObject(objs, "ConfigMap", NotificationsConfigMap)
	if err != nil {
		return err
	}
	data, err := NotificationsData(args.Events, map[string]string{
		EnvironmentLabel: args.Environment, EventSourceLabel: EventSource,
	})
	if err != nil {
		return err
	}
	cm["data"] = manifest.Untyped(data)
	return nil
}

// findObject is the object of the install with that kind and name.
func findObject(objs []upstream.Object, kind, name string) (upstream.Object, error) {
	for _, obj := range objs {
		if u := (&unstructured.Unstructured{Object: obj}); u.GetKind() == kind && u.GetName() == name {
			return obj, nil
		}
	}
	return nil, fmt.Errorf("gitops: the vendored Argo CD install has no %s %q", kind, name)
}

// containerField is a string field of the named container of a workload.
func containerField(obj upstream.Object, container, field string) (string, error) {
	containers, err := nestedSlice(obj, "spec", "template", "spec", "containers")
	if err != nil {
		return "", err
	}
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == container {
			if v, ok := m[field].(string); ok && v != "" {
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("gitops: %s %q has no container %q with a %s", typeKey(obj), objectName(obj), container, field)
}

// bindTo points a ClusterRoleBinding at the renamed ClusterRole and at the service accounts in args.Namespace
// (upstream hard-codes namespace "argocd").
func bindTo(obj upstream.Object, args *BootstrapArgs) error {
	if kind, _, _ := unstructured.NestedString(obj, "roleRef", "kind"); kind == "ClusterRole" {
		role, _, err := unstructured.NestedString(obj, "roleRef", "name")
		if err != nil {
			return fmt.Errorf("gitops: ClusterRoleBinding %q: %w", objectName(obj), err)
		}
		if err := unstructured.SetNestedField(obj, ClusterScopedName(args.Environment, role), "roleRef", "name"); err != nil {
			return err
		}
	}
	subjects, err := nestedSlice(obj, "subjects")
	if err != nil {
		return fmt.Errorf("gitops: ClusterRoleBinding %q: %w", objectName(obj), err)
	}
	for _, s := range subjects {
		if subject, ok := s.(map[string]any); ok && subject["kind"] == "ServiceAccount" {
			subject["namespace"] = args.Namespace
		}
	}
	return nil
}

// Resources are a container's CPU and memory requests and limits.
type Resources struct {
	Requests ResourceList `json:"requests"`
	Limits   ResourceList `json:"limits"`
}

// ResourceList is an amount of CPU and memory.
type ResourceList struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// ArgoCDResources are the requests and limits of each container of the core install, by container name.
// Upstream sets none; the policy pack and the namespace quota need them. Limits stay within the LimitRange
// maximum of the default service profile (1500m, 768Mi), sized for a platform of a few dozen Applications.
var ArgoCDResources = map[string]Resources{
	"argocd-application-controller": {Requests: ResourceList{"250m", "512Mi"}, Limits: ResourceList{"1", "768Mi"}},
	"argocd-repo-server":            {Requests: ResourceList{"100m", "256Mi"}, Limits: ResourceList{"1", "768Mi"}},
	"copyutil":                      {Requests: ResourceList{"10m", "32Mi"}, Limits: ResourceList{"100m", "64Mi"}},
	"redis":                         {Requests: ResourceList{"50m", "64Mi"}, Limits: ResourceList{"250m", "256Mi"}},
	"secret-init":                   {Requests: ResourceList{"10m", "32Mi"}, Limits: ResourceList{"100m", "64Mi"}},
	// One watch on the Applications, a few pushes a minute.
	NotificationsController: {Requests: ResourceList{"50m", "64Mi"}, Limits: ResourceList{"250m", "256Mi"}},
}

// setResources sets ArgoCDResources on every container and init container of a workload.
func setResources(obj upstream.Object) error {
	for _, group := range []string{"initContainers", "containers"} {
		containers, err := nestedSlice(obj, "spec", "template", "spec", group)
		if err != nil {
			return fmt.Errorf("gitops: Argo CD %s %q: %w", typeKey(obj), objectName(obj), err)
		}
		for i, c := range containers {
			container, ok := c.(map[string]any)
			if !ok {
				return fmt.Errorf("gitops: Argo CD %s %q: %s[%d] is not an object", typeKey(obj), objectName(obj), group, i)
			}
			name, _, _ := unstructured.NestedString(container, "name")
			r, ok := ArgoCDResources[name]
			if !ok {
				return fmt.Errorf("gitops: Argo CD %s %q has container %q with no entry in ArgoCDResources", typeKey(obj), objectName(obj), name)
			}
			container["resources"] = manifest.Untyped(r)
		}
	}
	return nil
}

// partOfLabel is the label by which Argo CD finds its own ConfigMaps and Secrets (its settings informer selects
// app.kubernetes.io/part-of=argocd): with the environment's value instead, Argo CD's controllers stop at start
// with "configmap argocd-cm not found".
const partOfLabel = "app.kubernetes.io/part-of"

// argoCDLabels are the environment's labels for one of Argo CD's own objects: all of them, except that upstream's
// part-of stays where upstream sets it.
func argoCDLabels(obj upstream.Object, labels map[string]string) map[string]string {
	if _, ok := (&unstructured.Unstructured{Object: obj}).GetLabels()[partOfLabel]; !ok {
		return labels
	}
	out := maps.Clone(labels)
	delete(out, partOfLabel)
	return out
}

// addLabels merges labels into the object's metadata.labels; the environment's labels win over upstream's.
func addLabels(obj upstream.Object, labels map[string]string) {
	u := &unstructured.Unstructured{Object: obj}
	merged := u.GetLabels()
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, labels)
	if len(merged) > 0 {
		u.SetLabels(merged)
	}
}

func typeKey(obj upstream.Object) string {
	u := &unstructured.Unstructured{Object: obj}
	return u.GetAPIVersion() + "/" + u.GetKind()
}

func objectName(obj upstream.Object) string {
	return (&unstructured.Unstructured{Object: obj}).GetName()
}
