package gitops

import (
	"maps"
	"slices"

	"github.com/platform-eng/lke-platform/internal/manifest"
	"github.com/platform-eng/lke-platform/internal/names"
)

// Paths of this repository that Argo CD renders.
const (
	// ManifestsChart is the chart that applies the objects of its "objects" value as they are: the root
	// Application's child Applications, and the objects each component builds as Go data (rules, dashboards,
	// sealed secrets, issuers).
	ManifestsChart = "charts/manifests"
	// AddonCRDsPath holds the add-ons' vendored CRDs (upstream/); Argo CD's own CRDs there are the bootstrap's.
	AddonCRDsPath = "upstream/crds"
	// argoCDCRDs are the files under AddonCRDsPath that the bootstrap applies, not Argo CD.
	argoCDCRDs = "argo-cd/*"
)

// Application is an Argo CD Application object as Go data: the root Application of an environment and every
// Application it holds.
type Application struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   ObjectMeta      `json:"metadata"`
	Spec       ApplicationSpec `json:"spec"`
}

// ObjectMeta is the metadata the platform sets on the objects it builds as data.
type ObjectMeta = manifest.Meta

// ApplicationSpec is the spec of an Argo CD Application.
type ApplicationSpec struct {
	Project     string                 `json:"project"`
	Source      ApplicationSource      `json:"source"`
	Destination ApplicationDestination `json:"destination"`
	SyncPolicy  SyncPolicy             `json:"syncPolicy"`
	// RevisionHistoryLimit is how many past syncs Argo CD keeps in the status; nil keeps its default, 10.
	RevisionHistoryLimit *int `json:"revisionHistoryLimit,omitempty"`
}

// ApplicationSource is a Helm chart in a Helm repository (Chart), or a folder of a Git repository (Path): a
// chart folder when Helm is set, plain manifests when Directory is.
type ApplicationSource struct {
	RepoURL        string           `json:"repoURL"`
	Chart          string           `json:"chart,omitempty"`
	Path           string           `json:"path,omitempty"`
	TargetRevision string           `json:"targetRevision"`
	Helm           *HelmSource      `json:"helm,omitempty"`
	Directory      *DirectorySource `json:"directory,omitempty"`
}

// HelmSource is how Argo CD renders a chart: its release name and values, as data.
type HelmSource struct {
	ReleaseName  string         `json:"releaseName"`
	SkipCrds     bool           `json:"skipCrds,omitempty"` // the add-ons' CRDs come from their own Application
	ValuesObject map[string]any `json:"valuesObject,omitempty"`
}

// DirectorySource is a folder of plain manifests.
type DirectorySource struct {
	Recurse bool   `json:"recurse"`
	Exclude string `json:"exclude,omitempty"` // glob of paths under the folder left out
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
	Retry       *Retry         `json:"retry,omitempty"`
}

// AutomatedSync syncs on every change, deletes what the chart no longer renders and reverts manual edits.
type AutomatedSync struct {
	Prune    bool `json:"prune"`
	SelfHeal bool `json:"selfHeal"`
}

// Retry is how often a failed sync is tried again. An environment's Applications are created together and
// some need what another installs first (custom objects need the CRDs Application's types): retrying lets
// them converge in any order, as Argo CD's sync waves cannot order separate Applications.
type Retry struct {
	Limit   int     `json:"limit"`
	Backoff Backoff `json:"backoff"`
}

// Backoff is the wait between retries: Duration, then times Factor, at most MaxDuration.
type Backoff struct {
	Duration    string `json:"duration"`
	Factor      int    `json:"factor"`
	MaxDuration string `json:"maxDuration"`
}

// ChildRetry is the retry policy of every Application the root holds: about ten minutes in all.
var ChildRetry = Retry{Limit: 10, Backoff: Backoff{Duration: "5s", Factor: 2, MaxDuration: "2m"}}

