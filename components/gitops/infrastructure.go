package gitops

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/names"
)

// Argo CD's API group and the in-cluster destination every Application deploys to.
const (
	ArgoCDAPIVersion = "argoproj.io/v1alpha1"
	InClusterServer  = "https://kubernetes.default.svc"

	// RepositorySecretLabel marks a Secret as a repository Argo CD should know.
	RepositorySecretLabel = "argocd.argoproj.io/secret-type" // #nosec G101 -- a label key, not a credential
	// RevisionAnnotation records on the root Application which revision of the platform repository the
	// program ran from.
	RevisionAnnotation = "platform.lke/revision"
)

// SyncOptions are the sync options of every Application: namespaces come from Pulumi (with their quota and
// default-deny), and server-side apply keeps large CRDs and CRD-laden charts under the annotation size limit.
var SyncOptions = []string{"CreateNamespace=false", "ServerSideApply=true"}

// skipDryRun lets an Application of custom objects sync before their CRDs exist (the sync fails and is retried
// until the CRDs Application has installed them) instead of failing its dry run on the unknown kinds.
const skipDryRun = "SkipDryRunOnMissingResource=true"

// ProjectName is the AppProject of an environment.
func ProjectName(environment string) string { return names.Platform(environment) }

// RootName is the root Application of an environment, `argocd app sync platform-<env>-infrastructure`.
func RootName(environment string) string {
	return names.Platform(environment, "infrastructure")
}

// CRDsName is the Application of the add-ons' CRDs.
func CRDsName(environment string) string { return names.Platform(environment, "crds") }

// RepositorySecretName is the Secret registering the platform repository with Argo CD.
func RepositorySecretName(environment string) string {
	return names.Platform(environment, "repository")
}

// InfrastructureArgs configures an environment's Argo CD project and root Application.
type InfrastructureArgs struct {
	Environment string            // the environment's name
	Namespace   string            // Argo CD's namespace: the project, repository and Applications live there
	Labels      map[string]string // the environment's common labels
	RepoURL     string            // the platform's Git repository, registered without credentials
	Revision    string            // revision of RepoURL the program runs from and Argo CD renders
	AutoSync    bool              // false on production: every sync is a manual `argocd app sync`
	Charts      []Chart           // the add-ons' Helm releases: one Application each
	Folders     []Folder          // the objects the components build as data: one Application each
	// Applications are further Applications the root holds, such as the sample service's.
	Applications []Application
	// Workloads are namespaces beyond the charts' and folders' that the project's Applications deploy to: the
	// environment's own services, such as the sample service.
	Workloads []string
	// RenderDirectory, in render mode, is where the environment's tree is written on update (WriteTree):
	// generated/<env>/, for review and promotion. Empty otherwise.
	RenderDirectory string
}

// Infrastructure is an environment's AppProject, repository registration and root Application, which holds
// every other Application of the environment.
type Infrastructure struct {
	pulumi.ResourceState

	Project      pulumi.StringOutput // AppProject name
	Root         pulumi.StringOutput // the root Application's name
	Applications []string            // names of the Applications the root holds, in order
}

