//go:build integration

package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-eng/lke-platform/components/admission"
	"github.com/platform-eng/lke-platform/internal/rules"
	"github.com/platform-eng/lke-platform/policy/pack"
)

// enforcementDelay is how long a new ValidatingAdmissionPolicy may take to be enforced: the API server enforces a
// policy once its policy informer has seen the policy and its binding, usually within a second.
const enforcementDelay = 10 * time.Second

// checkAdmission runs with an environment deployed on the local control plane (TestPlatformDeploysEndToEnd calls
// it) and goes around Pulumi with `kubectl apply`: a compliant Deployment is admitted; one object per rule that
// breaks that rule (and only that one) is refused with the rule's message; and the same violating objects are
// admitted in namespaces that do not belong to the environment, because the bindings select the environment's
// namespaces only.
func checkAdmission(t *testing.T, env string) {
	ns := env + "-apps"
	{
		for _, rule := range append(slices.Clone(rules.InCluster), rules.AdmissionOnly...) {
			name := admission.Name(env, rule)
			for _, kind := range []string{"validatingadmissionpolicy", "validatingadmissionpolicybinding"} {
				_, err := kubectl(t, "get", kind, name)
				require.NoError(t, err, "%s %s (is the admission component wired into platform.Compose?)", kind, name)
			}
		}

		// The pack and the admission policies agree rule by rule: each object the API server refuses under a
		// rule, the pack refuses under that rule and no other; the compliant object passes both.
		for _, v := range violations(ns) {
			t.Run("refused/"+v.name, func(t *testing.T) {
				requireRefused(t, v.object,
					fmt.Sprintf("ValidatingAdmissionPolicy '%[1]s' with binding '%[1]s' denied request: ", admission.Name(env, v.rule)),
					v.message)
				assert.Equal(t, []string{v.rule}, packRefusals(t, env, v.object), "the pack's verdict on the object the API server refused")
			})
		}

		t.Run("compliant deployment admitted", func(t *testing.T) {
			d := deployment(ns, "compliant", restricted(container("app", "registry.k8s.io/pause:3.10")))
			assert.Empty(t, packRefusals(t, env, d), "the pack's verdict on the object the API server admits")
			out, err := kubectlApply(t, d)
			require.NoError(t, err, out)
			assert.Contains(t, out, "deployment.apps/compliant created")
			_, err = kubectl(t, "delete", "deployment", "compliant", "-n", ns)
			require.NoError(t, err)
		})

		// kubectl debug adds an ephemeral container to a running pod, through the pod's ephemeralcontainers
		// subresource: its image is held to the same rule as the pod's own.
		t.Run("debug container with an unpinned image refused", func(t *testing.T) {
			pod := &corev1.Pod{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
				ObjectMeta: metav1.ObjectMeta{Name: "debug-target", Namespace: ns},
				Spec:       podSpec(restricted(container("app", "registry.k8s.io/pause:3.10"))),
			}
			out, err := kubectlApply(t, pod)
			require.NoError(t, err, out)
			t.Cleanup(func() { _, _ = kubectl(t, "delete", "pod", "debug-target", "-n", ns, "--wait=false") })
			out, err = kubectlWithInput(nil, "debug", "-n", ns, "debug-target", "--image=registry.example/debug",
				"--container=debugger", "--profile=restricted")
			require.Error(t, err, "an ephemeral container with an unpinned image was admitted: %s", out)
			assert.Contains(t, out, fmt.Sprintf("ValidatingAdmissionPolicy '%[1]s' with binding '%[1]s' denied request: ", admission.Name(env, rules.ImagesPinned)))
			assert.Contains(t, out, `container "debugger" image "registry.example/debug"`)
		})

		// Pod Security Admission enforces "restricted" in the workload namespaces: a root pod that may escalate
		// its privileges (admitted under "baseline") is refused by the API server itself; the same pod with the
		// restricted securityContext is admitted.
		t.Run("pod security restricted", func(t *testing.T) {
			root := container("app", "registry.k8s.io/pause:3.10")
			root.SecurityContext = &corev1.SecurityContext{RunAsUser: ptrTo(int64(0)), AllowPrivilegeEscalation: ptrTo(true)}
			pod := func(name string, c corev1.Container) *corev1.Pod {
				return &corev1.Pod{
					TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
					Spec:       podSpec(c),
				}
			}
			out, err := kubectlApply(t, pod("root-escalating", root), "--dry-run=server")
			require.Error(t, err, "a root pod that may escalate was admitted: %s", out)
			assert.Contains(t, out, `violates PodSecurity "restricted:latest"`)
			out, err = kubectlApply(t, pod("restricted", restricted(container("app", "registry.k8s.io/pause:3.10"))), "--dry-run=server")
			require.NoError(t, err, out)
		})

		// Namespaces outside the environment: one without the environment label, one of another environment.
		suffix := time.Now().UnixNano() % 1_000_000
		for _, other := range []struct {
			name   string
			labels map[string]string
		}{
			{fmt.Sprintf("admission-unlabelled-%d", suffix), nil},
			{fmt.Sprintf("admission-other-env-%d", suffix), map[string]string{admission.EnvironmentLabel: "other-env"}},
		} {
			t.Run("out of scope/"+other.name, func(t *testing.T) {
				out, err := kubectlApply(t, &corev1.Namespace{
					TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
					ObjectMeta: metav1.ObjectMeta{Name: other.name, Labels: other.labels},
				})
				require.NoError(t, err, out)
				t.Cleanup(func() { _, _ = kubectl(t, "delete", "namespace", other.name, "--wait=false") })
				for _, v := range violations(other.name) {
					out, err := kubectlApply(t, v.object)
					assert.NoError(t, err, "%s in namespace %s: %s", v.name, other.name, out)
				}
			})
		}
	}
}

