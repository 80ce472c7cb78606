// Package cluster provides the Cluster component: the environment's Kubernetes API, either an LKE cluster the
// program creates (or adopts) with the linode provider, an existing cluster it attaches to by kubeconfig, or, in
// render mode, a folder the objects are written to as YAML. Either way it yields the kubernetes Provider every
// other component deploys through.
package cluster

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BaselinePoolLabel marks the nodes of the baseline pool, so workloads can target or avoid it.
const BaselinePoolLabel = "platform.lke/pool"

// RenderedObjectsDir is the folder of generated/<env>/ that render mode writes Pulumi's own objects to; what
// Argo CD applies is written beside it (argo/, network/, secrets/, observability/).
const RenderedObjectsDir = "cluster"

// Mode says where the cluster's Kubernetes API comes from. The component has its own type, rather than the
// config package's, so it depends only on what it is given: platform/platform.go maps the validated
// configuration onto it.
type Mode string

const (
	// Create makes (or, with Target.ImportID, adopts) an LKE cluster with the linode provider.
	Create Mode = "create"
	// Attach uses an existing cluster through a kubeconfig; no Linode API call is made.
	Attach Mode = "attach"
	// Render writes every Kubernetes object as YAML under Target.RenderDirectory; no cluster is touched at all.
	Render Mode = "render"
)

// Target is the cluster to reach: the fields of the environment's cluster configuration this component reads,
// already validated. Its own type keeps the component independent of the config package (platform/platform.go
// maps config.Cluster onto it).
type Target struct {
	Mode              Mode
	Label             string // the LKE cluster's label, and the provider's cluster identity in every mode
	KubernetesVersion string
	HighAvailability  bool
	BaselinePool      Pool
	// ImportID adopts an existing LKE cluster instead of creating one (create mode).
	ImportID string
	// Attach mode: a kubeconfig file, or its content (secret), and optionally a context in it.
	KubeconfigPath string
	Kubeconfig     string // secret: only ever handed to Pulumi wrapped with pulumi.ToSecret
	KubeContext    string
	// Render mode: the folder the YAML goes to, "<project>/generated/<env>".
	RenderDirectory string
	// ControlPlaneACL lists who may reach the LKE API server (create mode: created and adopted clusters).
	ControlPlaneACL ACL
}

// Pool is the baseline node pool of a created cluster, autoscaled between Min and Max. The component's own
// type, for the same reason as Target.
type Pool struct {
	Type  string
	Count int
	Min   int
	Max   int
}

// ACL is the allow list of the LKE control plane, by address family (single addresses or CIDRs). The
// component's own type, for the same reason as Target.
type ACL struct {
	IPv4 []string
	IPv6 []string
}

// Args configures the Cluster: the cluster to reach plus the environment's identity.
type Args struct {
	Environment string
	Region      string
	Tags        []string
	Cluster     Target
	// ExternalPoolTag marks the node pools that are their own LkeNodePool resources (the GPU pool): the LKE
	// cluster lists it in externalPoolTags (create mode). The platform passes config.ExternalPoolTag, the tag
	// the GPU pool carries and the environment's tags may not.
	ExternalPoolTag string
}

// Cluster is the environment's Kubernetes API.
type Cluster struct {
	pulumi.ResourceState

	// Provider deploys into this cluster; pass it to every Kubernetes component.
	Provider *kubernetes.Provider
	// ClusterID is the LKE cluster's numeric ID (create mode only; unknown in attach mode).
	ClusterID pulumi.IntOutput
	// Kubeconfig is the cluster's kubeconfig (secret) in create mode, or the attach-mode kubeconfig source.
	Kubeconfig pulumi.StringOutput
	// Mode is how the cluster was reached: "create", "attach" or "render".
	Mode pulumi.StringOutput
}

// New registers the Cluster component.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	c := &Cluster{}
	if err := ctx.RegisterComponentResource("platform:cluster:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	var kubeconfig pulumi.StringInput
	switch args.Cluster.Mode {
	case Create:
		lke, err := newLKE(ctx, name, args, c)
		if err != nil {
			return nil, err
		}
		c.ClusterID = lke.ID().ApplyT(func(id pulumi.ID) (int, error) { return strconv.Atoi(string(id)) }).(pulumi.IntOutput)
		// LKE hands the kubeconfig out base64-encoded; the provider wants the YAML. It holds client credentials.
		kubeconfig = pulumi.ToSecret(lke.Kubeconfig.ApplyT(decodeKubeconfig)).(pulumi.StringOutput)
	case Attach:
		c.ClusterID = pulumi.Int(0).ToIntOutput()
		if args.Cluster.KubeconfigPath != "" {
			// A path keeps key material out of state: the provider reads the file itself.
			kubeconfig = pulumi.String(args.Cluster.KubeconfigPath)
		} else {
			kubeconfig = pulumi.ToSecret(pulumi.String(args.Cluster.Kubeconfig)).(pulumi.StringOutput)
		}
	case Render:
		c.ClusterID = pulumi.Int(0).ToIntOutput()
		kubeconfig = pulumi.String("")
	default:
		return nil, fmt.Errorf("cluster %s: unknown mode %q", name, args.Cluster.Mode)
	}
	c.Kubeconfig = kubeconfig.ToStringOutput()
	c.Mode = pulumi.String(string(args.Cluster.Mode)).ToStringOutput()

	providerArgs := &kubernetes.ProviderArgs{
		Kubeconfig: kubeconfig,
		// The provider is replaced (and with it every object) only if this identity changes, never because a
		// kubeconfig was rotated or the local control plane came back on another port.
		ClusterIdentifier: pulumi.String(args.Cluster.Label),
	}
	if args.Cluster.KubeContext != "" {
		providerArgs.Context = pulumi.String(args.Cluster.KubeContext)
	}
	if args.Cluster.Mode == Render {
		// Objects are written as YAML under RenderedObjectsDir (CRDs under 0-crd/, the rest under 1-manifest/)
		// and no cluster is contacted. What Argo CD applies goes beside it (components/gitops, WriteTree).
		providerArgs = &kubernetes.ProviderArgs{
			RenderYamlToDirectory: pulumi.String(filepath.Join(args.Cluster.RenderDirectory, RenderedObjectsDir)),
			ClusterIdentifier:     pulumi.String(args.Cluster.Label),
			// Empty on purpose, not left out: the SDK fills a nil kubeconfig from $KUBECONFIG, which the provider
			// refuses beside renderYamlToDirectory ("kubeconfig" arg is not compatible), and which would put
			// whatever cluster the shell or CI job points at into this stack's provider. An empty string is what
			// the provider's check accepts together with renderYamlToDirectory. (The plugin process, given no
			// kubeconfig, still tries client-go's default one: docs/decisions.md, 41.)
			Kubeconfig: pulumi.String(""),
		}
	}
	provider, err := kubernetes.NewProvider(ctx, name, providerArgs, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	c.Provider = provider

	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterId":  c.ClusterID,
		"kubeconfig": c.Kubeconfig,
		"mode":       c.Mode,
	})
}

