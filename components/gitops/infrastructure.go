package gitops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/names"
)

// Argo CD's API group and the in-cluster destination every Application deploys to.
const (
	ArgoCDAPIVersion = "argoproj.io/v1alpha1"
	InClusterServer  = "https://kubernetes.default.svc"

	// RepositorySecretLabel marks a Secret as a repository Argo CD should know.
	RepositorySecretLabel = "argocd.argoproj.io/secret-type"
	// RevisionAnnotation records on the ApplicationSet which revision of the platform repository generated it.
	RevisionAnnotation = "platform.lke/revision"
)

// SyncOptions are the sync options of every Application: namespaces come from Pulumi (with their quota and
// default-deny), and server-side apply keeps large CRD-laden charts under the annotation size limit.
var SyncOptions = []string{"CreateNamespace=false", "ServerSideApply=true"}

// ProjectName is the AppProject of an environment.
func ProjectName(environment string) string { return names.Platform(environment) }

// ApplicationSetName is the ApplicationSet of an environment's infrastructure charts.
func ApplicationSetName(environment string) string {
	return names.Platform(environment, "infrastructure")
}

// ApplicationName is the Application the ApplicationSet generates for a chart.
func ApplicationName(environment, chart string) string {
	return names.Platform(environment, chart)
}

// RepositorySecretName is the Secret registering the platform repository with Argo CD.
func RepositorySecretName(environment string) string {
	return names.Platform(environment, "repository")
}

// InfrastructureArgs configures an environment's Argo CD project and ApplicationSet.
type InfrastructureArgs struct {
	Environment string            // the environment's name
	Namespace   string            // Argo CD's namespace: the project, repository and ApplicationSet live there
	Labels      map[string]string // the environment's common labels
	RepoURL     string            // the platform's Git repository, registered without credentials
	Revision    string            // revision of RepoURL the program runs from; recorded on the ApplicationSet
	AutoSync    bool              // false on production: every sync is a manual `argocd app sync`
	Charts      []Chart           // one Application each
	// Workloads are namespaces beyond the charts' that the project's Applications deploy to: the environment's
	// own services, such as the sample service.
	Workloads []string
}