// testDomain is the test stacks' DNS zone: Pulumi.yaml's default, which no stack file overrides.
const testDomain = "lke.example.com"

// packRefusals is the policy pack's verdict on a Kubernetes object of the environment, as a preview would give
// it: the rules that refuse it, sorted.
func packRefusals(t *testing.T, env string, object any) []string {
	t.Helper()
	b, err := json.Marshal(object)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	r, err := pack.KubernetesResource(fields)
	require.NoError(t, err)
	stack := pack.Stack{Project: "lke-platform", Name: env, Environment: env, Domain: testDomain, DryRun: true}
	refused, err := pack.Refusals(context.Background(), stack, pack.RealWorld, r)
	require.NoError(t, err)
	names := slices.Sorted(maps.Keys(refused))
	if names == nil {
		names = []string{}
	}
	return names
}

// violation is an object that breaks exactly one rule, and the message the rule refuses it with.
type violation struct {
	name, rule string
	object     any
	message    string
}

func violations(ns string) []violation {
	noLimits := container("app", "registry.k8s.io/pause:3.10")
	noLimits.Resources.Limits = nil
	noResources := container("setup", "registry.k8s.io/pause:3.10")
	noResources.Resources = corev1.ResourceRequirements{}
	privileged := container("app", "registry.k8s.io/pause:3.10")
	privileged.SecurityContext = &corev1.SecurityContext{Privileged: ptrTo(true)}
	hostNetwork := podSpec(container("app", "registry.k8s.io/pause:3.10"))
	hostNetwork.HostNetwork = true
	withInit := podSpec(container("app", "registry.k8s.io/pause:3.10"))
	withInit.InitContainers = []corev1.Container{noResources}
	withInit.RestartPolicy = corev1.RestartPolicyNever

	subject := func(kind, name string) string { return fmt.Sprintf("%s %q in namespace %q: ", kind, name, ns) }
	const (
		resourcesFix = ". Fix: set resources.requests and resources.limits, each with cpu and memory, on every container and " +
			`initContainer (within the namespace's LimitRange "container-limits").`
		imagesProblem = "image(s) not pinned (no tag means :latest, and :latest moves between builds): "
		imagesFix     = ". Fix: pin the image to a release tag (registry/app:1.4.2) or a digest (registry/app@sha256:...)."
		privilegeFix  = ". Fix: drop securityContext.privileged and hostNetwork, hostPID and hostIPC; grant the specific " +
			"capability the container needs instead, or run the component in a system namespace if it is part of the platform."
		privilegeProblem = "runs with node privileges outside the system namespaces (kube-system, argocd, monitoring, ingress-nginx, cert-manager, external-dns): "
	)
	return []violation{
		{
			"deployment without limits", rules.ContainerResources,
			deployment(ns, "no-limits", noLimits),
			subject("Deployment", "no-limits") + `container(s) "app" do not set cpu and memory requests and limits` + resourcesFix,
		},
		{
			"job whose init container sets no resources", rules.ContainerResources,
			&batchv1.Job{
				TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
				ObjectMeta: metav1.ObjectMeta{Name: "init-no-resources", Namespace: ns},
				Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: withInit}},
			},
			subject("Job", "init-no-resources") + `container(s) "setup" do not set cpu and memory requests and limits` + resourcesFix,
		},
		{
			"network policy admitting everyone", rules.IngressFromEverywhere,
			&networkingv1.NetworkPolicy{
				TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
				ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: ns},
				Spec: networkingv1.NetworkPolicySpec{
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
					Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
				},
			},
			subject("NetworkPolicy", "open") + "has 1 ingress rule(s) without from, which admit traffic from every source. " +
				`Fix: name the peers in from (for web traffic, the ingress controller's namespace "ingress-nginx" through a ` +
				`namespaceSelector on kubernetes.io/metadata.name); only "ingress-nginx" may admit traffic from everywhere.`,
		},
		{
			"load balancer service", rules.LoadBalancers,
			service(ns, "public", corev1.ServiceTypeLoadBalancer),
			subject("Service", "public") + "is of type LoadBalancer, which would expose it on a public NodeBalancer. " +
				`Fix: make it a ClusterIP Service and route to it with an Ingress through the controller in "ingress-nginx".`,
		},
		{
			"cronjob image without tag", rules.ImagesPinned,
			&batchv1.CronJob{
				TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
				ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: ns},
				Spec: batchv1.CronJobSpec{Schedule: "@hourly", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
					Template: corev1.PodTemplateSpec{Spec: withRestartPolicy(podSpec(container("report", "registry.example/report")), corev1.RestartPolicyOnFailure)},
				}}},
			},
			subject("CronJob", "report") + imagesProblem + `container "report" image "registry.example/report"` + imagesFix,
		},
		{
			"deployment image latest", rules.ImagesPinned,
			deployment(ns, "latest", container("web", "registry.example/web:latest")),
			subject("Deployment", "latest") + imagesProblem + `container "web" image "registry.example/web:latest"` + imagesFix,
		},
		{
			"daemonset on the host network", rules.Privileged,
			&appsv1.DaemonSet{
				TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
				ObjectMeta: metav1.ObjectMeta{Name: "host-network", Namespace: ns},
				Spec: appsv1.DaemonSetSpec{
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "host-network"}},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "host-network"}}, Spec: hostNetwork},
				},
			},
			subject("DaemonSet", "host-network") + privilegeProblem + "sets hostNetwork: true" + privilegeFix,
		},
		{
			"privileged deployment", rules.Privileged,
			deployment(ns, "privileged", privileged),
			subject("Deployment", "privileged") + privilegeProblem + `container "app" is privileged` + privilegeFix,
		},
		{
			// The namespace's quota allows no node port either, but the quota is checked after admission
			// policies, and a namespace of the environment may lack the platform's quota.
			"node port service", rules.NodePorts,
			service(ns, "debug", corev1.ServiceTypeNodePort),
			subject("Service", "debug") + "is of type NodePort, which opens its port on every node's address, around the ingress controller. " +
				`Fix: make it a ClusterIP Service and route to it with an Ingress through the controller in "ingress-nginx".`,
		},
		{
			"external name service", rules.ExternalNames,
			externalName(ns, "metadata", "metadata.google.internal"),
			subject("Service", "metadata") + "is of type ExternalName, which makes the ingress controller a proxy to any name, around the NetworkPolicies. " +
				`Fix: make it a ClusterIP Service and route to it with an Ingress through the controller in "ingress-nginx".`,
		},
		{
			"ingress claiming another environment's host", rules.IngressHosts,
			&networkingv1.Ingress{
				TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
				ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
				Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
					Host: "shop.production." + testDomain,
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: ptrTo(networkingv1.PathTypePrefix),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80},
						}},
					}}}},
				}}},
			},
			subject("Ingress", "shop") + fmt.Sprintf(`claims names outside the environment's subdomain %[1]s.%[2]s: host "shop.production.%[2]s". `+
				"Fix: name its hosts <name>.%[1]s.%[2]s.", strings.TrimSuffix(ns, "-apps"), testDomain),
		},
		{
			"secret with literal data", rules.LiteralSecrets,
			&corev1.Secret{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
				StringData: map[string]string{"password": "literalPassword7Qx"},
			},
			subject("Secret", "db") + "holds literal data (keys password). Fix: seal the values into a SealedSecret (kubeseal, " +
				"or secretBundles in the stack's config: docs/secrets.md); the Sealed Secrets controller creates the Secret.",
		},
	}
}

