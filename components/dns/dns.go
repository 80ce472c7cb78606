// Package dns provides the Zone component: an environment's own DNS zone, <env>.<domain>, in Linode's DNS
// Manager. external-dns publishes the environment's Ingress hosts into this zone and no other: its domainFilters
// name the zone, and its Linode provider only lists the zones a filter matches (a filter matches a zone that is
// the filtered name or lies under it, never a parent), so an environment's external-dns cannot write another
// environment's records or the shared parent zone's. Linode's name servers serve the parent zone and this one
// alike, so names under the zone resolve without delegation records (both zones must be in the same account).
package dns

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/internal/names"
)

// Args configures an environment's zone.
type Args struct {
	Zone     string   // the zone's name: <env>.<domain> (names.Zone)
	SOAEmail string   // the zone's contact in its SOA record
	Tags     []string // the environment's Linode tags
}

// Zone is the environment's DNS zone.
type Zone struct {
	pulumi.ResourceState

	// Name is the zone's name, for external-dns' domainFilters.
	Name pulumi.StringOutput
	// DomainID is the zone's Linode ID.
	DomainID pulumi.IDOutput
}

func (a *Args) validate() error {
	var problems []string
	if !names.DNSName.MatchString(a.Zone) {
		problems = append(problems, fmt.Sprintf("Zone %q is not a DNS name", a.Zone))
	}
	if local, domain, ok := strings.Cut(a.SOAEmail, "@"); !ok || local == "" || !names.DNSName.MatchString(domain) {
		problems = append(problems, fmt.Sprintf("SOAEmail %q is not an email address", a.SOAEmail))
	}
	if len(problems) > 0 {
		return fmt.Errorf("dns: %s", strings.Join(problems, "; "))
	}
	return nil
}

// New registers the Zone component: one master zone.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Zone, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	z := &Zone{}
	if err := ctx.RegisterComponentResource("platform:dns:Zone", name, z, opts...); err != nil {
		return nil, err
	}
	domain, err := linode.NewDomain(ctx, name, &linode.DomainArgs{
		Domain:      pulumi.String(args.Zone),
		Type:        pulumi.String("master"),
		SoaEmail:    pulumi.String(args.SOAEmail),
		Description: pulumi.String("the environment's own zone: external-dns publishes its Ingress hosts here only"),
		Tags:        pulumi.ToStringArray(args.Tags),
	}, pulumi.Parent(z))
	if err != nil {
		return nil, err
	}
	z.Name, z.DomainID = domain.Domain, domain.ID()
	return z, ctx.RegisterResourceOutputs(z, pulumi.Map{"name": z.Name, "domainId": z.DomainID})
}
