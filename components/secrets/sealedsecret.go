package secrets

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-eng/lke-platform/internal/manifest"
)

// The SealedSecret custom resource, as the vendored sealed-secrets CRD defines it.
const (
	APIVersion = "bitnami.com/v1alpha1"
	Kind       = "SealedSecret"
)

// DefaultType is the Secret type when none is given.
const DefaultType = "Opaque"

// SealedSecretArgs describes one Secret to seal. Data holds plaintext values: they are sealed before anything is
// registered and never leave this package in the clear.
type SealedSecretArgs struct {
	Namespace string
	Name      string
	Labels    map[string]string // put on the SealedSecret and on the Secret the controller creates
	Type      string            // Secret type; DefaultType when empty
	Data      map[string]string // key -> plaintext value
}

// SealedSecretSpec is the spec of a SealedSecret (bitnami.com/v1alpha1).
type SealedSecretSpec struct {
	EncryptedData map[string]string `json:"encryptedData"`
	Template      SecretTemplate    `json:"template"`
}

// SecretTemplate is what the controller puts on the Secret it unseals.
type SecretTemplate struct {
	Metadata TemplateMetadata `json:"metadata"`
	Type     string           `json:"type"`
}

// TemplateMetadata is the unsealed Secret's metadata.
type TemplateMetadata struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// SealedSecret seals args.Data with sealer into a SealedSecret object, as data for Argo CD: only ciphertext
// leaves this package.
func SealedSecret(sealer *Sealer, args *SealedSecretArgs) (manifest.Object, error) {
	spec, err := Spec(sealer, args)
	if err != nil {
		return manifest.Object{}, err
	}
	return manifest.Object{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata:   manifest.Meta{Name: args.Name, Namespace: args.Namespace, Labels: args.Labels},
		Spec:       spec,
	}, nil
}

// Spec validates args and seals every value, key by key in sorted order.
func Spec(sealer *Sealer, args *SealedSecretArgs) (SealedSecretSpec, error) {
	if sealer == nil {
		return SealedSecretSpec{}, errors.New("sealed secret: no Sealer (the sealed-secrets controller's certificate is required)")
	}
	if err := validate(args); err != nil {
		return SealedSecretSpec{}, err
	}
	secretType := args.Type
	if secretType == "" {
		secretType = DefaultType
	}
	keys := make([]string, 0, len(args.Data))
	for k := range args.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	encrypted := make(map[string]string, len(keys))
	for _, k := range keys {
		c, err := sealer.Seal(args.Namespace, args.Name, k, []byte(args.Data[k]))
		if err != nil {
			return SealedSecretSpec{}, err
		}
		encrypted[k] = c
	}
	return SealedSecretSpec{
		EncryptedData: encrypted,
		Template: SecretTemplate{
			Metadata: TemplateMetadata{Name: args.Name, Namespace: args.Namespace, Labels: args.Labels},
			Type:     secretType,
		},
	}, nil
}

// validate checks names and keys as the API server would, so a bad one fails the preview rather than the
// controller. Messages name keys, never values.
func validate(args *SealedSecretArgs) error {
	if args == nil {
		return errors.New("sealed secret: no arguments")
	}
	var problems []string
	if errs := validation.IsDNS1123Label(args.Namespace); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("namespace %q: %s", args.Namespace, strings.Join(errs, "; ")))
	}
	if errs := validation.IsDNS1123Subdomain(args.Name); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("name %q: %s", args.Name, strings.Join(errs, "; ")))
	}
	if len(args.Data) == 0 {
		problems = append(problems, "no data: a sealed secret needs at least one key")
	}
	keys := make([]string, 0, len(args.Data))
	for k := range args.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("key %q: %s", k, strings.Join(errs, "; ")))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("sealed secret %s/%s: %s", args.Namespace, args.Name, strings.Join(problems, "; "))
	}
	return nil
}
