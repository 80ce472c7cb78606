// Package vendorcharts lists the add-on Helm charts the platform vendors into this repository under
// charts/vendor/, so Argo CD renders them from this repository's own path, offline, at exact versions.
//
// Each chart is a directory laid out as `helm package` would pack it (its .helmignore applied), with every
// dependency its Chart.yaml names already in its charts/ folder at the exact version: Argo CD v3.2.11's
// repo-server runs `helm template .` first and only falls back to `helm dependency build` (which reaches the
// dependencies' repositories) when Helm reports a dependency missing from charts/
// (reposerver/repository/repository.go, helmTemplate and runHelmBuild; util/helm/helm.go,
// IsMissingDependencyErr). With every dependency present that fallback never runs.
//
// The table All is the pin list: where each chart comes from (a Go module version or a Git commit of its public
// repository), its version, its path and the sha256 of its tree (TreeSum). The test of this package recomputes
// every sum from the committed files, so an edit to a vendored chart fails the suite. `go generate
// ./internal/vendorcharts` refreshes the trees from the pins (see gen/).
package vendorcharts

//go:generate go run ./gen -root ../..

import (
	"path"
	"slices"
)

// Dir is the repository-relative folder the vendored charts live in.
const Dir = "charts/vendor"

// Source is where a chart (or one of its dependencies) comes from: either a Go module version, downloaded with
// `go mod download` from the Go module proxy, or a commit of a public GitHub repository, which the refresh
// command reads from a local clone given to it (it fetches nothing from GitHub itself).
type Source struct {
	Module  string // Go module path; with Version
	Version string // exact module version
	Sum     string // the module's go.sum hash (h1:), as `go mod download -json` reports it

	Repo   string // GitHub owner/name; with Commit
	Ref    string // the release tag of the chart, when upstream tags it
	Commit string // 40-hex commit the files are taken from

	Path string // the chart directory (or a packaged .tgz chart) inside the module or repository
}

// Git reports whether the source is a Git commit rather than a Go module.
func (s Source) Git() bool { return s.Repo != "" }

// String names the source for messages: module@version or owner/name@commit.
func (s Source) String() string {
	if s.Git() {
		return s.Repo + "@" + s.Commit + " " + s.Path
	}
	return s.Module + "@" + s.Version + " " + s.Path
}

// Build is how a chart's tree is made from its source.
type Build int

const (
	// Packaged: the source directory as `helm package` takes it, files byte for byte, .helmignore applied.
	Packaged Build = iota
	// CertManagerMake: cert-manager keeps a chart template in deploy/charts/cert-manager and its Makefile
	// assembles the released chart (make/manifests.mk, $(bin_dir)/helm/cert-manager): templates, values,
	// schema and .helmignore copied; README.md from README.template.md with {{RELEASE_VERSION}} replaced;
	// Chart.yaml with version, appVersion, the artifacthub.io/signKey annotation (signkey_annotation.txt) and
	// artifacthub.io/prerelease set.
	CertManagerMake
)

// Dependency is a chart's dependency, vendored into the chart's charts/ folder: a directory charts/<Name>/, or,
// when its source is a packaged chart (a .tgz file), that archive byte for byte as charts/<file>.
type Dependency struct {
	Name    string // the dependency's chart name (not its alias)
	Version string // exact version, within the range the parent's Chart.yaml gives
	Source  Source
}

// Chart is one vendored chart.
type Chart struct {
	Name         string // chart name, as Chart.yaml and the components' constants spell it
	Version      string // exact chart version, as the components' constants pin it
	Source       Source
	Build        Build
	Dependencies []Dependency
	// Sum is "sha256:<hex>" of the tree at Path (TreeSum). For a chart not in the tree yet it is the sum the
	// refresh command must reproduce from the sources.
	Sum string
	// Missing is empty when the chart is vendored at Path; otherwise it says why it is not in this repository
	// yet, and the platform still needs the chart's upstream Helm repository for it.
	Missing string
}

// Path is the chart's repository-relative, slash-separated directory: charts/vendor/<name>.
func (c Chart) Path() string { return path.Join(Dir, c.Name) }

// Vendored reports whether the chart's tree is committed at Path.
func (c Chart) Vendored() bool { return c.Missing == "" }

// Lookup returns the pin of the chart called name ("ingress-nginx", "cert-manager", "external-dns",
// "kube-prometheus-stack", "loki", "promtail", "tempo", "sealed-secrets").
func Lookup(name string) (Chart, bool) {
	i := slices.IndexFunc(All, func(c Chart) bool { return c.Name == name })
	if i < 0 {
		return Chart{}, false
	}
	return All[i], true
}

// Names are the charts' names, in the order of All.
func Names() []string {
	names := make([]string, len(All))
	for i, c := range All {
		names[i] = c.Name
	}
	return names
}
