// Package sampleservice provides the SampleService component: the platform's sample workload (cmd/sample-service)
// with everything a service on the platform gets: a Deployment that mounts its sealed secret, a ClusterIP
// Service, a TLS Ingress with a cert-manager certificate, an HPA, a PodDisruptionBudget, a ServiceMonitor and the
// alert that pages when the service stops reporting up.
package sampleservice

import (
	"errors"
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/monitoring"
	"github.com/platform-eng/lke-platform/quota"
)

// Names and paths the service, its manifests, its alert and the end-to-end test share.
const (
	AppName       = "sample-service"              // name of every object of the component
	TLSSecretName = "sample-service-tls"          // cert-manager writes the certificate here
	SecretsDir    = "/etc/sample-service/secrets" // where the secret is mounted; cmd/sample-service's default
	HealthPath    = "/healthz"                    // liveness and readiness
	MetricsPath   = "/metrics"                    // Prometheus scrape
	PortName      = "http"                        // container and Service port name; the ServiceMonitor scrapes it
	ContainerPort = 8080                          // cmd/sample-service's default listen port
	ServicePort   = 80                            // the ClusterIP Service's port
	RunAsUser     = 65532                         // the image's non-root user (cmd/sample-service/Dockerfile)
	AlertName     = "SampleServiceDown"           // the alert AlertRules defines
	RuleGroupName = "sample-service"              // its rule group
)

const (
	nameLabel            = "app.kubernetes.io/name"
	clusterIssuerAnno    = "cert-manager.io/cluster-issuer"
	targetCPUUtilization = 70
	// Room for the service's own 20s shutdown timeout before the kubelet kills the container.
	terminationGraceSeconds = 30
)

// Args configures the sample service of one environment.
type Args struct {
	Environment   string
	Namespace     string            // already created by the lead, with quota and default-deny
	Labels        map[string]string // the environment's common labels
	Image         string            // pinned tag or digest
	Host          string            // "<name>.<env>.<domain>"; external-dns creates the record
	IngressClass  string
	ClusterIssuer string
	SecretName    string // Secret (unsealed from a SealedSecret bundle) mounted read-only at SecretsDir
	Resources     quota.Profile
	// CustomObjects are extra options of the ServiceMonitor and PrometheusRule only: they need their CRDs, so
	// they wait for them. The workload itself does not, and waits only for what the component's own options
	// say (its namespace): making the Deployment wait for the whole bootstrap cost minutes of time to
	// Available (docs/performance.md).
	CustomObjects []pulumi.ResourceOption
}

// SampleService is the deployed sample service.
type SampleService struct {
	pulumi.ResourceState

	DeploymentName pulumi.StringOutput
	Host           pulumi.StringOutput
}

// Validate reports every missing or inconsistent argument at once.
func (a *Args) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"Environment", a.Environment}, {"Namespace", a.Namespace}, {"Image", a.Image}, {"Host", a.Host},
		{"IngressClass", a.IngressClass}, {"ClusterIssuer", a.ClusterIssuer}, {"SecretName", a.SecretName},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty", f.name))
		}
	}
	// The quota package's checks of one service's profile: positive requests, limits >= requests, 1 <= min <= max.
	if err := (quota.Sizing{Services: 1, Profile: a.Resources}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("resources: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sampleservice: %w", err)
	}
	return nil
}

