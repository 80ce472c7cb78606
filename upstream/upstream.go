// Package upstream holds pinned upstream YAML, vendored byte for byte from the projects' Go modules and embedded
// in the program: the CustomResourceDefinitions of every platform add-on (Argo CD, cert-manager,
// prometheus-operator, sealed-secrets), Argo CD's core install and its notifications controller. The copies live beside this file; `go
// generate ./upstream` refreshes them from the module cache (see gen/ and internal/pins for what is copied from
// where). Nothing here is edited by hand: changes to the objects are made in code by their consumers.
package upstream

//go:generate go run ./gen

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/upstream/internal/pins"
)

// Versions of the vendored upstream projects.
const (
	ArgoCDVersion             = pins.ArgoCD
	PrometheusOperatorVersion = pins.PrometheusOperator
	CertManagerVersion        = pins.CertManager
	SealedSecretsVersion      = pins.SealedSecrets
)

// argoCDInstall is the embedded path of Argo CD's core install.
const argoCDInstall = "argocd/core-install.yaml"

//go:embed crds argocd
var files embed.FS

// File is one vendored file.
type File struct {
	Name string // embedded path, "<project>/<file>" for CRDs: "cert-manager/cert-manager.io_issuers.yaml"
	Data []byte
}

// Source says where a vendored file comes from, for a check that the copy still matches its module.
type Source struct {
	Module   string // module path, as `go mod download` takes it
	Version  string // module version
	Path     string // file path inside the module
	Embedded string // path of the copy inside this package's directory (and embedded file system)
}

// Content is the embedded copy.
func (s Source) Content() []byte { return mustRead(s.Embedded) }

// Sources lists every vendored file with its origin, in pin order then by name.
func Sources() []Source {
	var out []Source
	for _, p := range pins.All {
		for _, name := range embeddedNames(p) {
			out = append(out, Source{
				Module: p.Module, Version: p.Version,
				Path: path.Join(p.Dir, name), Embedded: path.Join(p.Dest, name),
			})
		}
	}
	return out
}

// CRDs returns every vendored CRD file, in a stable order: project by project (argo-cd, cert-manager,
// prometheus-operator, sealed-secrets), files by name.
func CRDs() []File {
	var out []File
	for _, p := range pins.All {
		if !p.CRDs {
			continue
		}
		for _, name := range embeddedNames(p) {
			embedded := path.Join(p.Dest, name)
			out = append(out, File{Name: path.Join(path.Base(p.Dest), name), Data: mustRead(embedded)})
		}
	}
	return out
}

// ArgoCDCRDsDir is the folder of Argo CD's own CRDs among CRDs(): the bootstrap applies these; Argo CD applies
// the add-ons' (the rest of crds/, read from the repository).
const ArgoCDCRDsDir = "argo-cd"

// ArgoCDCRDs returns the CRD files of Argo CD itself, in CRDs() order.
func ArgoCDCRDs() []File {
	var out []File
	for _, f := range CRDs() {
		if path.Dir(f.Name) == ArgoCDCRDsDir {
			out = append(out, f)
		}
	}
	return out
}

// ArgoCDInstall is Argo CD's upstream manifests/core-install.yaml (CRDs included, namespace left unset): the
// controllers without the API server, UI or Dex, which a platform reconciled from code does not need.
func ArgoCDInstall() []byte { return mustRead(argoCDInstall) }

// argoCDNotifications is the embedded folder of Argo CD's notifications controller.
const argoCDNotifications = "argocd/notification"

// ArgoCDNotifications is the kustomize base of Argo CD's notifications controller (manifests/base/notification,
// without its kustomization), one object per file, sorted by name: the part of Argo CD's full install that the
// core install leaves out and the platform runs.
func ArgoCDNotifications() []File {
	var out []File
	for _, s := range Sources() {
		if path.Dir(s.Embedded) == argoCDNotifications {
			out = append(out, File{Name: s.Embedded, Data: s.Content()})
		}
	}
	return out
}

// Object is one Kubernetes object decoded from YAML into JSON-compatible values (numbers are float64).
type Object = map[string]any

// Decode splits a multi-document YAML file into its objects, skipping empty documents. Values are converted as
// the API server reads them from JSON: a timestamp-looking scalar stays a string, numbers are float64, so the
// objects can go straight to the kubernetes provider.
func Decode(data []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Object
	for i := 0; ; i++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		doc, err := plain(&node)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if doc == nil {
			continue
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("document %d is a %T, not an object", i, doc)
		}
		out = append(out, obj)
	}
}

// plain converts a YAML node into JSON-compatible values. yaml.v3 alone would turn an unquoted date into a
// time.Time; Kubernetes' own YAML reader keeps it the string it was written as.
func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return plain(n.Content[0])
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: only plain scalar keys are supported", k.Line)
			}
			value, err := plain(v)
			if err != nil {
				return nil, err
			}
			out[k.Value] = value
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

// embeddedNames returns the names of the embedded copies of a pin, sorted.
func embeddedNames(p pins.Pin) []string {
	entries, err := fs.ReadDir(files, p.Dest)
	if err != nil {
		panic(fmt.Sprintf("upstream: %s is not embedded: %v", p.Dest, err)) // the go:embed line covers every Dest
	}
	var names []string
	for _, e := range entries {
		for _, pattern := range p.Patterns {
			if ok, _ := path.Match(pattern, e.Name()); ok && !e.IsDir() {
				names = append(names, e.Name())
				break
			}
		}
	}
	slices.Sort(names)
	return names
}

// scalar converts a scalar as JSON would carry it: strings, float64 numbers, booleans, null. The common forms
// are parsed directly, which is much faster on megabytes of CRD schema than yaml.v3's generic Decode.
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		switch n.Value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return float64(i), nil
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, nil
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		return x, nil
	case bool, string, nil:
		return x, nil
	}
	return nil, fmt.Errorf("line %d: unsupported scalar %q (%T)", n.Line, n.Value, v)
}

func mustRead(name string) []byte {
	data, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("upstream: %s is not embedded: %v", name, err))
	}
	return data
}
