package config

import (
	"fmt"
	"strings"
)

// CheckApplied says whether the stack may be applied; dryRun is true for a preview, which always may. The
// program calls it before registering anything, so a refused update leaves the stack as it was.
//
//   - A deferred stack (deferred: true) is defined and previewed on every pull request, kept in step with the
//     others, but nothing of it is created until its rollout (the spec defers staging and system). Render mode
//     is allowed: it writes the environment's YAML under generated/ and touches no cluster and no Linode account.
//   - Create mode takes the stack to Linode, where its domain and ACME address must be real: the committed
//     defaults are placeholders from the names RFC 2606 and RFC 6761 reserve, which nobody can delegate a zone
//     for and which Let's Encrypt refuses as an account's contact. Attach and render modes keep them, for the
//     local control plane and the tests.
func CheckApplied(env *Environment, stack string, dryRun bool) error {
	if dryRun || env.Cluster.Mode == Render {
		return nil
	}
	if env.Deferred {
		return fmt.Errorf("stack %q is deferred (%s:deferred = true): it is previewed, never applied, until its rollout. "+
			"To roll it out, set it to false in Pulumi.%s.yaml (`pulumi config set deferred false -s %s`) in a pull request; "+
			"CI's deploy job then applies it (docs/delivery.md)", stack, Namespace, stack, stack)
	}
	if problems := Placeholders(env); len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}

// Placeholders are the values of a create-mode stack that are still the committed placeholders (domain,
// acmeEmail), which CheckApplied refuses in an update; a preview warns about them.
func Placeholders(env *Environment) []Problem {
	if env.Cluster.Mode != Create {
		return nil
	}
	var problems []Problem
	if ReservedDomain(env.Domain) {
		problems = append(problems, Problem{"domain", env.Domain, "a DNS zone of yours in Linode DNS, such as platform.yourcompany.com, " +
			"for a create-mode update: " + env.Domain + " is a reserved placeholder (RFC 2606) nobody can delegate"})
	}
	if _, at, _ := strings.Cut(env.ACMEEmail, "@"); ReservedDomain(at) {
		problems = append(problems, Problem{"acmeEmail", env.ACMEEmail, "a mailbox of yours for the Let's Encrypt account, " +
			"for a create-mode update: Let's Encrypt refuses addresses at reserved domains (RFC 2606)"})
	}
	return problems
}

// reservedNames are the names RFC 2606 and RFC 6761 keep for documentation and testing.
var reservedNames = []string{"example", "example.com", "example.net", "example.org", "test", "invalid", "localhost"}

// ReservedDomain reports whether name is one of the reserved names or lies under one.
func ReservedDomain(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, r := range reservedNames {
		if name == r || strings.HasSuffix(name, "."+r) {
			return true
		}
	}
	return false
}