// Infrastructure is an environment's AppProject, repository registration and ApplicationSet.
type Infrastructure struct {
	pulumi.ResourceState

	Project        pulumi.StringOutput // AppProject name
	ApplicationSet pulumi.StringOutput // ApplicationSet name
	Applications   []string            // names of the Applications the ApplicationSet generates, in chart order
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
	seen := map[string]int{}
	for i, c := range a.Charts {
		field := fmt.Sprintf("Charts[%d] (%q)", i, c.Name)
		switch {
		case c.Name == "":
			add("%s: Name is empty", field)
		// Helm refuses release names over 53 characters; the name is also part of the Application's name.
		case !names.DNSLabel.MatchString(c.Name) || len(c.Name) > names.MaxReleaseName:
			add("%s: Name is not a valid Helm release name (RFC 1123 label, at most 53 characters)", field)
		}
		if j, dup := seen[c.Name]; dup && c.Name != "" {
			add("%s: Name is also the name of Charts[%d]; chart names must be unique", field, j)
		} else {
			seen[c.Name] = i
		}
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
		if _, err := ChartValuesYAML(c); err != nil {
			add("%s: Values: %v", field, err)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("gitops: InfrastructureArgs: %s", strings.Join(problems, "; "))
	}
	return nil
}

// NewInfrastructure registers the Infrastructure component: the AppProject, the repository Secret and the
// ApplicationSet. Pass the bootstrap's AfterCRDs() (or DependsOn the Bootstrap) in opts: the AppProject and
// ApplicationSet are custom objects of Argo CD's CRDs.
func NewInfrastructure(ctx *pulumi.Context, name string, args *InfrastructureArgs, opts ...pulumi.ResourceOption) (*Infrastructure, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	appSetSpec, err := ApplicationSetSpecFor(args)
	if err != nil {
		return nil, err
	}

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
	appSetName := ApplicationSetName(args.Environment)
	// The project first: Argo CD refuses Applications of a project that does not exist yet.
	appSet, err := manifest.CustomResource{
		APIVersion: ArgoCDAPIVersion, Kind: "ApplicationSet",
		Metadata: meta(appSetName, nil, annotations),
		Spec:     appSetSpec,
	}.New(ctx, appSetName, child, pulumi.DependsOn([]pulumi.Resource{project}))
	if err != nil {
		return nil, err
	}

	inf.Project = project.Metadata.Name().Elem()
	inf.ApplicationSet = appSet.Metadata.Name().Elem()
	for _, c := range args.Charts {
		inf.Applications = append(inf.Applications, ApplicationName(args.Environment, c.Name))
	}
	return inf, ctx.RegisterResourceOutputs(inf, pulumi.Map{
		"project":        inf.Project,
		"applicationSet": inf.ApplicationSet,
		"applications":   pulumi.ToStringArray(inf.Applications),
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

// ClusterKinds are the cluster-scoped kinds the platform's charts may create: RBAC, admission webhooks and the
// ingress class. CRDs are not among them: the bootstrap installs every CRD.
var ClusterKinds = []GroupKind{
	{"rbac.authorization.k8s.io", "ClusterRole"},
	{"rbac.authorization.k8s.io", "ClusterRoleBinding"},
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
	{"networking.k8s.io", "IngressClass"},
}

// PulumiOwnedKinds are the namespaced kinds charts may not create: each namespace's quota and limits come from
// the Namespace component, and a chart must not be able to replace them.
var PulumiOwnedKinds = []GroupKind{{"", "ResourceQuota"}, {"", "LimitRange"}}

// AppProjectSpecFor is the environment's AppProject: the platform repository and the charts' repositories as
// sources, the charts' namespaces and the workload namespaces on the in-cluster server as destinations.
func AppProjectSpecFor(args *InfrastructureArgs) AppProjectSpec {
	repos := []string{args.RepoURL}
	var namespaces []string
	for _, c := range args.Charts {
		repos = append(repos, c.RepoURL)
		namespaces = append(namespaces, c.Namespace)
	}
	namespaces = append(namespaces, args.Workloads...)
	slices.Sort(repos)
	slices.Sort(namespaces)
	destinations := []ProjectDestination{}
	for _, ns := range slices.Compact(namespaces) {
		destinations = append(destinations, ProjectDestination{Server: InClusterServer, Namespace: ns})
	}
	return AppProjectSpec{
		Description:                fmt.Sprintf("Infrastructure charts of the %s environment, generated by the lke-platform program.", args.Environment),
		SourceRepos:                slices.Compact(repos),
		Destinations:               destinations,
		ClusterResourceWhitelist:   ClusterKinds,
		NamespaceResourceBlacklist: PulumiOwnedKinds,
	}
}

// ApplicationSetSpec is the spec of an Argo CD ApplicationSet with one list generator.
type ApplicationSetSpec struct {
	GoTemplate        bool                      `json:"goTemplate"`
	GoTemplateOptions []string                  `json:"goTemplateOptions"`
	Generators        []Generator               `json:"generators"`
	Template          ApplicationTemplate       `json:"template"`
	SyncPolicy        *ApplicationSetSyncPolicy `json:"syncPolicy,omitempty"`
}

// Generator is one ApplicationSet generator; the platform uses the list generator only.
type Generator struct {
	List ListGenerator `json:"list"`
}

// ListGenerator yields one Application per element.
type ListGenerator struct {
	Elements []ChartElement `json:"elements"`
}

// ChartElement is the list generator's element for one Chart: the template's parameters.
type ChartElement struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	RepoURL   string `json:"repoURL"`
	Chart     string `json:"chart"`
	Version   string `json:"version"`
	Values    string `json:"values"` // Helm values as YAML text (ChartValuesYAML)
}

// ApplicationSetSyncPolicy is what the ApplicationSet controller does to the Applications it generated.
type ApplicationSetSyncPolicy struct {
	// PreserveResourcesOnDeletion: deleting the ApplicationSet (or dropping a chart) leaves the deployed objects.
	PreserveResourcesOnDeletion bool `json:"preserveResourcesOnDeletion"`
}

// ApplicationTemplate is the Application every element renders into.
type ApplicationTemplate struct {
	Metadata TemplateMetadata `json:"metadata"`
	Spec     ApplicationSpec  `json:"spec"`
}

// TemplateMetadata is the generated Application's metadata.
type TemplateMetadata struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ApplicationSpec is the spec of an Argo CD Application.
type ApplicationSpec struct {
	Project     string                 `json:"project"`
	Source      ApplicationSource      `json:"source"`
	Destination ApplicationDestination `json:"destination"`
	SyncPolicy  SyncPolicy             `json:"syncPolicy"`
}

// ApplicationSource is a Helm chart in a Helm repository (Chart), or a folder of a Git repository (Path): a
// chart folder when Helm is set, plain manifests otherwise.
type ApplicationSource struct {
	RepoURL        string      `json:"repoURL"`
	Chart          string      `json:"chart,omitempty"`
	Path           string      `json:"path,omitempty"`
	TargetRevision string      `json:"targetRevision"`
	Helm           *HelmSource `json:"helm,omitempty"`
}

// HelmSource is how Argo CD renders the chart: with Values (YAML text) or ValuesObject (the same as data).
type HelmSource struct {
	ReleaseName  string         `json:"releaseName"`
	SkipCrds     bool           `json:"skipCrds,omitempty"` // the bootstrap owns every CRD
	Values       string         `json:"values,omitempty"`
	ValuesObject map[string]any `json:"valuesObject,omitempty"`
}

// ApplicationDestination is where the Application deploys.
type ApplicationDestination struct {
	Server    string `json:"server"`
	Namespace string `json:"namespace"`
}

// SyncPolicy is an Application's sync policy; Automated nil means every sync is manual.
type SyncPolicy struct {
	Automated   *AutomatedSync `json:"automated,omitempty"`
	SyncOptions []string       `json:"syncOptions"`
}

// AutomatedSync syncs on every change, deletes what the chart no longer renders and reverts manual edits.
type AutomatedSync struct {
	Prune    bool `json:"prune"`
	SelfHeal bool `json:"selfHeal"`
}

// ApplicationSetSpecFor is the environment's ApplicationSet: one element per chart, rendered with Go templates
// into Application "platform-<env>-<chart>". With AutoSync (every environment but production) Argo CD syncs,
// prunes and self-heals on its own; without it (production) there is no automated block, every sync is an
// explicit `argocd app sync`, and removing the ApplicationSet or a chart leaves the deployed objects in place.
func ApplicationSetSpecFor(args *InfrastructureArgs) (ApplicationSetSpec, error) {
	elements := []ChartElement{}
	for _, c := range args.Charts {
		values, err := ChartValuesYAML(c)
		if err != nil {
			return ApplicationSetSpec{}, fmt.Errorf("gitops: chart %q: %w", c.Name, err)
		}
		elements = append(elements, ChartElement{
			Name: c.Name, Namespace: c.Namespace, RepoURL: c.RepoURL, Chart: c.Chart, Version: c.Version, Values: values,
		})
	}
	labels := maps.Clone(args.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app.kubernetes.io/name"] = "{{.name}}"

	sync := SyncPolicy{SyncOptions: slices.Clone(SyncOptions)}
	var appSetSync *ApplicationSetSyncPolicy
	if args.AutoSync {
		sync.Automated = &AutomatedSync{Prune: true, SelfHeal: true}
	} else {
		appSetSync = &ApplicationSetSyncPolicy{PreserveResourcesOnDeletion: true}
	}
	return ApplicationSetSpec{
		GoTemplate: true,
		// A misspelt parameter fails the render instead of becoming "<no value>".
		GoTemplateOptions: []string{"missingkey=error"},
		Generators:        []Generator{{List: ListGenerator{Elements: elements}}},
		Template: ApplicationTemplate{
			Metadata: TemplateMetadata{Name: ApplicationName(args.Environment, "{{.name}}"), Labels: labels},
			Spec: ApplicationSpec{
				Project: ProjectName(args.Environment),
				Source: ApplicationSource{
					RepoURL: "{{.repoURL}}", Chart: "{{.chart}}", TargetRevision: "{{.version}}",
					Helm: &HelmSource{ReleaseName: "{{.name}}", SkipCrds: true, Values: "{{.values}}"},
				},
				Destination: ApplicationDestination{Server: InClusterServer, Namespace: "{{.namespace}}"},
				SyncPolicy:  sync,
			},
		},
		SyncPolicy: appSetSync,
	}, nil
}

// ChartValuesYAML renders a chart's values as the YAML text Argo CD passes to Helm. Values are JSON data (maps,
// slices, scalars, structs with json tags): they go through encoding/json first, so typed values marshal by
// their json tags, integers stay integers, and map keys come out sorted; the same values always give the same
// text. No values is "{}".
func ChartValuesYAML(c Chart) (string, error) {
	if len(c.Values) == 0 {
		return "{}\n", nil
	}
	raw, err := json.Marshal(c.Values)
	if err != nil {
		return "", fmt.Errorf("values do not marshal: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return "", err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(numbers(plain)); err != nil {
		return "", fmt.Errorf("values do not marshal to YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return out.String(), nil
}

// numbers turns the json.Numbers of decoded JSON into int64 where they are whole, float64 otherwise, so YAML
// writes them as numbers (and 1000000 as 1000000, not 1e+06).
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = numbers(val)
		}
	case []any:
		for i, val := range x {
			x[i] = numbers(val)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	}
	return v
}
