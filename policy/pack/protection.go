package pack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

const (
	stackRootType  = "pulumi:pulumi:Stack"
	lkeClusterType = "linode:index/lkeCluster:LkeCluster"
	// accessPackagesType is the component of people's access packages (components/access). Everything under it
	// is made to be removed: a package's grants go when it expires or is revoked, so it is never protected.
	accessPackagesType = "platform:access:Packages"
)

// underAccessPackages reports whether the resource's URN has the access packages component among its parents: a
// URN's type part is the chain of parent types, "parent$child$type" (urn:pulumi:stack::project::types::name).
func underAccessPackages(urn string) bool {
	parts := strings.SplitN(urn, "::", 4)
	return len(parts) == 4 && slices.Contains(strings.Split(parts[2], "$"), accessPackagesType)
}

// accessNamespaceSuffix ends the name of the namespace "<env>-access" the access component creates for the
// packages' service accounts (config.AccessNamespaceName).
const accessNamespaceSuffix = "-access"

// accessEditRoleSuffix ends the name of the ClusterRole "platform-<env>-access-edit" the access component grants
// edit packages (access.EditRoleName).
const accessEditRoleSuffix = "-access-edit"

// accessExempt reports whether r is one of the access component's own objects, which go when a package expires.
// A component type is a name any program may register, so being under one is not enough: the resource must also be
// of a kind the component creates, where it creates it. A RoleBinding anywhere (deleting one only takes a grant
// away); the edit role; the access namespace itself, and its guard rails and service accounts inside it. A cluster, a workload
// namespace or its policies under a component of that name stay protected. A namespace still to be computed in a
// preview is judged on the update, when it is known.
func accessExempt(r policyx.AnalyzerResource) bool {
	if !underAccessPackages(r.URN) {
		return false
	}
	inAccessNamespace := func(keys ...string) bool {
		return unresolved(r, keys...) || strings.HasSuffix(text(field(r.Properties, keys...)), accessNamespaceSuffix)
	}
	switch r.Type {
	case accessPackagesType, "platform:namespace:Namespace", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding":
		return true
	case "kubernetes:core/v1:Namespace":
		return inAccessNamespace("metadata", "name")
	case "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole":
		// The edit role (platform-<env>-access-edit): deleting it only takes the packages' grants away.
		return unresolved(r, "metadata", "name") || strings.HasSuffix(text(field(r.Properties, "metadata", "name")), accessEditRoleSuffix)
	case "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange",
		"kubernetes:networking.k8s.io/v1:NetworkPolicy":
		return inAccessNamespace("metadata", "namespace")
	}
	return false
}

var (
	protectedEnvironments = environmentsSetting("Environments whose every resource must be protected.", production)
	unprotectedTypes      = stringsSetting{
		Key: "exemptTypes", Default: []string{stackRootType},
		Description: "Type tokens that need not be protected. The stack's root resource cannot be protected; " +
			"the engine's default providers are always exempt (a program cannot set their options).",
	}
)

// isDefaultProvider reports whether r is a provider the engine created on its own ("default_4_39_0").
func isDefaultProvider(r policyx.AnalyzerResource) bool {
	return strings.HasPrefix(r.Type, "pulumi:providers:") && strings.HasPrefix(r.Name, "default")
}

// protectionPolicy: a protected resource is only deleted after an explicit `pulumi state unprotect`, so a bad
// diff or a mistaken destroy cannot take production's cluster or its state bucket with it. The engine passes
// each resource's options to the analyzer, so this is checked before the resource is touched.
func protectionPolicy(stack Stack) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.ProductionProtected, policyx.ResourceValidationPolicyArgs{
		Description:      "On production, the LKE cluster and every other resource is protected against deletion.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(protectedEnvironments, unprotectedTypes),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Options.Protect || isDefaultProvider(r) || accessExempt(r) {
				return nil
			}
			envs, err := protectedEnvironments.from(args.Config)
			if err != nil {
				return fmt.Errorf("production-resources-protected: %w", err)
			}
			exempt, err := unprotectedTypes.from(args.Config)
			if err != nil {
				return fmt.Errorf("production-resources-protected: %w", err)
			}
			if !stack.in(envs) || slices.Contains(exempt, r.Type) {
				return nil
			}
			what := "is not protected"
			if r.Type == lkeClusterType {
				what = "is the " + stack.Environment + " LKE cluster and is not protected: deleting or replacing it would take every workload with it"
			}
			violation(args.Manager, "", describe(r), what,
				fmt.Sprintf("register it with pulumi.Protect(true), or under a parent that has it (platform.Compose protects "+
					"every component when the environment is %s)", stack.Environment))
			return nil
		},
	})
}
