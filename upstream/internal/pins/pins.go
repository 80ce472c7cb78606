// Package pins lists the upstream files the project vendors: which module, at which version, which files, and
// where the copies live under upstream/. The generator and the upstream package both read it, so the list of
// what is vendored is written once.
package pins

// Versions of the upstream projects. Bumping one is: change it here, run `go generate ./upstream`, review the diff.
const (
	ArgoCD             = "v3.2.11" // the version of the controllers the tests run (tools/versions.env ARGOCD_VERSION)
	PrometheusOperator = "v0.85.0"
	CertManager        = "v1.21.2"
	SealedSecrets      = "v0.40.0"
)

// Pin is a set of files of one module version, copied byte for byte into one directory under upstream/.
type Pin struct {
	Module   string   // module path, as `go mod download` takes it
	Version  string   // exact version
	Dir      string   // directory inside the module
	Patterns []string // path.Match patterns of the files of Dir to copy
	Dest     string   // directory under upstream/ the copies go to, slash-separated
	CRDs     bool     // every file holds CustomResourceDefinitions only
}

// All is every pin, in the order the vendored CRDs are installed.
var All = []Pin{
	{
		Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCD, Dir: "manifests/crds", CRDs: true,
		// No ApplicationSet: an environment's Applications are the root Application's (components/gitops).
		Patterns: []string{"application-crd.yaml", "appproject-crd.yaml"},
		Dest:     "crds/argo-cd",
	},
	{
		Module: "github.com/cert-manager/cert-manager", Version: CertManager, Dir: "deploy/crds", CRDs: true,
		Patterns: []string{"*.yaml"}, // not the README beside them
		Dest:     "crds/cert-manager",
	},
	{
		Module: "github.com/prometheus-operator/prometheus-operator", Version: PrometheusOperator,
		Dir: "example/prometheus-operator-crd", CRDs: true,
		Patterns: []string{"*"},
		Dest:     "crds/prometheus-operator",
	},
	{
		// The module declares itself github.com/bitnami/sealed-secrets; it is published under bitnami-labs.
		Module: "github.com/bitnami-labs/sealed-secrets", Version: SealedSecrets, Dir: "helm/sealed-secrets/crds", CRDs: true,
		Patterns: []string{"bitnami.com_sealedsecrets.yaml"},
		Dest:     "crds/sealed-secrets",
	},
	{
		Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCD, Dir: "manifests",
		Patterns: []string{"core-install.yaml"},
		Dest:     "argocd",
	},
	{
		// The notifications controller, which the core install leaves out: it sends the Applications' events to
		// the environment's Loki (components/gitops, notifications.go). Its kustomize base, without the
		// kustomization (the bootstrap sets the image the core install runs).
		Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCD, Dir: "manifests/base/notification",
		Patterns: []string{"argocd-notifications-*.yaml"},
		Dest:     "argocd/notification",
	},
}
