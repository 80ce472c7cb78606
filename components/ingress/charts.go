package ingress

import (
	"maps"

	"github.com/platform-eng/lke-platform/components/gitops"
	"github.com/platform-eng/lke-platform/internal/names"
)

// Helm releases, pinned: a floating version would let two syncs install different code.
const (
	IngressNginxRepo    = "https://kubernetes.github.io/ingress-nginx"
	IngressNginxVersion = "4.15.1" // controller v1.15.1
	CertManagerRepo     = "https://charts.jetstack.io"
	CertManagerVersion  = "v1.21.2" // the CRDs upstream/ vendors (applied by Argo CD) come from module cert-manager v1.21.2
	ExternalDNSRepo     = "https://kubernetes-sigs.github.io/external-dns/"
	ExternalDNSVersion  = "1.21.1" // external-dns v0.21.0; linode is still an in-tree provider
)

// Charts are the environment's ingress releases, in install order.
func Charts(args *Args) []gitops.Chart {
	nginx := IngressNginxChart(args.IngressNamespace, args.Labels)
	if args.LocalControlPlane {
		nginx = WithoutAdmissionWebhook(nginx)
	}
	return []gitops.Chart{
		nginx,
		CertManagerChart(args.CertManagerNamespace, args.Labels),
		ExternalDNSChart(args),
	}
}

// WithoutAdmissionWebhook is the ingress-nginx chart with its validating webhook (and the hook Jobs that make its
// certificate) off: for the local control plane only (Args.LocalControlPlane), where no pod serves it.
func WithoutAdmissionWebhook(nginx gitops.Chart) gitops.Chart {
	controller := maps.Clone(nginx.Values["controller"].(map[string]any))
	controller["admissionWebhooks"] = map[string]any{"enabled": false}
	nginx.Values = maps.Clone(nginx.Values)
	nginx.Values["controller"] = controller
	return nginx
}

// IngressNginxChart is the NGINX ingress controller: the default IngressClass "nginx" behind a LoadBalancer
// Service (a Linode NodeBalancer), metrics scraped through a ServiceMonitor, the validating webhook on.
func IngressNginxChart(namespace string, labels map[string]string) gitops.Chart {
	return gitops.Chart{
		Name:      "ingress-nginx",
		Namespace: namespace,
		RepoURL:   IngressNginxRepo,
		Chart:     "ingress-nginx",
		Version:   IngressNginxVersion,
		Values: map[string]any{
			"fullnameOverride": "ingress-nginx",
			"commonLabels":     gitops.CommonLabels(labels),
			"controller": map[string]any{
				"replicaCount": 2,
				"ingressClass": IngressClass,
				"ingressClassResource": map[string]any{
					"name":            IngressClass,
					"enabled":         true,
					"default":         true,
					"controllerValue": "k8s.io/ingress-nginx",
				},
				// Snippet annotations let whoever writes an Ingress inject NGINX configuration; keep them off.
				"allowSnippetAnnotations": false,
				"service":                 map[string]any{"type": "LoadBalancer"},
				"metrics": map[string]any{
					"enabled":        true,
					"serviceMonitor": map[string]any{"enabled": true},
				},
				"admissionWebhooks": map[string]any{
					"enabled":         true,
					"createSecretJob": map[string]any{"resources": gitops.ResourceValues("10m", "32Mi", "100m", "64Mi")},
					"patchWebhookJob": map[string]any{"resources": gitops.ResourceValues("10m", "32Mi", "100m", "64Mi")},
				},
				"podSecurityContext": podSecurityContext(),
				// NGINX binds ports 80 and 443 and rewrites /etc/nginx at every reload, so the controller keeps
				// NET_BIND_SERVICE and a writable root filesystem; the ingress namespace is exempt from the
				// restricted rules for that reason. Everything else is as strict as for any workload.
				"containerSecurityContext": map[string]any{
					"runAsNonRoot":             true,
					"runAsUser":                101, // www-data in the upstream image
					"runAsGroup":               82,
					"allowPrivilegeEscalation": false,
					"readOnlyRootFilesystem":   false,
					"capabilities":             map[string]any{"drop": []any{"ALL"}, "add": []any{"NET_BIND_SERVICE"}},
					"seccompProfile":           runtimeDefault(),
				},
				"resources": gitops.ResourceValues("100m", "256Mi", "1", "512Mi"),
			},
		},
	}
}

