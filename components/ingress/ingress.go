// Package ingress provides the Ingress component: how traffic and names reach an environment. It describes the
// NGINX ingress controller, cert-manager and external-dns (provider linode) as Helm releases for Argo CD, and
// builds the Let's Encrypt ClusterIssuer and the SealedSecret that carries external-dns' Linode token as objects
// for Argo CD to apply.
package ingress

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/internal/manifest"
)

// IngressClass is the IngressClass of the NGINX controller, the cluster's default class.
const IngressClass = "nginx"

// The external-dns credentials: a Secret in the external-dns namespace, sealed by this component.
const (
	DNSTokenSecret = "external-dns-linode"
	DNSTokenKey    = "token"
)

// Args configures an environment's ingress, certificates and DNS.
type Args struct {
	Environment          string
	Production           bool              // production gets the production ACME issuer and an external-dns that never deletes
	Labels               map[string]string // the environment's common labels
	IngressNamespace     string
	CertManagerNamespace string
	ExternalDNSNamespace string
	Domain               string // the Linode DNS zone; hosts are <name>.<env>.<Domain>
	ACMEEmail            string // Let's Encrypt account contact
	Sealer               *secrets.Sealer
	DNSToken             string // Linode API token, plaintext: sealed here, never registered as is
	// LocalControlPlane: the charts go onto the local control plane, where no pod really runs (kwok). The
	// ingress controller's admission webhook is off there: its failurePolicy is Fail, so with no server to answer
	// every Ingress write (the sample service's) would be refused. cert-manager's webhook stays: its chart has no
	// switch for it, and it only holds up writes of cert-manager's own kinds (the ClusterIssuer).
	LocalControlPlane bool
}

// Ingress is the environment's ingress layer.
type Ingress struct {
	pulumi.ResourceState

	// Charts are the Helm releases Argo CD installs: ingress-nginx, cert-manager and external-dns.
	Charts []gitops.Chart
	// ClusterIssuer is the issuer Ingresses name in the cert-manager.io/cluster-issuer annotation.
	ClusterIssuer string
	// IngressClass is the class Ingresses name in spec.ingressClassName.
	IngressClass string
	// Objects are the ClusterIssuer and the SealedSecret of the Linode token, for Argo CD to apply.
	Objects []manifest.Object
}

// New registers the Ingress component. Its charts go to the gitops Infrastructure component as Argo CD
// Applications; its objects (the ClusterIssuer and the sealed Linode token) are the environment's network folder.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Ingress, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	issuer := IssuerName(args.Production)
	token, err := secrets.SealedSecret(args.Sealer, &secrets.SealedSecretArgs{
		Namespace: args.ExternalDNSNamespace,
		Name:      DNSTokenSecret,
		Labels:    withName(args.Labels, "external-dns"),
		Data:      map[string]string{DNSTokenKey: args.DNSToken},
	})
	if err != nil {
		return nil, err
	}
	ing := &Ingress{
		Charts:        Charts(args),
		ClusterIssuer: issuer,
		IngressClass:  IngressClass,
		Objects: []manifest.Object{
			{
				APIVersion: IssuerAPIVersion, Kind: IssuerKind,
				Metadata: manifest.Meta{Name: issuer, Labels: withName(args.Labels, "cert-manager")},
				Spec:     IssuerSpec(args.Production, args.ACMEEmail),
			},
			token,
		},
	}
	if err := ctx.RegisterComponentResource("platform:ingress:Ingress", name, ing, opts...); err != nil {
		return nil, err
	}
	return ing, ctx.RegisterResourceOutputs(ing, pulumi.Map{
		"clusterIssuer": pulumi.String(ing.ClusterIssuer),
		"ingressClass":  pulumi.String(ing.IngressClass),
	})
}

// Validate reports every problem with the arguments at once. No message ever quotes DNSToken.
func (a *Args) Validate() error {
	if a == nil {
		return errors.New("ingress: no arguments")
	}
	var problems []string
	label := func(field, value string) {
		if errs := validation.IsDNS1123Label(value); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s %q: %s", field, value, strings.Join(errs, "; ")))
		}
	}
	label("Environment", a.Environment)
	label("IngressNamespace", a.IngressNamespace)
	label("CertManagerNamespace", a.CertManagerNamespace)
	label("ExternalDNSNamespace", a.ExternalDNSNamespace)
	if err := checkDomain(a.Domain); err != nil {
		problems = append(problems, fmt.Sprintf("Domain %q: %v", a.Domain, err))
	}
	if addr, err := mail.ParseAddress(a.ACMEEmail); err != nil {
		problems = append(problems, fmt.Sprintf("ACMEEmail %q: not an email address (%v)", a.ACMEEmail, err))
	} else if addr.Address != a.ACMEEmail {
		problems = append(problems, fmt.Sprintf("ACMEEmail %q: give the bare address (%s), without a display name", a.ACMEEmail, addr.Address))
	}
	if strings.TrimSpace(a.DNSToken) == "" {
		problems = append(problems, "DNSToken is empty: external-dns needs the Linode API token (Domains read/write)")
	}
	if a.Sealer == nil {
		problems = append(problems, "Sealer is nil: the DNS token is sealed for the sealed-secrets controller")
	}
	if len(problems) > 0 {
		return fmt.Errorf("ingress: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkDomain accepts a DNS zone name as Linode holds it: lower-case, at least two labels, no trailing dot.
func checkDomain(domain string) error {
	if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	if !strings.Contains(domain, ".") {
		return errors.New("a zone has at least two labels (example.com)")
	}
	for _, l := range strings.Split(domain, ".") {
		if errs := validation.IsDNS1123Label(l); len(errs) > 0 {
			return fmt.Errorf("label %q: %s", l, strings.Join(errs, "; "))
		}
	}
	return nil
}

// withName adds app.kubernetes.io/name to a copy of the common labels.
func withName(labels map[string]string, app string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out["app.kubernetes.io/name"] = app
	return out
}
