// Package manifest holds Kubernetes objects as typed Go data with JSON tags, never as string templates: the
// objects the components hand to Argo CD (Object), and the untyped form the kubernetes provider takes for the
// custom objects Pulumi registers itself (CustomResource: the AppProject and the root Application).
package manifest

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Untyped converts a value with JSON tags into the map form the provider and YAML encoders take. It panics on a
// value that cannot be marshalled: that is a programming error in a type of this project, not bad input.
func Untyped(v any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("manifest: %T does not marshal: %v", v, err))
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("manifest: %T is not a JSON object: %v", v, err))
	}
	return out
}

// Meta is the metadata the platform sets on the objects it builds as data.
type Meta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"` // empty for cluster-scoped objects
	Labels    map[string]string `json:"labels,omitempty"`
}

// Object is a custom object as data: its type, metadata and spec (any value with JSON tags).
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   Meta   `json:"metadata"`
	Spec       any    `json:"spec"`
}

// CustomResource describes one custom object: its type, metadata and spec (any value with JSON tags).
type CustomResource struct {
	APIVersion string
	Kind       string
	Metadata   *metav1.ObjectMetaArgs
	Spec       any
}

// New registers the custom object with the kubernetes provider.
func (c CustomResource) New(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	return apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(c.APIVersion),
		Kind:        pulumi.String(c.Kind),
		Metadata:    c.Metadata,
		OtherFields: kubernetes.UntypedArgs{"spec": Untyped(c.Spec)},
	}, opts...)
}
