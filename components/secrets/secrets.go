package secrets

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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

// Secrets is the environment's set of SealedSecrets, one per bundle.
type Secrets struct {
	pulumi.ResourceState

	// Names are the sealed Secrets as "namespace/name", sorted.
	Names []string
}

// New registers one SealedSecret per bundle, in namespace/name order so that the registration order is stable.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Secrets, error) {
	bundles, err := sortedBundles(args)
	if err != nil {
		return nil, err
	}
	s := &Secrets{}
	if err := ctx.RegisterComponentResource("platform:secrets:Secrets", name, s, opts...); err != nil {
		return nil, err
	}
	names := make(pulumi.StringArray, 0, len(bundles))
	for _, b := range bundles {
		// "/" cannot occur in a namespace, so the resource name is unambiguous.
		if _, err := NewSealedSecret(ctx, name+"-"+b.Namespace+"/"+b.Name, args.Sealer, &SealedSecretArgs{
			Namespace: b.Namespace,
			Name:      b.Name,
			Labels:    args.Labels,
			Data:      b.Data,
		}, pulumi.Parent(s)); err != nil {
			return nil, err
		}
		s.Names = append(s.Names, b.Namespace+"/"+b.Name)
		names = append(names, pulumi.String(b.Namespace+"/"+b.Name))
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"sealedSecrets": names})
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
