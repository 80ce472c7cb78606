// Package sampleservice provides the SampleService component: the platform's sample workload (cmd/sample-service)
// with everything a service on the platform gets (a Deployment that mounts its sealed secret, a ClusterIP
// Service, a TLS Ingress with a cert-manager certificate, an HPA, a PodDisruptionBudget, a ServiceMonitor and the
// alert that pages when the service stops reporting up). Those objects are the Helm chart charts/sample-service;
// the component builds the Argo CD Application that renders it with the environment's values, the environment's
// root Application holds it, and Argo CD reconciles it from the platform repository (the GitOps Bridge split,
// docs/decisions.md).
package sampleservice

import (
	"errors"
	"fmt"
	"maps"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/monitoring"
	"github.com/platform-eng/lke-platform/quota"
)

// Names the chart, the alert and the tests share.
const (
	ManagedBy      = "argocd" // app.kubernetes.io/managed-by of the chart's objects
	managedByLabel = "app.kubernetes.io/managed-by"

	AppName   = "sample-service"    // the chart's name, the release's and every object's
	AlertName = "SampleServiceDown" // the alert the chart's PrometheusRule defines
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
	SecretName    string // Secret (unsealed from a SealedSecret bundle) mounted read-only in the container
	Resources     quota.Profile

	// Where the Application lives and what it renders.
	ArgoCDNamespace string // Argo CD's namespace: the Application lives there
	RepoURL         string // the platform repository, which holds the chart
	Revision        string // branch, tag or commit of RepoURL
	AutoSync        bool   // false on production: Argo CD syncs only when an operator says so
}

// SampleService is the sample service's Application.
type SampleService struct {
	pulumi.ResourceState

	// Application is the Application of charts/sample-service, for the environment's root Application.
	Application gitops.Application
	Host        pulumi.StringOutput
}

// Validate reports every missing or inconsistent argument at once.
func (a *Args) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"Environment", a.Environment}, {"Namespace", a.Namespace}, {"Image", a.Image}, {"Host", a.Host},
		{"IngressClass", a.IngressClass}, {"ClusterIssuer", a.ClusterIssuer}, {"SecretName", a.SecretName},
		{"ArgoCDNamespace", a.ArgoCDNamespace}, {"RepoURL", a.RepoURL}, {"Revision", a.Revision},
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

// New registers the SampleService component. Its Application (platform-<env>-sample-service) goes to the gitops
// Infrastructure component, whose root Application holds it.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*SampleService, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	s := &SampleService{Application: Application(args)}
	if err := ctx.RegisterComponentResource("platform:sampleservice:SampleService", name, s, opts...); err != nil {
		return nil, err
	}
	s.Host = pulumi.String(args.Host).ToStringOutput()
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{
		"application": pulumi.String(s.Application.Metadata.Name),
		"host":        s.Host,
	})
}

// Application is the sample service's Argo CD Application: charts/sample-service of the platform repository,
// rendered with Values into the environment's namespace. Outside production Argo CD syncs, prunes and
// self-heals on its own; on production it waits for an operator's sync.
func Application(args *Args) gitops.Application {
	labels := maps.Clone(args.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app.kubernetes.io/name"] = AppName
	return gitops.RepoApplication(gitops.RepoApplicationArgs{
		Name: gitops.ApplicationName(args.Environment, AppName), Environment: args.Environment,
		Namespace: args.ArgoCDNamespace, Labels: labels,
		RepoURL: args.RepoURL, Revision: args.Revision, Path: ChartPath,
		Helm:        &gitops.HelmSource{ReleaseName: AppName, ValuesObject: args.Values()},
		Destination: args.Namespace, AutoSync: args.AutoSync,
	})
}

// ChartPath is the sample service's Helm chart in this repository: what Argo CD renders for an environment, with
// Values as the values of its Application.
const ChartPath = "charts/sample-service"

// Values are the chart's values for the arguments (charts/sample-service/values.schema.json): the same service
// the component declares object by object, as the Application Argo CD reconciles it from this repository.
func (a *Args) Values() map[string]any {
	r := a.Resources
	labels := maps.Clone(a.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[managedByLabel] = ManagedBy // Argo CD applies these objects, not Pulumi
	return map[string]any{
		"environment":   a.Environment,
		"labels":        labels,
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