// semver is an exact chart version: Argo CD would read "1.2.*", "^1.2" or ">=1" as a range and float.
var semver = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Validate reports every problem of the arguments at once, naming the field.
func (a *InfrastructureArgs) Validate() error {
	var problems []string
	add := func(format string, v ...any) { problems = append(problems, fmt.Sprintf(format, v...)) }
	if !names.DNSLabel.MatchString(a.Environment) {
		add("Environment %q is not a valid name (RFC 1123 label)", a.Environment)
	}
	if !names.DNSLabel.MatchString(a.Namespace) {
		add("Namespace %q is not a valid namespace name (RFC 1123 label)", a.Namespace)
	}
	if a.RepoURL == "" {
		add("RepoURL is empty")
	}
	// Every child Application is named "platform-<env>-<part>": a chart and a folder may not share a part.
	seen := map[string]string{"crds": "the CRDs Application", "infrastructure": "the root Application"}
	part := func(field, name string) {
		if other, dup := seen[name]; dup && name != "" {
			add("%s: Name is also the name of %s; names must be unique", field, other)
		} else {
			seen[name] = field
		}
	}
	for i, c := range a.Charts {
		field := fmt.Sprintf("Charts[%d] (%q)", i, c.Name)
		switch {
		case c.Name == "":
			add("%s: Name is empty", field)
		// Helm refuses release names over 53 characters; the name is also part of the Application's name.
		case !names.DNSLabel.MatchString(c.Name) || len(c.Name) > names.MaxReleaseName:
			add("%s: Name is not a valid Helm release name (RFC 1123 label, at most 53 characters)", field)
		}
		part(field, c.Name)
		if !names.DNSLabel.MatchString(c.Namespace) {
			add("%s: Namespace %q is not a valid namespace name", field, c.Namespace)
		}
		if c.RepoURL == "" {
			add("%s: RepoURL is empty", field)
		}
		if c.Chart == "" {
			add("%s: Chart is empty", field)
		}
		switch {
		case c.Version == "":
			add("%s: Version is empty; pin an exact chart version", field)
		case !semver.MatchString(c.Version):
			add("%s: Version %q is not an exact version (x.y.z); a range would let two syncs install different code", field, c.Version)
		}
		if _, err := json.Marshal(c.Values); err != nil {
			add("%s: Values: values do not marshal: %v", field, err)
		}
	}
	for i, f := range a.Folders {
		field := fmt.Sprintf("Folders[%d] (%q)", i, f.Name)
		if !names.DNSLabel.MatchString(f.Name) {
			add("%s: Name is not a valid name (RFC 1123 label)", field)
		}
		part(field, f.Name)
		if !names.DNSLabel.MatchString(f.Destination) {
			add("%s: Destination %q is not a valid namespace name", field, f.Destination)
		}
		if _, err := json.Marshal(f.Objects); err != nil {
			add("%s: Objects do not marshal: %v", field, err)
			continue
		}
		// What charts/manifests' schema asks of each object, checked before anything is registered.
		for j, obj := range f.Objects {
			m := manifest.Untyped(obj)
			for _, path := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
				if v, _, _ := unstructured.NestedString(m, path...); v == "" {
					add("%s: Objects[%d] has no %s", field, j, strings.Join(path, "."))
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("gitops: InfrastructureArgs: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Children are the Applications the root holds, in order: the add-ons' CRDs, one per chart, one per folder,
// then args.Applications.
func Children(args *InfrastructureArgs) []Application {
	app := func(name string, source ApplicationSource, destination string, options ...string) ApplicationArgs {
		retry := ChildRetry
		return ApplicationArgs{
			Name: ApplicationName(args.Environment, name), Environment: args.Environment, Namespace: args.Namespace,
			Labels: args.Labels, Source: source, Destination: destination, AutoSync: args.AutoSync,
			Options: options, Retry: &retry,
		}
	}
	// The CRDs: created, updated with the repository, never pruned or reverted (deleting a CRD deletes every
	// object of its kind). Argo CD's own CRDs are the bootstrap's.
	crds := app("crds", ApplicationSource{
		RepoURL: args.RepoURL, Path: AddonCRDsPath, TargetRevision: args.Revision,
		Directory: &DirectorySource{Recurse: true, Exclude: argoCDCRDs},
	}, args.Namespace)
	crds.KeepLive = true
	out := []Application{NewApplication(crds)}
	for _, c := range args.Charts {
		source := ApplicationSource{RepoURL: c.RepoURL, Chart: c.Chart, TargetRevision: c.Version}
		if c.Path != "" { // vendored: this repository holds it
			source = ApplicationSource{RepoURL: args.RepoURL, Path: c.Path, TargetRevision: args.Revision}
		}
		source.Helm = &HelmSource{ReleaseName: c.Name, SkipCrds: true, ValuesObject: manifest.Untyped(c.Values)}
		out = append(out, NewApplication(app(c.Name, source, c.Namespace)))
	}
	for _, f := range args.Folders {
		out = append(out, NewApplication(app(f.Name, ApplicationSource{
			RepoURL: args.RepoURL, Path: ManifestsChart, TargetRevision: args.Revision,
			Helm: &HelmSource{ReleaseName: ApplicationName(args.Environment, f.Name), ValuesObject: manifest.Untyped(ManifestsValues(f.Objects))},
		}, f.Destination, skipDryRun)))
	}
	return append(out, args.Applications...)
}

// Root is the environment's root Application: ManifestsChart with the children as its objects, deployed to Argo
// CD's namespace. Outside production it syncs on its own and prunes an Application the program no longer
// declares (the Application only: without a finalizer, what it deployed stays); on production it waits for
// `argocd app sync platform-<env>-infrastructure`, and each child for its own sync. It keeps no sync history
// (rootHistoryLimit).
func Root(args *InfrastructureArgs, children []Application) Application {
	root := NewApplication(ApplicationArgs{
		Name: RootName(args.Environment), Environment: args.Environment, Namespace: args.Namespace, Labels: args.Labels,
		Source: ApplicationSource{
			RepoURL: args.RepoURL, Path: ManifestsChart, TargetRevision: args.Revision,
			Helm: &HelmSource{ReleaseName: RootName(args.Environment), ValuesObject: manifest.Untyped(ManifestsValues(Objects(children)))},
		},
		Destination: args.Namespace, AutoSync: args.AutoSync,
	})
	none := rootHistoryLimit
	root.Spec.RevisionHistoryLimit = &none
	return root
}

// rootHistoryLimit keeps no sync history on the root Application. Each entry of an Application's history
// repeats its source, and the root's source is every child with its values (about 45 KB for development):
// `pulumi refresh` reads the root's status into the stack's state, where Argo CD's default of ten entries would
// add up to ten copies (0.45 MB, against the 1 MB the state is held to). The root's history is the stack's
// already: every change to it is a `pulumi up` (`pulumi stack history`, the revision annotation), and a
// rollback is an update too (decision 35). The children keep Argo CD's default; Pulumi does not hold them.
const rootHistoryLimit = 0

// NewInfrastructure registers the Infrastructure component: the AppProject, the repository Secret and the root
// Application. Pass the bootstrap's AfterCRDs() (or DependsOn the Bootstrap) in opts: the AppProject and the
// Application are custom objects of Argo CD's CRDs.
func NewInfrastructure(ctx *pulumi.Context, name string, args *InfrastructureArgs, opts ...pulumi.ResourceOption) (*Infrastructure, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	children := Children(args)
	root := Root(args, children)

	inf := &Infrastructure{}
	if err := ctx.RegisterComponentResource("platform:gitops:Infrastructure", name, inf, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(inf)
	meta := func(objectName string, extraLabels map[string]string, annotations map[string]string) *metav1.ObjectMetaArgs {
		labels := maps.Clone(args.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, extraLabels)
		m := &metav1.ObjectMetaArgs{
			Name: pulumi.String(objectName), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(labels),
		}
		if len(annotations) > 0 {
			m.Annotations = pulumi.ToStringMap(annotations)
		}
		return m
	}

	projectName := ProjectName(args.Environment)
	project, err := manifest.CustomResource{
		APIVersion: ArgoCDAPIVersion, Kind: "AppProject",
		Metadata: meta(projectName, nil, nil),
		Spec:     AppProjectSpecFor(args),
	}.New(ctx, projectName, child)
	if err != nil {
		return nil, err
	}

	secretName := RepositorySecretName(args.Environment)
	if _, err := corev1.NewSecret(ctx, secretName, &corev1.SecretArgs{
		Metadata:   meta(secretName, map[string]string{RepositorySecretLabel: "repository"}, nil),
		StringData: pulumi.ToStringMap(RepositorySecretData(args)),
	}, child); err != nil {
		return nil, err
	}

	var annotations map[string]string
	if args.Revision != "" {
		annotations = map[string]string{RevisionAnnotation: args.Revision}
	}
	// The project first: Argo CD refuses Applications of a project that does not exist yet.
	rootApp, err := manifest.CustomResource{
		APIVersion: ArgoCDAPIVersion, Kind: "Application",
		Metadata: meta(root.Metadata.Name, nil, annotations),
		Spec:     root.Spec,
	}.New(ctx, root.Metadata.Name, child, pulumi.DependsOn([]pulumi.Resource{project}))
	if err != nil {
		return nil, err
	}

	// Render mode: the tree Argo CD will apply, written on update only (a preview changes no file).
	if args.RenderDirectory != "" && !ctx.DryRun() {
		if err := WriteTree(args.RenderDirectory, args); err != nil {
			return nil, err
		}
	}

	inf.Project = project.Metadata.Name().Elem()
	inf.Root = rootApp.Metadata.Name().Elem()
	for _, c := range children {
		inf.Applications = append(inf.Applications, c.Metadata.Name)
	}
	return inf, ctx.RegisterResourceOutputs(inf, pulumi.Map{
		"project":      inf.Project,
		"root":         inf.Root,
		"applications": pulumi.ToStringArray(inf.Applications),
	})
}

// RepositorySecretData is the repository Secret's content: the URL and project, no credentials (the repository
// is read over HTTPS without them).
func RepositorySecretData(args *InfrastructureArgs) map[string]string {
	return map[string]string{"type": "git", "url": args.RepoURL, "project": ProjectName(args.Environment)}
}

// AppProjectSpec is the spec of an Argo CD AppProject (the fields the platform sets).
type AppProjectSpec struct {
	Description                string               `json:"description"`
	SourceRepos                []string             `json:"sourceRepos"`
	Destinations               []ProjectDestination `json:"destinations"`
	ClusterResourceWhitelist   []GroupKind          `json:"clusterResourceWhitelist"`
	NamespaceResourceBlacklist []GroupKind          `json:"namespaceResourceBlacklist"`
}

// ProjectDestination is a cluster and namespace a project's Applications may deploy to.
type ProjectDestination struct {
	Server    string `json:"server"`
	Namespace string `json:"namespace"`
}

// GroupKind names a Kubernetes kind ("" is the core group).
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// ClusterKinds are the cluster-scoped kinds an environment's Applications may create: the add-ons' CRDs, RBAC,
// admission webhooks, the ingress class and the ACME issuer.
var ClusterKinds = []GroupKind{
	{"apiextensions.k8s.io", "CustomResourceDefinition"},
	{"rbac.authorization.k8s.io", "ClusterRole"},
	{"rbac.authorization.k8s.io", "ClusterRoleBinding"},
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
	{"networking.k8s.io", "IngressClass"},
	{"cert-manager.io", "ClusterIssuer"},
}

// PulumiOwnedKinds are the namespaced kinds charts may not create: each namespace's quota and limits come from
// the Namespace component, and a chart must not be able to replace them.
var PulumiOwnedKinds = []GroupKind{{"", "ResourceQuota"}, {"", "LimitRange"}}

// AppProjectSpecFor is the environment's AppProject: the platform repository and the repositories of the charts
// it does not hold as sources; as destinations on the in-cluster server, Argo CD's namespace (the root deploys Applications there)
// and every namespace a chart, a folder's object or a workload lives in.
func AppProjectSpecFor(args *InfrastructureArgs) AppProjectSpec {
	repos := []string{args.RepoURL}
	namespaces := []string{args.Namespace}
	for _, c := range args.Charts {
		if c.Path == "" {
			repos = append(repos, c.RepoURL)
		}
		namespaces = append(namespaces, c.Namespace)
	}
	for _, f := range args.Folders {
		namespaces = append(namespaces, f.Destination)
		for _, obj := range f.Objects {
			if ns, _, _ := unstructured.NestedString(manifest.Untyped(obj), "metadata", "namespace"); ns != "" {
				namespaces = append(namespaces, ns)
			}
		}
	}
	namespaces = append(namespaces, args.Workloads...)
	slices.Sort(repos)
	slices.Sort(namespaces)
	destinations := []ProjectDestination{}
	for _, ns := range slices.Compact(namespaces) {
		destinations = append(destinations, ProjectDestination{Server: InClusterServer, Namespace: ns})
	}
	return AppProjectSpec{
		Description:                fmt.Sprintf("Infrastructure of the %s environment, generated by the lke-platform program.", args.Environment),
		SourceRepos:                slices.Compact(repos),
		Destinations:               destinations,
		ClusterResourceWhitelist:   ClusterKinds,
		NamespaceResourceBlacklist: PulumiOwnedKinds,
	}
}
