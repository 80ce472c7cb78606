package reachability

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/internal/helmrender"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

// namespaceNameLabel is the label the API server sets on every namespace, which selectors name namespaces by.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// Objects are what the matrix is computed from: the NetworkPolicies, namespaces and pods the program registers,
// and those Argo CD renders from this repository (the root Application's charts, recursively).
type Objects struct {
	Policies []*networkingv1.NetworkPolicy
	// Namespaces are the labels of each namespace, the API server's kubernetes.io/metadata.name included.
	Namespaces map[string]map[string]string
	Workloads  []Workload
	// Unrendered are the Applications whose chart comes from a Helm repository, which is not read here: their
	// pods are stood in for (peers.go) and their values must not turn a chart's NetworkPolicies on.
	Unrendered []string
}

// Workload is a controller's pods: their labels and the ports their containers serve.
type Workload struct {
	Namespace, Name string
	Labels          map[string]string
	Ports           []corev1.ContainerPort
}

// Pulumi's type tokens of the kinds read here.
//
// #nosec G101 -- type tokens, not credentials
const (
	networkPolicyToken = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	namespaceToken     = "kubernetes:core/v1:Namespace"
	applicationToken   = "kubernetes:argoproj.io/v1alpha1:Application"
)

var workloadTokens = map[string]string{
	"kubernetes:apps/v1:Deployment":  "Deployment",
	"kubernetes:apps/v1:StatefulSet": "StatefulSet",
	"kubernetes:apps/v1:DaemonSet":   "DaemonSet",
}

// Collect reads the objects of rec, then renders every Application whose source is a folder of this repository
// (dir): a chart with its values, as Argo CD's repo-server renders it, or plain manifests.
func Collect(rec *mocks.Recorder, dir string) (*Objects, error) {
	o := &Objects{Namespaces: map[string]map[string]string{}}
	for _, r := range rec.Resources() {
		kind := workloadTokens[r.Type]
		switch r.Type {
		case networkPolicyToken:
			kind = "NetworkPolicy"
		case namespaceToken:
			kind = "Namespace"
		case applicationToken:
			kind = "Application"
		}
		if kind == "" {
			continue
		}
		obj := r.Inputs.Mappable()
		obj["kind"] = kind
		if err := o.add(obj, dir, "Pulumi resource "+r.Name); err != nil {
			return nil, err
		}
	}
	slices.Sort(o.Unrendered)
	return o, nil
}

// add takes one object in; an Application brings in what Argo CD renders from it.
func (o *Objects) add(obj map[string]any, dir, from string) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	switch obj["kind"] {
	case "NetworkPolicy":
		var np networkingv1.NetworkPolicy
		if err := strictJSON(raw, &np); err != nil {
			return fmt.Errorf("%s: NetworkPolicy: %w", from, err)
		}
		o.Policies = append(o.Policies, &np)
	case "Namespace":
		var ns corev1.Namespace
		if err := json.Unmarshal(raw, &ns); err != nil {
			return fmt.Errorf("%s: Namespace: %w", from, err)
		}
		labels := map[string]string{namespaceNameLabel: ns.Name}
		for k, v := range ns.Labels {
			labels[k] = v
		}
		o.Namespaces[ns.Name] = labels
	case "Deployment", "StatefulSet", "DaemonSet":
		var w struct {
			Metadata struct{ Name, Namespace string }
			Spec     struct{ Template corev1.PodTemplateSpec }
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("%s: %s: %w", from, obj["kind"], err)
		}
		var ports []corev1.ContainerPort
		for _, c := range w.Spec.Template.Spec.Containers {
			ports = append(ports, c.Ports...)
		}
		o.Workloads = append(o.Workloads, Workload{
			Namespace: w.Metadata.Namespace, Name: w.Metadata.Name, Labels: w.Spec.Template.Labels, Ports: ports,
		})
	case "Application":
		var app gitops.Application
		if err := json.Unmarshal(raw, &app); err != nil {
			return fmt.Errorf("%s: Application: %w", from, err)
		}
		return o.render(app, dir)
	}
	return nil
}