func newLKE(ctx *pulumi.Context, name string, args *Args, parent pulumi.Resource) (*linode.LkeCluster, error) {
	cl := args.Cluster
	pool := cl.BaselinePool
	opts := []pulumi.ResourceOption{
		pulumi.Parent(parent),
		pulumi.AdditionalSecretOutputs([]string{"kubeconfig"}),
		// The autoscaler moves the node count between min and max; that is not drift.
		pulumi.IgnoreChanges([]string{"pools[0].count"}),
	}
	if cl.ImportID != "" {
		// Adopt the inventory's existing cluster: the first up imports it instead of creating a new one. The
		// program did not create it and must never delete it, on any stack: protect refuses a destroy or a
		// replacement until someone runs `pulumi state unprotect` on purpose, and retainOnDelete makes even
		// that destroy (or a replacement) only release the cluster from the state, with no DELETE sent to Linode.
		opts = append(opts, pulumi.Import(pulumi.ID(cl.ImportID)), pulumi.Protect(true), pulumi.RetainOnDelete(true))
	}
	tags := Tags(args.Environment, args.Tags)
	return linode.NewLkeCluster(ctx, name, &linode.LkeClusterArgs{
		Label:      pulumi.String(cl.Label),
		Region:     pulumi.String(args.Region),
		K8sVersion: pulumi.String(cl.KubernetesVersion),
		Tags:       pulumi.ToStringArray(tags),
		// Pools tagged so are their own LkeNodePool resources (the GPU pool): the provider leaves them out of this
		// cluster's pools when it reads the cluster, so a refresh never adopts one and the next update never
		// deletes it. The baseline pool below never carries the tag (config refuses it in tags).
		ExternalPoolTags: pulumi.ToStringArray([]string{args.ExternalPoolTag}),
		ControlPlane: &linode.LkeClusterControlPlaneArgs{
			HighAvailability: pulumi.Bool(cl.HighAvailability),
			Acl:              controlPlaneACL(cl.ControlPlaneACL),
		},
		Pools: linode.LkeClusterPoolArray{&linode.LkeClusterPoolArgs{
			Type:   pulumi.String(pool.Type),
			Count:  pulumi.Int(pool.Count),
			Labels: pulumi.StringMap{BaselinePoolLabel: pulumi.String("baseline")},
			Tags:   pulumi.ToStringArray(PoolTags(args.Environment)),
			Autoscaler: &linode.LkeClusterPoolAutoscalerArgs{
				Min: pulumi.Int(pool.Min),
				Max: pulumi.Int(pool.Max),
			},
		}},
	}, opts...)
}

// controlPlaneACL turns the validated allow list into the provider's ACL: enabled (every address not listed is
// refused), with the addresses by family. A family with no address is left out rather than sent empty.
func controlPlaneACL(acl ACL) *linode.LkeClusterControlPlaneAclArgs {
	addresses := &linode.LkeClusterControlPlaneAclAddressArgs{}
	if len(acl.IPv4) > 0 {
		addresses.Ipv4s = pulumi.ToStringArray(acl.IPv4)
	}
	if len(acl.IPv6) > 0 {
		addresses.Ipv6s = pulumi.ToStringArray(acl.IPv6)
	}
	return &linode.LkeClusterControlPlaneAclArgs{
		Enabled:   pulumi.Bool(true),
		Addresses: linode.LkeClusterControlPlaneAclAddressArray{addresses},
	}
}

// Tags are the Linode tags of an environment's cluster and of its GPU pool.
func Tags(environment string, extra []string) []string {
	return append([]string{"platform:lke", "environment:" + environment, "managed-by:pulumi"}, extra...)
}

// PoolTags are the baseline pool's tags (its nodes carry them): the environment's, and only that one. The
// provider (4.39.0) pairs the pools LKE lists with the declared ones, the first time it reads a new cluster, by
// comparing their tags in the order LKE returns them against the declared tags sorted; with two tags or more in
// another order the pool goes unpaired, the state holds an empty pool beside the real one, and the next update
// replaces the baseline pool (docs/decisions.md, 43). One tag has no order.
func PoolTags(environment string) []string {
	return []string{"environment:" + environment}
}

func decodeKubeconfig(encoded string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("decoding the LKE kubeconfig (expected base64): %w", err)
	}
	return string(b), nil
}
