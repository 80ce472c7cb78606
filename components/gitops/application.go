package gitops

import (
	"maps"
	"slices"
)

// Application is an Argo CD Application object as Go data: what the root Application of an environment is, and
// what the environment's folder of Applications in this repository (generated/<env>/argo/) holds.
type Application struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   ObjectMeta      `json:"metadata"`
	Spec       ApplicationSpec `json:"spec"`
}

// ObjectMeta is the metadata the platform sets on an Application.
type ObjectMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels,omitempty"`
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

// RepoApplication is the Application of a folder of the platform repository. Outside production Argo CD syncs,
// prunes and self-heals on its own; on production the Application stays OutOfSync until an operator syncs it.
func RepoApplication(a RepoApplicationArgs) Application {
	sync := SyncPolicy{SyncOptions: slices.Clone(SyncOptions)}
	if a.AutoSync {
		sync.Automated = &AutomatedSync{Prune: true, SelfHeal: true}
	}
	labels := maps.Clone(a.Labels)
	return Application{
		APIVersion: ArgoCDAPIVersion, Kind: "Application",
		Metadata: ObjectMeta{Name: a.Name, Namespace: a.Namespace, Labels: labels},
		Spec: ApplicationSpec{
			Project:     ProjectName(a.Environment),
			Source:      ApplicationSource{RepoURL: a.RepoURL, Path: a.Path, TargetRevision: a.Revision, Helm: a.Helm},
			Destination: ApplicationDestination{Server: InClusterServer, Namespace: a.Destination},
			SyncPolicy:  sync,
		},
	}
}