// render adds what Argo CD applies for app: a chart or a folder of this repository, rendered here; a chart of a
// Helm repository is listed as unrendered.
func (o *Objects) render(app gitops.Application, dir string) error {
	src, dest := app.Spec.Source, app.Spec.Destination
	from := "Application " + app.Metadata.Name
	switch {
	case src.Path == "" || src.Chart != "":
		if key := networkPolicyKey(src.Helm); key != "" {
			return fmt.Errorf("%s: its chart %s comes from %s, which is not rendered here, and its values set %s: "+
				"the matrix would miss the NetworkPolicies the chart makes", from, src.Chart, src.RepoURL, key)
		}
		o.Unrendered = append(o.Unrendered, fmt.Sprintf("%s (%s %s from %s)", app.Metadata.Name, src.Chart, src.TargetRevision, src.RepoURL))
		return nil
	case src.Helm != nil:
		objs, err := helmrender.Render(filepath.Join(dir, filepath.FromSlash(src.Path)),
			helmrender.Release{Name: src.Helm.ReleaseName, Namespace: dest.Namespace}, src.Helm.ValuesObject)
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		for _, obj := range objs {
			if err := o.add(obj.Object, dir, from+" -> "+obj.GetKind()+" "+obj.GetName()); err != nil {
				return err
			}
		}
		return nil
	default:
		return o.folder(app, dir)
	}
}

// folder adds the objects of a folder of plain manifests (an Application's directory source) that can shape the
// matrix; only documents that mention one of those kinds are decoded (the CRD folder is megabytes of YAML).
func (o *Objects) folder(app gitops.Application, dir string) error {
	src := app.Spec.Source
	root := filepath.Join(dir, filepath.FromSlash(src.Path))
	return filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, file)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (src.Directory == nil || !src.Directory.Recurse) {
				return filepath.SkipDir
			}
			return nil
		}
		if src.Directory != nil && src.Directory.Exclude != "" {
			if skip, _ := path.Match(src.Directory.Exclude, rel); skip {
				return nil
			}
		}
		switch path.Ext(rel) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		data, err := os.ReadFile(file) // #nosec G122 G304 -- the repository's own committed files
		if err != nil {
			return err
		}
		if !readKinds.Match(data) {
			return nil
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("the Application %s: %s: %w", app.Metadata.Name, rel, err)
			}
			kind, _ := obj["kind"].(string)
			if kind == "CustomResourceDefinition" || obj == nil {
				continue
			}
			if meta, ok := obj["metadata"].(map[string]any); ok && meta["namespace"] == nil && kind != "Namespace" {
				meta["namespace"] = app.Spec.Destination.Namespace
			}
			if err := o.add(obj, dir, "Application "+app.Metadata.Name+" -> "+rel); err != nil {
				return err
			}
		}
	})
}

// readKinds finds a document of a kind add reads, in YAML or JSON.
var readKinds = regexp.MustCompile(`(?m)^\s*"?kind"?\s*:\s*"?(NetworkPolicy|Namespace|Deployment|StatefulSet|DaemonSet|Application)"?\s*,?\s*$`)

// networkPolicyKey is the path of a key named like "networkPolicy" in a chart's values, "" when there is none.
func networkPolicyKey(helm *gitops.HelmSource) string {
	if helm == nil {
		return ""
	}
	var find func(v any, at string) string
	find = func(v any, at string) string {
		switch t := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(t)) {
				p := strings.TrimPrefix(at+"."+k, ".")
				if strings.Contains(strings.ToLower(k), "networkpolic") {
					return p
				}
				if found := find(t[k], p); found != "" {
					return found
				}
			}
		case []any:
			for i, e := range t {
				if found := find(e, fmt.Sprintf("%s[%d]", at, i)); found != "" {
					return found
				}
			}
		}
		return ""
	}
	return find(helm.ValuesObject, "")
}

// strictJSON decodes raw into v, refusing fields v does not have: a NetworkPolicy key the engine would not see
// is an error rather than a policy read as wider or narrower than it is.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