// CertManagerChart is cert-manager without its CRDs (the CRDs Application installs them) and with its
// leader-election lease in its own namespace instead of kube-system.
func CertManagerChart(namespace string, labels map[string]string) gitops.Chart {
	component := func(req, reqMem, lim, limMem string) map[string]any {
		return map[string]any{
			"resources":                gitops.ResourceValues(req, reqMem, lim, limMem),
			"securityContext":          podSecurityContext(),
			"containerSecurityContext": containerSecurityContext(),
		}
	}
	values := component("10m", "64Mi", "200m", "256Mi")
	values["fullnameOverride"] = "cert-manager"
	values["crds"] = map[string]any{"enabled": false, "keep": true}
	values["global"] = map[string]any{
		"commonLabels":   gitops.CommonLabels(labels),
		"leaderElection": map[string]any{"namespace": namespace},
	}
	values["prometheus"] = map[string]any{
		"enabled":        true,
		"servicemonitor": map[string]any{"enabled": true},
	}
	values["webhook"] = component("10m", "32Mi", "100m", "128Mi")
	values["cainjector"] = component("10m", "64Mi", "200m", "256Mi")
	values["startupapicheck"] = component("10m", "32Mi", "100m", "64Mi")
	return gitops.Chart{
		Name:      "cert-manager",
		Namespace: namespace,
		RepoURL:   CertManagerRepo,
		Chart:     "cert-manager",
		Version:   CertManagerVersion,
		Values:    values,
	}
}

// ExternalDNSChart is external-dns with the Linode provider, creating records for Ingress hosts in the
// environment's zone <env>.<Domain>. TXT ownership records carry "platform-<env>" as well.
// Production only ever creates and updates (upsert-only); elsewhere records of removed hosts are deleted (sync).
func ExternalDNSChart(args *Args) gitops.Chart {
	policy := "sync"
	if args.Production {
		policy = "upsert-only"
	}
	return gitops.Chart{
		Name:      "external-dns",
		Namespace: args.ExternalDNSNamespace,
		RepoURL:   ExternalDNSRepo,
		Chart:     "external-dns",
		Version:   ExternalDNSVersion,
		Values: map[string]any{
			"fullnameOverride": "external-dns",
			"commonLabels":     gitops.CommonLabels(args.Labels),
			"provider":         map[string]any{"name": "linode"},
			"env": []any{map[string]any{
				"name": "LINODE_TOKEN",
				"valueFrom": map[string]any{"secretKeyRef": map[string]any{
					"name": DNSTokenSecret,
					"key":  DNSTokenKey,
				}},
			}},
			"sources": []any{"ingress"},
			// The environment's own zone only (components/dns): records of other environments and of the
			// shared parent zone are out of its reach.
			"domainFilters":  []any{names.Zone(args.Environment, args.Domain)},
			"registry":       "txt",
			"txtOwnerId":     TXTOwnerID(args.Environment),
			"policy":         policy,
			"serviceMonitor": map[string]any{"enabled": true},
			"podSecurityContext": map[string]any{
				"runAsNonRoot":   true,
				"fsGroup":        65534,
				"seccompProfile": runtimeDefault(),
			},
			"securityContext": map[string]any{
				"runAsNonRoot":             true,
				"runAsUser":                65532,
				"runAsGroup":               65532,
				"allowPrivilegeEscalation": false,
				"readOnlyRootFilesystem":   true,
				"capabilities":             map[string]any{"drop": []any{"ALL"}},
				"seccompProfile":           runtimeDefault(),
			},
			"resources": gitops.ResourceValues("20m", "64Mi", "100m", "128Mi"),
		},
	}
}

// TXTOwnerID is the owner external-dns writes into the TXT record beside each record it manages.
func TXTOwnerID(environment string) string { return names.Platform(environment) }

func runtimeDefault() map[string]any { return map[string]any{"type": "RuntimeDefault"} }

func podSecurityContext() map[string]any {
	return map[string]any{"runAsNonRoot": true, "seccompProfile": runtimeDefault()}
}

func containerSecurityContext() map[string]any {
	return map[string]any{
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem":   true,
		"capabilities":             map[string]any{"drop": []any{"ALL"}},
		"seccompProfile":           runtimeDefault(),
	}
}
