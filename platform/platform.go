// Package platform is the program every stack runs: it loads and validates the stack's configuration, then
// composes the components and exports the stack's outputs. Pulumi owns the cluster and its boundaries: the
// cluster (created, adopted, attached or rendered to YAML), the namespaces with their guard rails, access and
// admission, Argo CD's bootstrap, and the bridge: the environment's project and root Application. Argo CD owns
// what runs in it: the platform services (sealed secrets, ingress/TLS/DNS, observability, the sample service)
// build their charts' values and objects as data, and the root Application hands them to Argo CD, which
// renders them from this repository (docs/decisions.md 46-48).
package platform

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/components/access"
	"github.com/platform-eng/lke-platform/components/admission"
	"github.com/platform-eng/lke-platform/components/cluster"
	"github.com/platform-eng/lke-platform/components/dns"
	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/gpupool"
	"github.com/platform-eng/lke-platform/components/ingress"
	"github.com/platform-eng/lke-platform/components/namespace"
	"github.com/platform-eng/lke-platform/components/observability"
	"github.com/platform-eng/lke-platform/components/sampleservice"
	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/cost"
	"github.com/platform-eng/lke-platform/internal/names"
	"github.com/platform-eng/lke-platform/internal/vendorcharts"
)

// SampleServiceName names the sample service: its objects, its secret bundle and its host "sample.<env>.<domain>".
const SampleServiceName = "sample"

// Program is the Pulumi program of every stack.
func Program(ctx *pulumi.Context) error {
	env, err := config.Load(ctx)
	if err != nil {
		return err // before any resource is registered
	}
	if err := config.CheckApplied(env, ctx.Stack(), ctx.DryRun()); err != nil {
		return err
	}
	for _, p := range config.Placeholders(env) { // in a preview: an update would refuse them
		if err := ctx.Log.Warn(p.String()+"; an update refuses it (docs/configuration.md)", nil); err != nil {
			return err
		}
	}
	// The cluster is used from here on: an attached one must answer before anything is registered
	// (config.CheckReachable says why), with the same clear error as a bad key.
	if err := config.CheckReachable(env.Cluster, config.ReachTimeout); err != nil {
		return err
	}
	return Compose(ctx, env)
}

