package pack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

// An access package is any credential or grant the program issues to a person. Kubernetes RBAC has no expiry, so
// the program declares one with this annotation (RFC 3339) and drops the package from the program once it has
// passed; the policy keeps every declared expiry within the allowed lifetime.
const (
	expiresAtAnnotation = "platform.lke/expires-at"
	accessPackageLabel  = "platform.lke/access-package"
)

const (
	roleBindingType        = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	clusterRoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
	linodeTokenType        = "linode:index/token:Token"            // #nosec G101 -- a type token, not a credential
	serviceAccountToken    = "kubernetes.io/service-account-token" // #nosec G101 -- a Secret type, not a credential
)

var maxAccessHours = intSetting{
	Key: "maxHours", Default: 24, Min: 1,
	Description: "Longest lifetime, in hours from now, of a credential or grant the program issues.",
}

// humanSubjects returns the User and Group subjects of a role binding: people, or groups of people. Names under
// "system:" are identities Kubernetes manages itself (nodes, service-account groups), not access packages.
func humanSubjects(subjects property.Value) []string {
	var out []string
	for _, s := range list(subjects) {
		kind, name := text(at(s, "kind")), text(at(s, "name"))
		if (kind == "User" || kind == "Group") && !strings.HasPrefix(name, "system:") {
			out = append(out, fmt.Sprintf("%s %q", kind, name))
		}
	}
	return out
}

// accessPolicy keeps every credential the program issues short-lived:
//   - a Secret of type kubernetes.io/service-account-token is refused: such tokens never expire; pods get
//     projected tokens and people get TokenRequest tokens, both bounded;
//   - a Linode API token (linode:index/token:Token) must set an expiry within the limit;
//   - a RoleBinding or ClusterRoleBinding to a User or Group, and any object labelled platform.lke/access-package,
//     must carry the platform.lke/expires-at annotation;
//   - wherever that annotation appears, it must be an RFC 3339 time in the future and within the limit.
func accessPolicy(now func() time.Time) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.AccessExpires, policyx.ResourceValidationPolicyArgs{
		Description: "Credentials and RBAC grants the program issues expire within maxHours (default 24): no " +
			"service-account-token Secrets, Linode tokens with an expiry, and a " + expiresAtAnnotation +
			" annotation on every grant to a person.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(maxAccessHours),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			hours, err := maxAccessHours.from(args.Config)
			if err != nil {
				return fmt.Errorf("access-credentials-expire: %w", err)
			}
			limit := time.Duration(hours) * time.Hour
			subject := describe(r)

			switch r.Type {
			case secretType:
				if text(field(r.Properties, "type")) == serviceAccountToken {
					violation(args.Manager, "", subject, "is a "+serviceAccountToken+" Secret, a token that never expires",
						fmt.Sprintf("do not issue long-lived tokens: workloads get projected service-account tokens; for a "+
							"person, issue a TokenRequest (kubectl create token --duration=%dh) or an OIDC login", hours))
					return nil
				}
			case linodeTokenType:
				expiry := field(r.Properties, "expiry")
				if !known(expiry) {
					return nil
				}
				if problem := ExpiryProblem(text(expiry), now(), limit); problem != "" {
					violation(args.Manager, "", subject, "the Linode API token "+problem,
						fmt.Sprintf("set expiry to an RFC 3339 time at most %dh ahead", hours))
				}
				return nil
			}

			if !strings.HasPrefix(r.Type, "kubernetes:") {
				return nil
			}
			metadata := field(r.Properties, "metadata")
			annotation := at(metadata, "annotations", expiresAtAnnotation)
			if !known(annotation) {
				return nil
			}
			var grantedTo []string
			if r.Type == roleBindingType || r.Type == clusterRoleBindingType {
				grantedTo = humanSubjects(field(r.Properties, "subjects"))
			}
			_, labelled := entries(at(metadata, "labels"))[accessPackageLabel]
			required := len(grantedTo) > 0 || labelled
			if annotation.IsNull() && !required {
				return nil
			}
			if problem := ExpiryProblem(text(annotation), now(), limit); problem != "" {
				what := "the access package"
				if len(grantedTo) > 0 {
					what = "the grant to " + strings.Join(grantedTo, ", ")
				}
				violation(args.Manager, "", subject, fmt.Sprintf("%s %s (annotation %s)", what, problem, expiresAtAnnotation),
					fmt.Sprintf("annotate it with %s set to an RFC 3339 time at most %dh ahead, and remove it from the "+
						"program once that time has passed", expiresAtAnnotation, hours))
			}
			return nil
		},
	})
}