// service is a Service of the given type in front of pods labelled app=web.
func service(ns, name string, typ corev1.ServiceType) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

// externalName is a Service aliasing an outside DNS name.
func externalName(ns, name, target string) *corev1.Service {
	s := service(ns, name, corev1.ServiceTypeExternalName)
	s.Spec.ExternalName, s.Spec.Selector = target, nil
	return s
}

// container is a container that keeps every rule: pinned image, cpu and memory requests and limits.
func container(name, image string) corev1.Container {
	return corev1.Container{
		Name: name, Image: image,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
	}
}

// restricted adds the securityContext of the "restricted" Pod Security Standard, which the namespaces warn about.
func restricted(c corev1.Container) corev1.Container {
	c.SecurityContext = &corev1.SecurityContext{
		RunAsNonRoot:             ptrTo(true),
		AllowPrivilegeEscalation: ptrTo(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	return c
}

func podSpec(containers ...corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{Containers: containers}
}

func withRestartPolicy(spec corev1.PodSpec, policy corev1.RestartPolicy) corev1.PodSpec {
	spec.RestartPolicy = policy
	return spec
}

func deployment(ns, name string, containers ...corev1.Container) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrTo(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(containers...)},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

// requireRefused checks that `kubectl apply` of obj is refused with output containing each of want. It first waits,
// up to enforcementDelay, for the policies to be enforced, with server-side dry runs: they go through admission
// like the real apply but persist nothing, so an object admitted before enforcement is not left behind.
func requireRefused(t *testing.T, obj any, want ...string) {
	t.Helper()
	deadline := time.Now().Add(enforcementDelay)
	for {
		out, err := kubectlApply(t, obj, "--dry-run=server")
		if err != nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "still admitted after %s: %s", enforcementDelay, out)
		time.Sleep(500 * time.Millisecond)
	}
	out, err := kubectlApply(t, obj)
	require.Error(t, err, "admitted: %s", out)
	for _, w := range want {
		assert.Contains(t, out, w)
	}
}

// kubectlApply runs `kubectl apply -f -` (plus args) against the local control plane with obj, marshalled to JSON,
// on standard input, and returns kubectl's combined output.
func kubectlApply(t *testing.T, obj any, args ...string) (string, error) {
	t.Helper()
	manifest, err := json.Marshal(obj)
	require.NoError(t, err)
	return kubectlWithInput(manifest, append([]string{"apply", "-f", "-"}, args...)...)
}

// kubectlWithInput runs kubectl against the shared control plane with stdin as its standard input and returns
// its combined output.
func kubectlWithInput(stdin []byte, args ...string) (string, error) {
	return kubectlInputOn(kubeconfig, stdin, args...)
}

// kubectlInputOn is kubectlWithInput on the control plane of kubeconfigPath.
func kubectlInputOn(kubeconfigPath string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfigPath}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