// Compose registers the environment's components and exports its outputs. Production's resources are
// protected: deleting one takes an explicit `pulumi state unprotect` first.
func Compose(ctx *pulumi.Context, env *config.Environment) error {
	// Sealing needs only the certificate: check it before anything is registered.
	sealer, err := secrets.NewSealer(env.Secrets.SealingCertificate)
	if err != nil {
		return fmt.Errorf("%s:sealedSecretsCertificate (%s): %w", config.Namespace, env.Secrets.SealingCertificatePath, err)
	}
	protect := pulumi.Protect(env.Protected())

	k8s, err := cluster.New(ctx, env.Name, &cluster.Args{
		Environment: env.Name, Region: env.Region, Tags: env.Tags, Cluster: clusterTarget(env.Cluster),
		ExternalPoolTag: config.ExternalPoolTag,
	}, protect)
	if err != nil {
		return err
	}
	if env.GPUPool != nil {
		if _, err := gpupool.New(ctx, env.Name+"-gpu", &gpupool.Args{
			ClusterID: k8s.ClusterID, Type: env.GPUPool.Type, Count: env.GPUPool.Count,
			Tags: cluster.Tags(env.Name, env.Tags), ExternalPoolTag: config.ExternalPoolTag,
		}, protect); err != nil {
			return err
		}
	}
	// The environment's own DNS zone, which external-dns writes to and nothing else (components/dns). Attach and
	// render modes make no Linode call: there the zone is the operator's to create (docs/configuration.md).
	if env.Cluster.Mode == config.Create {
		if _, err := dns.New(ctx, env.Name+"-dns", &dns.Args{
			Zone: names.Zone(env.Name, env.Domain), SOAEmail: env.ACMEEmail, Tags: cluster.Tags(env.Name, env.Tags),
		}, protect); err != nil {
			return err
		}
	}
	inCluster := []pulumi.ResourceOption{protect, pulumi.Provider(k8s.Provider)}
	with := func(opts ...pulumi.ResourceOption) []pulumi.ResourceOption {
		return append(append([]pulumi.ResourceOption(nil), inCluster...), opts...)
	}

	// The platform services build what Argo CD applies, as data: their charts' values and their objects (the
	// issuer, sealed secrets, rules, dashboard). Nothing of theirs is a Pulumi resource but the component itself,
	// and they need nothing of the cluster, so they come first: a component's constructor waits (the SDK's
	// RegisterResourceOutputs) until the engine has taken the component in, behind every step already queued.
	apps := env.Namespaces[0] // the sample service and the secret bundles live in the first workload namespace
	bundles := make([]secrets.Bundle, 0, len(env.Secrets.Bundles))
	for name, data := range env.Secrets.Bundles {
		bundles = append(bundles, secrets.Bundle{Name: name, Namespace: apps, Data: data})
	}
	sealed, err := secrets.New(ctx, env.Name, &secrets.Args{Sealer: sealer, Labels: env.Labels(), Bundles: bundles}, protect)
	if err != nil {
		return err
	}

	ing, err := ingress.New(ctx, env.Name, &ingress.Args{
		Environment: env.Name, Production: env.Name == config.Production, Labels: env.Labels(),
		IngressNamespace: env.IngressNamespace, CertManagerNamespace: CertManagerNamespace,
		ExternalDNSNamespace: ExternalDNSNamespace, Domain: env.Domain, ACMEEmail: env.ACMEEmail,
		Sealer: sealer, DNSToken: env.Secrets.DNSToken, LocalControlPlane: env.LocalControlPlane(),
	}, protect)
	if err != nil {
		return err
	}

	obs, err := observability.New(ctx, env.Name, &observability.Args{
		Environment: env.Name, Labels: env.Labels(), Namespace: env.MonitoringNamespace, Tracing: env.Tracing,
		Sealer: sealer, SlackWebhookURL: env.Secrets.SlackWebhookURL, SlackPagerWebhookURL: env.Secrets.SlackPagerWebhookURL,
		GrafanaAdminPassword: env.Secrets.GrafanaAdminPassword,
		// Prometheus, Grafana and Promtail look at these namespaces only: the workloads and the platform's own.
		EnvironmentNamespaces: append(append([]string(nil), env.Namespaces...), env.IngressNamespace, ArgoCDNamespace),
		LocalControlPlane:     env.LocalControlPlane(),
	}, protect)
	if err != nil {
		return err
	}

	sample, err := sampleservice.New(ctx, env.Name+"-"+SampleServiceName, &sampleservice.Args{
		Environment: env.Name, Namespace: apps, Labels: env.Labels(), Image: env.SampleServiceImage,
		Host: env.Host(SampleServiceName), IngressClass: ing.IngressClass, ClusterIssuer: ing.ClusterIssuer,
		SecretName: config.SampleServiceBundle, Resources: env.Sizing.Profile,
		ArgoCDNamespace: ArgoCDNamespace, RepoURL: env.GitOps.RepoURL, Revision: env.GitOps.Revision,
		AutoSync: env.Name != config.Production,
	}, protect)
	if err != nil {
		return err
	}

	// Every namespace arrives with its quota, limits and default-deny policy: the environment's workload
	// namespaces, and the platform services' own.
	namespaces := map[string]pulumi.Resource{}
	var workloadNames pulumi.StringArray
	systemNamespaces := []string{"kube-system"}
	for _, args := range platformNamespaces(env) {
		ns, err := namespace.New(ctx, args.Name, args, inCluster...)
		if err != nil {
			return err
		}
		namespaces[args.Name] = ns
		systemNamespaces = append(systemNamespaces, args.Name)
	}
	for _, name := range env.Namespaces {
		ns, err := namespace.New(ctx, name, &namespace.Args{
			Name: name, Labels: env.Labels(), Sizing: env.Sizing,
			IngressNamespace: env.IngressNamespace, MonitoringNamespace: env.MonitoringNamespace,
		}, inCluster...)
		if err != nil {
			return err
		}
		namespaces[name] = ns
		workloadNames = append(workloadNames, ns.Name)
	}

	// Argo CD itself, with its own CRDs, first: its chain (CRDs, then its install, then its workloads' wait) is the
	// longest of an update. Components that wait for others come after the ones that do not: a component's
	// constructor waits, in the SDK's RegisterResourceOutputs, until the component is registered, that is until
	// what it depends on is created, and holds up every component registered after it (docs/performance.md,
	// 2026-12-03).
	bootstrap, err := gitops.NewBootstrap(ctx, env.Name, &gitops.BootstrapArgs{
		Environment: env.Name, Namespace: ArgoCDNamespace, Labels: env.Labels(),
		// The Applications' events, to the environment's Loki as its tenant (label argo_app).
		Events: gitops.EventsArgs{LokiURL: observability.LokiURL(env.MonitoringNamespace), Tenant: env.Name},
	}, with(pulumi.DependsOn([]pulumi.Resource{namespaces[ArgoCDNamespace]}))...)
	if err != nil {
		return err
	}

	// The pack's in-cluster rules as ValidatingAdmissionPolicies: what bypasses Pulumi is refused too. The
	// platform services' namespaces run upstream controllers and are exempt, as kube-system is.
	policies, err := admission.New(ctx, env.Name, &admission.Args{
		Environment: env.Name, IngressNamespace: env.IngressNamespace, Labels: env.Labels(),
		SystemNamespaces: systemNamespaces, Domain: env.Domain,
		SecretWriters: []string{
			"system:serviceaccount:" + SealedSecretsNamespace + ":" + secrets.ControllerName,
			"system:kube-controller-manager",
		},
		Platform: PlatformIdentities,
	}, inCluster...)
	if err != nil {
		return err
	}

	// The bridge: the environment's project and its root Application, which holds every Application Argo CD
	// reconciles. It waits for every namespace (Argo CD creates none), for Argo CD itself, and for the admission
	// policies: nothing Argo CD applies may come before the rules that judge it.
	all := make([]pulumi.Resource, 0, len(namespaces))
	for _, ns := range namespaces {
		all = append(all, ns)
	}
	infra, err := gitops.NewInfrastructure(ctx, env.Name, &gitops.InfrastructureArgs{
		Environment: env.Name, Namespace: ArgoCDNamespace, Labels: env.Labels(),
		RepoURL: env.GitOps.RepoURL, Revision: env.GitOps.Revision,
		// Production syncs only when an operator runs `argocd app sync` after the approved promotion.
		AutoSync: env.Name != config.Production,
		Charts:   vendored(append(append(ing.Charts, obs.Charts...), secrets.ControllerChart(SealedSecretsNamespace))),
		Folders: []gitops.Folder{
			{Name: "network", Destination: ExternalDNSNamespace, Objects: gitops.Objects(ing.Objects)},
			{Name: "secrets", Destination: apps, Objects: gitops.Objects(sealed.Objects)},
			{Name: "observability", Destination: env.MonitoringNamespace, Objects: obs.Objects},
		},
		Applications: []gitops.Application{sample.Application},
		Workloads:    []string{apps},
		// Render mode writes what Argo CD applies beside the rendered cluster objects (docs/configuration.md).
		RenderDirectory: renderDirectory(env),
	}, with(bootstrap.AfterAll(), policies.InForce(), pulumi.DependsOn(all))...)
	if err != nil {
		return err
	}

	// Time-limited access for people (docs/access-control.md): expired packages are left out, so this update
	// removes their grants. It waits for the workload namespaces, so it comes after the components that do not.
	granted := make([]pulumi.Resource, 0, len(env.Namespaces))
	for _, name := range env.Namespaces {
		granted = append(granted, namespaces[name])
	}
	packages, err := access.New(ctx, env.Name, &access.Args{
		Environment: env.Name, Labels: env.Labels(), Packages: AccessPackages(env.AccessPackages),
		Source: AccessPackagesSource, Now: time.Now(),
		IngressNamespace: env.IngressNamespace, MonitoringNamespace: env.MonitoringNamespace,
	}, append(with(pulumi.DependsOn(granted)),
		// Never protected, production included: a package's grants must go when it expires or is revoked (the
		// pack exempts this component, policy/pack/protection.go).
		pulumi.Protect(false))...)
	if err != nil {
		return err
	}
	ctx.Export("accessPackages", packages.Issued)

	ctx.Export("environment", pulumi.String(env.Name))
	ctx.Export("region", pulumi.String(env.Region))
	ctx.Export("clusterMode", k8s.Mode)
	ctx.Export("clusterId", k8s.ClusterID)
	// Never a cluster-admin kubeconfig: whoever can read the stack's outputs would hold the cluster. A file the
	// stack attaches with is exported as its path (no credential), for scripts/access.
	if env.Cluster.KubeconfigPath != "" {
		ctx.Export("kubeconfig", pulumi.String(env.Cluster.KubeconfigPath))
	}
	ctx.Export("namespaces", workloadNames)
	ctx.Export("sampleServiceUrl", pulumi.Sprintf("https://%s/", sample.Host))
	ctx.Export("rootApplication", infra.Root)
	ctx.Export("dashboardUid", obs.DashboardUID)
	if env.Cluster.Mode == config.Create {
		return exportCost(ctx, env)
	}
	return nil
}

