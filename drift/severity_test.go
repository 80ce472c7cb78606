package drift

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		resourceType string
		want         Severity
	}{
		{"kubernetes:networking.k8s.io/v1:NetworkPolicy", Major},
		{"kubernetes:core/v1:ResourceQuota", Major},
		{"kubernetes:core/v1:LimitRange", Major},
		{"kubernetes:core/v1:Namespace", Major},
		{"kubernetes:rbac.authorization.k8s.io/v1:Role", Major},
		{"kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", Major},
		{"kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", Major},
		{"kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", Major},
		{"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", Major},
		{"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", Major},
		{"kubernetes:core/v1:Secret", Major},
		{"kubernetes:bitnami.com/v1alpha1:SealedSecret", Major},
		{"kubernetes:argoproj.io/v1alpha1:AppProject", Major},
		{"linode:index/lkeCluster:LkeCluster", Major},
		{"linode:index/lkeNodePool:LkeNodePool", Major},

		{"kubernetes:apps/v1:Deployment", Minor},
		{"kubernetes:core/v1:ConfigMap", Minor},
		{"kubernetes:core/v1:Service", Minor},
		{"kubernetes:networking.k8s.io/v1:Ingress", Minor},
		{"kubernetes:autoscaling/v2:HorizontalPodAutoscaler", Minor},
		{"kubernetes:policy/v1:PodDisruptionBudget", Minor},
		{"kubernetes:helm.sh/v3:Release", Minor},
		{"kubernetes:argoproj.io/v1alpha1:Application", Minor},
		// Prefixes match whole API groups only, and exact tokens only themselves.
		{"kubernetes:rbac.authorization.k8s.io/v1beta1:Role", Minor},
		{"kubernetes:networking.k8s.io/v1:NetworkPolicyList", Minor},
		{"kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration", Minor},
		{"", Minor},
	} {
		assert.Equal(t, tc.want, Classify(tc.resourceType), tc.resourceType)
	}
}
