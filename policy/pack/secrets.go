package pack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

var literalSecretNamespaces = stringsSetting{
	Key: "literalSecretNamespaces", Default: []string{"argocd"},
	Description: "Namespaces where a Secret may hold literal data: Argo CD's, whose repository Secret Argo CD reads as " +
		"it is (it holds a URL, no credential).",
}

// literalSecretsPolicy: a Secret with literal data puts its values in Pulumi's state (encrypted, but readable
// by anyone who can decrypt the stack) and, in render mode, base64 in generated/, which is committed. The
// platform's secret values reach the cluster sealed: the program seals them into SealedSecrets, which only the
// controller in the cluster can open, and the controller creates the Secrets.
func literalSecretsPolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.LiteralSecrets, policyx.ResourceValidationPolicyArgs{
		Description:      "No Secret with literal data (data or stringData) outside the namespaces that need one; secret values reach the cluster as SealedSecrets.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(literalSecretNamespaces),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != secretType {
				return nil
			}
			exempt, err := literalSecretNamespaces.from(args.Config)
			if err != nil {
				return fmt.Errorf("%s: %w", rules.LiteralSecrets, err)
			}
			ns, ok := namespaceOf(r)
			if !ok || slices.Contains(exempt, ns) {
				return nil
			}
			// The keys only: the values are secret.
			var keys []string
			for _, key := range []string{"data", "stringData"} {
				keys = append(keys, slices.Collect(maps.Keys(entries(field(r.Properties, key))))...)
			}
			if len(keys) == 0 {
				return nil
			}
			slices.Sort(keys)
			violation(args.Manager, "", describe(r),
				fmt.Sprintf("holds literal data (keys %s) in namespace %q", strings.Join(slices.Compact(keys), ", "), ns),
				"seal the values instead (secretBundles in the stack's config, sealed by the program: docs/secrets.md) and "+
					"let the Sealed Secrets controller create the Secret")
			return nil
		},
	})
}
