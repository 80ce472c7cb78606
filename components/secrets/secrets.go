package secrets

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/internal/manifest"
)

// Bundle is one Secret of an environment: its values are plaintext here and sealed before registration.
type Bundle struct {
	Name      string
	Namespace string
	Data      map[string]string
}

// Args configures the environment's secret bundles.
type Args struct {
	Sealer  *Sealer
	Labels  map[string]string // the environment's common labels
	Bundles []Bundle
}

// Secrets is the environment's set of SealedSecrets, one per bundle, for Argo CD to apply (the environment's
// secrets folder).
type Secrets struct {
	pulumi.ResourceState

	// Names are the sealed Secrets as "namespace/name", sorted.
	Names []string
	// Objects are the SealedSecrets, in Names order.
	Objects []manifest.Object
}

// New seals one SealedSecret per bundle, in namespace/name order so that the order is stable, and registers the
// component with their names as its output.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Secrets, error) {
	bundles, err := sortedBundles(args)
	if err != nil {
		return nil, err
	}
	s := &Secrets{}
	for _, b := range bundles {
		obj, err := SealedSecret(args.Sealer, &SealedSecretArgs{
			Namespace: b.Namespace,
			Name:      b.Name,
			Labels:    args.Labels,
			Data:      b.Data,
		})
		if err != nil {
			return nil, err
		}
		s.Objects = append(s.Objects, obj)
		s.Names = append(s.Names, b.Namespace+"/"+b.Name)
	}
	if err := ctx.RegisterComponentResource("platform:secrets:Secrets", name, s, opts...); err != nil {
		return nil, err
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"sealedSecrets": pulumi.ToStringArray(s.Names)})
}

// sortedBundles checks the arguments before anything is registered and orders the bundles by namespace/name.
func sortedBundles(args *Args) ([]Bundle, error) {
	if args == nil || args.Sealer == nil {
		return nil, errors.New("secrets: no Sealer (the sealed-secrets controller's certificate is required)")
	}
	bundles := append([]Bundle(nil), args.Bundles...)
	sort.Slice(bundles, func(i, j int) bool {
		if bundles[i].Namespace != bundles[j].Namespace {
			return bundles[i].Namespace < bundles[j].Namespace
		}
		return bundles[i].Name < bundles[j].Name
	})
	var problems []error
	for i, b := range bundles {
		if i > 0 && b.Namespace == bundles[i-1].Namespace && b.Name == bundles[i-1].Name {
			problems = append(problems, fmt.Errorf("bundle %s/%s is declared twice", b.Namespace, b.Name))
			continue
		}
		if err := validate(&SealedSecretArgs{Namespace: b.Namespace, Name: b.Name, Data: b.Data}); err != nil {
			problems = append(problems, err)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return bundles, nil
}
