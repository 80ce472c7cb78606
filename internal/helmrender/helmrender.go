// Package helmrender renders a Helm chart with its values through Helm's own Go SDK, as Argo CD's repo-server
// does with `helm template`: the values are checked against the chart's values.schema.json first, so a mistyped
// key or a wrong type fails here instead of being ignored, and the result is decoded into objects that tests
// can compare or apply.
package helmrender

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// Release names the release a chart is rendered for, as an Argo CD Application's destination does.
type Release struct {
	Name      string // the Application's release name
	Namespace string // its destination namespace
}

// Render loads the chart at chartPath (a directory or an archive), validates values against its schema and
// renders it. Objects come back in the order of their template files (NOTES.txt and partials left out); each one
// without a namespace gets the release's, as `helm template --namespace` and Argo CD apply them.
func Render(chartPath string, release Release, values map[string]any) ([]*unstructured.Unstructured, error) {
	// Through JSON, as an Application's valuesObject reaches Helm: typed Go maps and numbers become the
	// map[string]any and float64 the schema check and the templates expect.
	raw, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("helmrender: values: %w", err)
	}
	values = nil
	if err := json.Unmarshal(raw, &values); err != nil {
		return nil, fmt.Errorf("helmrender: values: %w", err)
	}
	chrt, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("helmrender: loading %s: %w", chartPath, err)
	}
	// As `helm template` does: a subchart whose condition or tags are off is left out, import-values applied,
	// and a dependency Chart.yaml names but charts/ lacks is an error (Argo CD's repo-server would fetch it).
	present := map[string]bool{}
	for _, sub := range chrt.Dependencies() {
		present[sub.Name()] = true
	}
	for _, dep := range chrt.Metadata.Dependencies {
		if !present[dep.Name] {
			return nil, fmt.Errorf("helmrender: %s: dependency %s %s is in Chart.yaml but not in charts/", chartPath, dep.Name, dep.Version)
		}
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, values); err != nil {
		return nil, fmt.Errorf("helmrender: dependencies of %s: %w", chrt.Name(), err)
	}
	// ToRenderValues merges the chart's defaults and checks the result against values.schema.json.
	vals, err := chartutil.ToRenderValues(chrt, values, chartutil.ReleaseOptions{
		Name: release.Name, Namespace: release.Namespace, IsInstall: true, Revision: 1,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("helmrender: values of %s: %w", chrt.Name(), err)
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("helmrender: rendering %s: %w", chrt.Name(), err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var objects []*unstructured.Unstructured
	for _, name := range names {
		objs, err := decode(files[name])
		if err != nil {
			return nil, fmt.Errorf("helmrender: %s: %w", name, err)
		}
		for _, obj := range objs {
			if obj.GetNamespace() == "" && !clusterScoped[obj.GetKind()] {
				obj.SetNamespace(release.Namespace)
			}
		}
		objects = append(objects, objs...)
	}
	return objects, nil
}

// clusterScoped are the cluster-scoped kinds the platform's charts and folders hold: they get no namespace (Argo
// CD learns a kind's scope from the API server; a render without one needs the list).
var clusterScoped = map[string]bool{
	"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"ClusterIssuer": true, "IngressClass": true, "PriorityClass": true, "StorageClass": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "APIService": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "PersistentVolume": true,
}

// decode splits one rendered template into its objects, skipping empty documents (a template whose condition
// rendered nothing).
func decode(manifest string) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifest)), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("a document without kind or apiVersion: %v", obj)
		}
		out = append(out, u)
	}
}