// New registers the SampleService component.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*SampleService, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	s := &SampleService{}
	if err := ctx.RegisterComponentResource("platform:sampleservice:SampleService", name, s, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(s)
	customObject := append([]pulumi.ResourceOption{child}, args.CustomObjects...)
	labels := objectLabels(args.Labels)
	meta := func(annotations pulumi.StringMap) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{
			Name: pulumi.String(AppName), Namespace: pulumi.String(args.Namespace),
			Labels: pulumi.ToStringMap(labels), Annotations: annotations,
		}
	}

	// No await option is touched: the provider waits for the Deployment to be Available (its pods ready, which
	// needs the secret mounted and /healthz answering) before the update succeeds.
	dep, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: meta(nil),
		Spec:     deploymentSpec(args, labels),
	}, child)
	if err != nil {
		return nil, err
	}

	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta(nil),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(selector()),
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{
				Name: pulumi.String(PortName), Port: pulumi.Int(ServicePort),
				TargetPort: pulumi.String(PortName), Protocol: pulumi.String("TCP"),
			}},
		},
	}, child); err != nil {
		return nil, err
	}

	if _, err := networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: meta(pulumi.StringMap{
			clusterIssuerAnno: pulumi.String(args.ClusterIssuer),
			// The Ingress is ready when the controller (installed by Argo CD, asynchronously) publishes its
			// address; an `up` must not hang on that. The Deployment's await and the end-to-end check through the
			// host cover availability.
			"pulumi.com/skipAwait": pulumi.String("true"),
		}),
		Spec: ingressSpec(args),
	}, child); err != nil {
		return nil, err
	}

	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(ctx, name, &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: meta(nil),
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: pulumi.String(AppName),
			},
			MinReplicas: pulumi.Int(args.Resources.MinReplicas),
			MaxReplicas: pulumi.Int(args.Resources.MaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{&autoscalingv2.MetricSpecArgs{
				Type: pulumi.String("Resource"),
				Resource: &autoscalingv2.ResourceMetricSourceArgs{
					Name: pulumi.String("cpu"),
					Target: &autoscalingv2.MetricTargetArgs{
						Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(targetCPUUtilization),
					},
				},
			}},
		},
	}, child); err != nil {
		return nil, err
	}

	// maxUnavailable 1 at every replica count: a drain can always evict one pod (minAvailable 1 would block it
	// forever while the HPA runs a single replica), and never more than one at a time. AlwaysAllow lets a drain
	// evict a pod that is not ready anyway, so a crash-looping pod cannot block node maintenance either.
	if _, err := policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta(nil),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable:             pulumi.Int(1),
			Selector:                   &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector())},
			UnhealthyPodEvictionPolicy: pulumi.String("AlwaysAllow"),
		},
	}, child); err != nil {
		return nil, err
	}

	if _, err := monitoring.NewServiceMonitor(ctx, AppName, &monitoring.ServiceMonitorArgs{
		Namespace: args.Namespace,
		Labels:    labels,
		Selector:  selector(),
		Endpoints: []monitoring.Endpoint{ScrapeEndpoint()},
	}, customObject...); err != nil {
		return nil, err
	}
	if _, err := monitoring.NewPrometheusRule(ctx, AppName, args.Namespace, labels,
		AlertRules(args.Environment, args.Namespace), customObject...); err != nil {
		return nil, err
	}

	s.DeploymentName = dep.Metadata.Name().Elem()
	s.Host = pulumi.String(args.Host).ToStringOutput()
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{
		"deploymentName": s.DeploymentName,
		"host":           s.Host,
	})
}

// ScrapeEndpoint is how Prometheus scrapes the service, in the ServiceMonitor and in the end-to-end test.
func ScrapeEndpoint() monitoring.Endpoint {
	return monitoring.Endpoint{Port: PortName, Path: MetricsPath, Interval: "30s", ScrapeTimeout: "10s"}
}

// AlertRules is the service's alert: it fires when sample_service_up of the environment's namespace is missing
// (nothing scraped: pods gone, scrape broken) or 0, for a minute. Scoped by namespace because environments may
// share one Prometheus and one control plane.
func AlertRules(env, namespace string) []monitoring.RuleGroup {
	up := fmt.Sprintf(`sample_service_up{namespace=%q}`, namespace)
	return []monitoring.RuleGroup{{
		Name: RuleGroupName,
		Rules: []monitoring.Rule{{
			Alert:  AlertName,
			Expr:   fmt.Sprintf("absent(%s) or %s == 0", up, up),
			For:    "1m",
			Labels: map[string]string{"severity": "critical", "environment": env},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("sample-service is down in %s", env),
				"description": fmt.Sprintf("sample_service_up in namespace %s has been absent or 0 for 1 minute: "+
					"no ready pod is being scraped.", namespace),
				"runbook_url": monitoring.RunbookURL(AlertName),
			},
		}},
	}}
}

// selector picks the service's pods. It stays this one label: a Deployment's selector is immutable, so the
// environment labels (which could change) are kept out of it.
func selector() map[string]string { return map[string]string{nameLabel: AppName} }

func objectLabels(common map[string]string) map[string]string {
	out := make(map[string]string, len(common)+1)
	for k, v := range common {
		out[k] = v
	}
	out[nameLabel] = AppName
	return out
}

