// Package manifest turns typed Go values into the untyped objects the kubernetes provider takes for custom
// resources (ServiceMonitor, ApplicationSet, SealedSecret, ...), so every custom object is built as Go data with
// JSON tags and never as a string template.
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
