package pack

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

// Refusals runs the pack's resource policies on one object, with the policies' default config, and returns what
// each policy that refuses it reports, by policy name. It is the pack's verdict on an object without the engine:
// the tests put it beside the admission policies' verdict on the same objects (tests/admission_test.go), and
// check with it what Argo CD applies, which no preview sends to the pack. production-resources-protected is
// left out: it judges how Pulumi manages a resource (its protect option), not the object.
func Refusals(ctx context.Context, stack Stack, world World, r policyx.AnalyzerResource) (map[string][]string, error) {
	refused := map[string][]string{}
	for _, p := range Policies(stack, world) {
		rp, ok := p.(policyx.ResourceValidationPolicy)
		if !ok || p.Name() == rules.ProductionProtected {
			continue
		}
		reports := &reports{}
		if err := rp.Validate(ctx, policyx.ResourceValidationArgs{Manager: reports, Resource: r, Config: map[string]any{}}); err != nil {
			return nil, fmt.Errorf("%s on %s: %w", p.Name(), r.URN, err)
		}
		if len(reports.messages) > 0 {
			refused[p.Name()] = reports.messages
		}
	}
	return refused, nil
}

// KubernetesResource is a Kubernetes object (as JSON or YAML decodes it) as the engine hands it to the pack
// when the kubernetes provider registers it: typed kubernetes:<group>/<version>:<Kind>, the core group named
// "core", with the object's fields as its properties.
func KubernetesResource(object map[string]any) (policyx.AnalyzerResource, error) {
	apiVersion, _ := object["apiVersion"].(string)
	kind, _ := object["kind"].(string)
	metadata, _ := object["metadata"].(map[string]any)
	name, _ := metadata["name"].(string)
	if apiVersion == "" || kind == "" || name == "" {
		return policyx.AnalyzerResource{}, fmt.Errorf("not a Kubernetes object: apiVersion %q, kind %q, metadata.name %q", apiVersion, kind, name)
	}
	if !strings.Contains(apiVersion, "/") {
		apiVersion = "core/" + apiVersion
	}
	typ := "kubernetes:" + apiVersion + ":" + kind
	return policyx.AnalyzerResource{
		Type: typ, Name: name,
		URN:        "urn:pulumi:pack::lke-platform::" + typ + "::" + name,
		Properties: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(object)),
	}, nil
}

// reports collects the violations a policy reports.
type reports struct{ messages []string }

func (r *reports) ReportViolation(message, _ string) { r.messages = append(r.messages, message) }