// deploymentSpec leaves replicas unset: the HPA owns the replica count. With server-side apply the program then
// never manages the field, so neither an `up` nor a refresh fights the HPA; a new Deployment starts at one pod
// and the HPA raises it to MinReplicas.
func deploymentSpec(args *Args, labels map[string]string) *appsv1.DeploymentSpecArgs {
	r := args.Resources
	probe := func(period, failures int) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String(HealthPath), Port: pulumi.String(PortName)},
			PeriodSeconds:    pulumi.Int(period),
			TimeoutSeconds:   pulumi.Int(2),
			FailureThreshold: pulumi.Int(failures),
		}
	}
	return &appsv1.DeploymentSpecArgs{
		Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector())},
		// Surge one pod, never drop below the current count: a rollout keeps full capacity (the namespace quota
		// carries headroom for the surge pod).
		Strategy: &appsv1.DeploymentStrategyArgs{
			Type: pulumi.String("RollingUpdate"),
			RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
				MaxUnavailable: pulumi.Int(0), MaxSurge: pulumi.Int(1),
			},
		},
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
			Spec: &corev1.PodSpecArgs{
				// The service never talks to the API server; no token means nothing to steal.
				AutomountServiceAccountToken:  pulumi.Bool(false),
				EnableServiceLinks:            pulumi.Bool(false),
				TerminationGracePeriodSeconds: pulumi.Int(terminationGraceSeconds),
				SecurityContext: &corev1.PodSecurityContextArgs{
					RunAsNonRoot: pulumi.Bool(true),
					RunAsUser:    pulumi.Int(RunAsUser),
					RunAsGroup:   pulumi.Int(RunAsUser),
					// The kubelet gives the secret's files this group, so the non-root user can read them.
					FsGroup:        pulumi.Int(RunAsUser),
					SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
				},
				Containers: corev1.ContainerArray{&corev1.ContainerArgs{
					Name:            pulumi.String(AppName),
					Image:           pulumi.String(args.Image),
					ImagePullPolicy: pulumi.String("IfNotPresent"),
					Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{
						Name: pulumi.String(PortName), ContainerPort: pulumi.Int(ContainerPort), Protocol: pulumi.String("TCP"),
					}},
					Env: corev1.EnvVarArray{
						&corev1.EnvVarArgs{Name: pulumi.String("LISTEN_ADDR"), Value: pulumi.Sprintf(":%d", ContainerPort)},
						&corev1.EnvVarArgs{Name: pulumi.String("SECRETS_DIR"), Value: pulumi.String(SecretsDir)},
					},
					Resources: &corev1.ResourceRequirementsArgs{
						Requests: pulumi.StringMap{
							"cpu": pulumi.String(r.CPURequest.String()), "memory": pulumi.String(r.MemoryRequest.String()),
						},
						Limits: pulumi.StringMap{
							"cpu": pulumi.String(r.CPULimit.String()), "memory": pulumi.String(r.MemoryLimit.String()),
						},
					},
					LivenessProbe:  probe(10, 3),
					ReadinessProbe: probe(5, 2),
					SecurityContext: &corev1.SecurityContextArgs{
						AllowPrivilegeEscalation: pulumi.Bool(false),
						ReadOnlyRootFilesystem:   pulumi.Bool(true),
						RunAsNonRoot:             pulumi.Bool(true),
						RunAsUser:                pulumi.Int(RunAsUser),
						Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
						SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					VolumeMounts: corev1.VolumeMountArray{&corev1.VolumeMountArgs{
						Name: pulumi.String("secrets"), MountPath: pulumi.String(SecretsDir), ReadOnly: pulumi.Bool(true),
					}},
				}},
				Volumes: corev1.VolumeArray{&corev1.VolumeArgs{
					Name: pulumi.String("secrets"),
					Secret: &corev1.SecretVolumeSourceArgs{
						SecretName:  pulumi.String(args.SecretName),
						DefaultMode: pulumi.Int(0o440), // owner and fsGroup read, nobody else
					},
				}},
			},
		},
	}
}

func ingressSpec(args *Args) *networkingv1.IngressSpecArgs {
	return &networkingv1.IngressSpecArgs{
		IngressClassName: pulumi.String(args.IngressClass),
		Tls: networkingv1.IngressTLSArray{&networkingv1.IngressTLSArgs{
			Hosts: pulumi.StringArray{pulumi.String(args.Host)}, SecretName: pulumi.String(TLSSecretName),
		}},
		Rules: networkingv1.IngressRuleArray{&networkingv1.IngressRuleArgs{
			Host: pulumi.String(args.Host),
			Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{&networkingv1.HTTPIngressPathArgs{
				Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
				Backend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
					Name: pulumi.String(AppName),
					Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String(PortName)},
				}},
			}}},
		}},
	}
}

// ChartPath is the sample service's Helm chart in this repository: what Argo CD renders for an environment, with
// Values as the values of its Application.
const ChartPath = "charts/sample-service"

// Values are the chart's values for the arguments (charts/sample-service/values.schema.json): the same service
// the component declares object by object, as the Application Argo CD reconciles it from this repository.
func (a *Args) Values() map[string]any {
	r := a.Resources
	return map[string]any{
		"environment":   a.Environment,
		"labels":        a.Labels,
		"image":         a.Image,
		"host":          a.Host,
		"ingressClass":  a.IngressClass,
		"clusterIssuer": a.ClusterIssuer,
		"secretName":    a.SecretName,
		"resources": map[string]any{
			"requests": map[string]any{"cpu": r.CPURequest.String(), "memory": r.MemoryRequest.String()},
			"limits":   map[string]any{"cpu": r.CPULimit.String(), "memory": r.MemoryLimit.String()},
		},
		"autoscaling": map[string]any{"minReplicas": r.MinReplicas, "maxReplicas": r.MaxReplicas},
		"runbookURL":  monitoring.RunbookURL(AlertName),
	}
}