// exportCost exports the stack's monthly list price (package cost), what the policy pack shows in every preview
// and holds against the budget. A node type the price list does not have is a warning here, not an error: the
// stack is still valid; the pack refuses it only when a budget is set, since it cannot then be checked.
func exportCost(ctx *pulumi.Context, env *config.Environment) error {
	c := cost.Cluster{Region: env.Region, HighAvailability: env.Cluster.HighAvailability, Pools: []cost.Pool{{
		Name: "baseline pool", Type: env.Cluster.BaselinePool.Type, Count: env.Cluster.BaselinePool.Count, Max: env.Cluster.BaselinePool.Max,
	}}}
	if env.GPUPool != nil {
		c.Pools = append(c.Pools, cost.Pool{Name: "GPU pool", Type: env.GPUPool.Type, Count: env.GPUPool.Count})
	}
	e, err := cost.Prices().Estimate(c)
	if err != nil {
		return ctx.Log.Warn("no monthly list price for this stack: "+err.Error(), nil)
	}
	lines := pulumi.Array{}
	for _, l := range e.Lines {
		lines = append(lines, pulumi.Map{"item": pulumi.String(l.Item), "monthly": pulumi.Float64(l.Monthly)})
	}
	ctx.Export("monthlyListPrice", pulumi.Map{
		"monthly": pulumi.Float64(e.Monthly), "atMaximum": pulumi.Float64(e.AtMaximum), "currency": pulumi.String(e.Currency),
		"lines": lines, "prices": pulumi.String(e.Prices), "budget": pulumi.Int(env.MonthlyBudgetUSD),
	})
	return nil
}

