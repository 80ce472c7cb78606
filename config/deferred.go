package config

import "fmt"

// CheckApplied refuses to apply a deferred stack (deferred: true): such an environment is defined and previewed
// on every pull request, kept in step with the others, but nothing of it is created until its rollout (the spec
// defers staging and system). dryRun is true for a preview, which is always allowed. Render mode is allowed too:
// it writes the environment's YAML under generated/ and touches no cluster and no Linode account. The program
// calls it before registering anything, so a refused update leaves the stack as it was.
func CheckApplied(env *Environment, stack string, dryRun bool) error {
	if !env.Deferred || dryRun || env.Cluster.Mode == Render {
		return nil
	}
	return fmt.Errorf("stack %q is deferred (%s:deferred = true): it is previewed, never applied, until its rollout. "+
		"To roll it out, set it to false in Pulumi.%s.yaml (`pulumi config set deferred false -s %s`) in a pull request; "+
		"CI's deploy job then applies it (docs/delivery.md)", stack, Namespace, stack, stack)
}
