package pack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// describe names a resource so a reader can find it in the program and in the cluster: its type token and
// Pulumi name, plus the Kubernetes namespace when one is set.
func describe(r policyx.AnalyzerResource) string {
	s := fmt.Sprintf("%s %q", r.Type, r.Name)
	if ns := field(r.Properties, "metadata", "namespace"); ns.IsString() && ns.AsString() != "" {
		s += fmt.Sprintf(" (namespace %q)", ns.AsString())
	}
	return s
}

// violation reports one problem with its fix. Every message of the pack has this shape, after the policy's
// description that the engine puts first: "<resource>: <what is wrong>. Fix: <what to do>."
// An empty urn attributes the violation to the resource under analysis.
func violation(m policyx.PolicyManager, urn, subject, problem, fix string) {
	m.ReportViolation(fmt.Sprintf("%s: %s. Fix: %s.", subject, problem, fix), urn)
}
