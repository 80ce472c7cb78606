package ingress

// The Let's Encrypt ClusterIssuers. Production certificates come from the production directory; every other
// environment uses the staging directory, whose rate limits are generous and whose certificates browsers distrust.
const (
	ProductionIssuer = "letsencrypt-production"
	StagingIssuer    = "letsencrypt-staging"

	ProductionACMEServer = "https://acme-v02.api.letsencrypt.org/directory"
	StagingACMEServer    = "https://acme-staging-v02.api.letsencrypt.org/directory"

	IssuerAPIVersion = "cert-manager.io/v1"
	IssuerKind       = "ClusterIssuer"
)

// ClusterIssuerSpec is the spec of a cert-manager ClusterIssuer, reduced to the ACME fields the platform sets
// (field names as in cert-manager v1.21's acme/v1 types).
type ClusterIssuerSpec struct {
	ACME ACMEIssuer `json:"acme"`
}

// ACMEIssuer is an ACME account and how it solves challenges.
type ACMEIssuer struct {
	Server              string       `json:"server"`
	Email               string       `json:"email"`
	PrivateKeySecretRef SecretRef    `json:"privateKeySecretRef"`
	Solvers             []ACMESolver `json:"solvers"`
}

// SecretRef names the Secret holding the ACME account key, in cert-manager's own namespace.
type SecretRef struct {
	Name string `json:"name"`
}

// ACMESolver is one challenge solver.
type ACMESolver struct {
	HTTP01 *HTTP01Solver `json:"http01,omitempty"`
}

// HTTP01Solver answers HTTP-01 challenges through an Ingress.
type HTTP01Solver struct {
	Ingress HTTP01Ingress `json:"ingress"`
}

// HTTP01Ingress is the Ingress cert-manager creates for a challenge.
type HTTP01Ingress struct {
	IngressClassName string `json:"ingressClassName"`
}

// IssuerName is the environment's ClusterIssuer.
func IssuerName(production bool) string {
	if production {
		return ProductionIssuer
	}
	return StagingIssuer
}

// ACMEServer is the ACME directory the environment's issuer registers with.
func ACMEServer(production bool) string {
	if production {
		return ProductionACMEServer
	}
	return StagingACMEServer
}

// IssuerSpec is the environment's ClusterIssuer: HTTP-01 through the NGINX class, the account key in a Secret named
// after the issuer.
func IssuerSpec(production bool, email string) ClusterIssuerSpec {
	name := IssuerName(production)
	return ClusterIssuerSpec{ACME: ACMEIssuer{
		Server:              ACMEServer(production),
		Email:               email,
		PrivateKeySecretRef: SecretRef{Name: name},
		Solvers: []ACMESolver{{HTTP01: &HTTP01Solver{
			Ingress: HTTP01Ingress{IngressClassName: IngressClass},
		}}},
	}}
}