// ApplicationArgs describe one Application of an environment.
type ApplicationArgs struct {
	Name        string            // the Application's name: "platform-<env>-<part>"
	Environment string            // its project is the environment's (ProjectName)
	Namespace   string            // Argo CD's namespace: where the Application lives
	Labels      map[string]string // the environment's common labels
	Source      ApplicationSource // what Argo CD renders
	Destination string            // the namespace the Application deploys to
	AutoSync    bool              // false on production: every sync is an operator's (`argocd app sync`)
	// Options are sync options beyond SyncOptions.
	Options []string
	// Retry is the retry policy of a failed sync; nil for none.
	Retry *Retry
	// KeepLive: an automated sync neither prunes nor reverts edits (the add-ons' CRDs: deleting one deletes
	// every object of its kind).
	KeepLive bool
}

// NewApplication is an Application of the environment's project. Outside production Argo CD syncs on its own
// (pruning and self-healing unless KeepLive); on production it stays OutOfSync until an operator syncs it.
func NewApplication(a ApplicationArgs) Application {
	sync := SyncPolicy{SyncOptions: append(slices.Clone(SyncOptions), a.Options...), Retry: a.Retry}
	if a.AutoSync {
		sync.Automated = &AutomatedSync{Prune: !a.KeepLive, SelfHeal: !a.KeepLive}
	}
	return Application{
		APIVersion: ArgoCDAPIVersion, Kind: "Application",
		Metadata: ObjectMeta{Name: a.Name, Namespace: a.Namespace, Labels: maps.Clone(a.Labels)},
		Spec: ApplicationSpec{
			Project:     ProjectName(a.Environment),
			Source:      a.Source,
			Destination: ApplicationDestination{Server: InClusterServer, Namespace: a.Destination},
			SyncPolicy:  sync,
		},
	}
}

// RepoApplicationArgs describe an Application of a folder of the platform repository.
type RepoApplicationArgs struct {
	Name        string            // the Application's name: "platform-<env>-<part>"
	Environment string            // its project is the environment's (ProjectName)
	Namespace   string            // Argo CD's namespace: where the Application lives
	Labels      map[string]string // the environment's common labels
	RepoURL     string            // the platform repository
	Revision    string            // branch, tag or commit of RepoURL
	Path        string            // folder of the repository: a chart when Helm is set, manifests otherwise
	Helm        *HelmSource       // release name and values of a chart folder
	Destination string            // the namespace the Application deploys to
	AutoSync    bool              // false on production: every sync is an operator's (`argocd app sync`)
}

// RepoApplication is the Application of a folder of the platform repository, retried as every child of the
// root is (ChildRetry).
func RepoApplication(a RepoApplicationArgs) Application {
	source := ApplicationSource{RepoURL: a.RepoURL, Path: a.Path, TargetRevision: a.Revision, Helm: a.Helm}
	if a.Helm == nil {
		source.Directory = &DirectorySource{Recurse: true}
	}
	retry := ChildRetry
	return NewApplication(ApplicationArgs{
		Name: a.Name, Environment: a.Environment, Namespace: a.Namespace, Labels: a.Labels, Source: source,
		Destination: a.Destination, AutoSync: a.AutoSync, Retry: &retry,
	})
}

// Folder is a set of objects a component builds as data for Argo CD: one Application of ManifestsChart,
// "platform-<env>-<Name>", whose "objects" value they are. The spec's generated/<env>/<Name>/.
type Folder struct {
	Name        string   // "network", "secrets", "observability"
	Destination string   // the namespace of objects that name none
	Objects     []Object // each with apiVersion, kind and metadata.name
}

// Object is a Kubernetes object as data: any value that marshals to one (a struct with JSON tags or a map).
type Object = any

// Objects widens a list of typed objects (Applications, manifest.Objects) to a Folder's or the root's list.
func Objects[T any](list []T) []Object {
	out := make([]Object, len(list))
	for i, o := range list {
		out[i] = o
	}
	return out
}

// ManifestsValues are the values of ManifestsChart for a list of objects.
func ManifestsValues(objects []Object) map[string]any {
	list := make([]any, len(objects))
	copy(list, objects)
	return map[string]any{"objects": list}
}

// ApplicationName is the name of one of an environment's Applications: a chart's, a folder's.
func ApplicationName(environment, part string) string {
	return names.Platform(environment, part)
}
