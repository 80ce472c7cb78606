// Package drift finds what changed in a stack's cloud and cluster objects behind Pulumi's back: it runs a
// refresh preview of the stack (which never changes the state or the cluster), classifies each drifted
// resource by severity, reports it, and opens an incident through a webhook when the drift is major.
// cmd/drift is the command; docs/runbooks/drift.md says what to do about a report.
package drift

import "strings"

// Severity is how urgently a drifted resource needs attention.
type Severity string

const (
	// Major drift weakens a security or isolation guarantee of the platform: it opens an incident and fails
	// the check (exit code 2).
	Major Severity = "major"
	// Minor drift is everything else: reported, the check still passes.
	Minor Severity = "minor"
)

// majorTypes are the resource types whose drift is major, as Pulumi type tokens. An entry ending in ":" is a
// whole API group and version (every kind in it). This is the one list of security-relevant objects; the
// runbook (docs/runbooks/drift.md) explains it, and TestClassify pins it.
var majorTypes = []string{
	// Tenant isolation: the namespace and what every namespace must carry (components/namespace).
	"kubernetes:core/v1:Namespace",
	"kubernetes:networking.k8s.io/v1:NetworkPolicy",
	"kubernetes:core/v1:ResourceQuota",
	"kubernetes:core/v1:LimitRange",
	// Who may do what in the cluster.
	"kubernetes:rbac.authorization.k8s.io/v1:",
	// The in-cluster copy of the policy pack's rules (components/admission).
	"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
	"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
	// Secrets, sealed or not (components/secrets).
	"kubernetes:core/v1:Secret",
	"kubernetes:bitnami.com/v1alpha1:SealedSecret",
	// What Argo CD may deploy where (components/gitops).
	"kubernetes:argoproj.io/v1alpha1:AppProject",
	// The cluster itself and its node pools (components/cluster, components/gpupool).
	"linode:index/lkeCluster:LkeCluster",
	"linode:index/lkeNodePool:LkeNodePool",
}

// Classify returns the severity of drift of a resource of the given Pulumi type token.
func Classify(resourceType string) Severity {
	for _, t := range majorTypes {
		if resourceType == t || strings.HasSuffix(t, ":") && strings.HasPrefix(resourceType, t) {
			return Major
		}
	}
	return Minor
}