// vendored points each chart this repository holds (internal/vendorcharts) at its folder: Argo CD renders it
// from the platform repository, and the cluster needs no Helm repository for it.
func vendored(charts []gitops.Chart) []gitops.Chart {
	for i, c := range charts {
		if pin, ok := vendorcharts.Lookup(c.Name); ok && pin.Vendored() && pin.Version == c.Version {
			charts[i].Path = pin.Path()
		}
	}
	return charts
}

// renderDirectory is where render mode writes the environment's GitOps tree: generated/<env>/ (the cluster's own
// objects go to its cluster/ folder, components/cluster). Empty in the other modes.
func renderDirectory(env *config.Environment) string {
	if env.Cluster.Mode != config.Render {
		return ""
	}
	return env.Cluster.RenderDirectory
}

// clusterTarget maps the validated cluster configuration onto the cluster component's own Target.
func clusterTarget(c config.Cluster) cluster.Target {
	return cluster.Target{
		Mode:              cluster.Mode(c.Mode), // the same strings: config.Modes are the component's modes
		Label:             c.Label,
		KubernetesVersion: c.KubernetesVersion,
		HighAvailability:  c.HighAvailability,
		BaselinePool: cluster.Pool{
			Type: c.BaselinePool.Type, Count: c.BaselinePool.Count, Min: c.BaselinePool.Min, Max: c.BaselinePool.Max,
		},
		ImportID:        c.ImportID,
		KubeconfigPath:  c.KubeconfigPath,
		Kubeconfig:      c.Kubeconfig,
		KubeContext:     c.KubeContext,
		RenderDirectory: c.RenderDirectory,
		ControlPlaneACL: cluster.ACL{IPv4: c.ControlPlaneACL.IPv4, IPv6: c.ControlPlaneACL.IPv6},
	}
}

// PlatformIdentities are who runs the platform: the only identities that delete its objects (the admission rule
// platform-objects-kept). Cluster administrators (the group system:masters: the local control plane's admin and
// any certificate-based admin), the cluster's own controllers (kube-system's ServiceAccounts, the namespace
// controller and the garbage collector among them, or the controller manager's own user where it runs without
// per-controller credentials) and Argo CD's application controller. Pulumi runs with the stack's kubeconfig:
// `kubectl auth whoami` with it must show one of these (docs/policy.md says how to check on LKE).
var PlatformIdentities = admission.Identities{
	Usernames: []string{
		"system:kube-controller-manager",
		"system:serviceaccount:" + ArgoCDNamespace + ":" + gitops.ControllerServiceAccount,
	},
	Groups: []string{"system:masters", "system:serviceaccounts:kube-system"},
}

// AccessPackagesSource is the configuration key access packages come from, which the warning for an expired
// one names (access.Args.Source).
const AccessPackagesSource = config.Namespace + ":accessPackages"

// AccessPackages maps validated access packages onto the access component's own Package, in order. Exported for
// tests/accessprogram, which grants access the way an environment does.
func AccessPackages(packages []config.AccessPackage) []access.Package {
	if packages == nil {
		return nil
	}
	out := make([]access.Package, 0, len(packages))
	for _, p := range packages {
		out = append(out, access.Package{
			Name: p.Name, Subject: p.Subject, Role: p.Role, Namespaces: p.Namespaces, ExpiresAt: p.ExpiresAt,
			Request: p.Request,
		})
	}
	return out
}
