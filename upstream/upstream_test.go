package upstream

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// crdCounts is how many CRDs each project ships at its pinned version; a bump that changes one shows up here.
var crdCounts = map[string]int{"argo-cd": 2, "cert-manager": 6, "prometheus-operator": 10, "sealed-secrets": 1}

func TestEveryCRDFileHoldsCustomResourceDefinitionsOnly(t *testing.T) {
	perProject := map[string]int{}
	names := map[string]string{}
	for _, f := range CRDs() {
		objs, err := Decode(f.Data)
		require.NoError(t, err, f.Name)
		require.NotEmpty(t, objs, f.Name)
		for _, o := range objs {
			assert.Equal(t, "apiextensions.k8s.io/v1", o["apiVersion"], f.Name)
			assert.Equal(t, "CustomResourceDefinition", o["kind"], f.Name)
			spec := o["spec"].(map[string]any)
			name := o["metadata"].(map[string]any)["name"].(string)
			// The API server refuses a CRD whose name is not <plural>.<group>.
			assert.Equal(t, spec["names"].(map[string]any)["plural"].(string)+"."+spec["group"].(string), name, f.Name)
			assert.Contains(t, []any{"Namespaced", "Cluster"}, spec["scope"], f.Name)
			assert.NotContains(t, names, name, "%s is also defined in %s", name, names[name])
			names[name] = f.Name
			perProject[strings.SplitN(f.Name, "/", 2)[0]]++
		}
	}
	assert.Equal(t, crdCounts, perProject)
}

func TestCRDsComeInAStableOrder(t *testing.T) {
	var got []string
	for _, f := range CRDs() {
		got = append(got, f.Name)
	}
	assert.Equal(t, []string{
		"argo-cd/application-crd.yaml", "argo-cd/appproject-crd.yaml",
		"cert-manager/acme.cert-manager.io_challenges.yaml", "cert-manager/acme.cert-manager.io_orders.yaml",
		"cert-manager/cert-manager.io_certificaterequests.yaml", "cert-manager/cert-manager.io_certificates.yaml",
		"cert-manager/cert-manager.io_clusterissuers.yaml", "cert-manager/cert-manager.io_issuers.yaml",
		"prometheus-operator/monitoring.coreos.com_alertmanagerconfigs.yaml",
		"prometheus-operator/monitoring.coreos.com_alertmanagers.yaml",
		"prometheus-operator/monitoring.coreos.com_podmonitors.yaml",
		"prometheus-operator/monitoring.coreos.com_probes.yaml",
		"prometheus-operator/monitoring.coreos.com_prometheusagents.yaml",
		"prometheus-operator/monitoring.coreos.com_prometheuses.yaml",
		"prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
		"prometheus-operator/monitoring.coreos.com_scrapeconfigs.yaml",
		"prometheus-operator/monitoring.coreos.com_servicemonitors.yaml",
		"prometheus-operator/monitoring.coreos.com_thanosrulers.yaml",
		"sealed-secrets/bitnami.com_sealedsecrets.yaml",
	}, got)
}

func TestArgoCDCRDsAreTheBootstrapsOnly(t *testing.T) {
	var got []string
	for _, f := range ArgoCDCRDs() {
		got = append(got, f.Name)
	}
	assert.Equal(t, []string{"argo-cd/application-crd.yaml", "argo-cd/appproject-crd.yaml"}, got)
}

// argoCDKinds are the kinds of Argo CD's core install, each with the k8s.io/api type it must decode into
// strictly (nil for CRDs, checked against the vendored CRD files instead).
var argoCDKinds = map[string]func() any{
	"apiextensions.k8s.io/v1/CustomResourceDefinition": nil,
	"v1/ServiceAccount":                               func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                                    func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                       func() any { return &corev1.Secret{} },
	"v1/Service":                                      func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                              func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                             func() any { return &appsv1.StatefulSet{} },
	"rbac.authorization.k8s.io/v1/Role":               func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":        func() any { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	"networking.k8s.io/v1/NetworkPolicy":              func() any { return &networkingv1.NetworkPolicy{} },
}

func TestArgoCDInstallHoldsTheExpectedKindsAndDecodesStrictly(t *testing.T) {
	objs, err := Decode(ArgoCDInstall())
	require.NoError(t, err)
	require.Equal(t, 34, len(objs), "objects in core-install.yaml at "+ArgoCDVersion)
	for _, o := range objs {
		key := o["apiVersion"].(string) + "/" + o["kind"].(string)
		newTyped, ok := argoCDKinds[key]
		require.True(t, ok, "unexpected kind %s in core-install.yaml", key)
		meta := o["metadata"].(map[string]any)
		assert.NotContains(t, meta, "namespace", "%s %s: the install leaves the namespace to the installer", key, meta["name"])
		if newTyped == nil {
			continue
		}
		raw, err := json.Marshal(o)
		require.NoError(t, err)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		assert.NoError(t, dec.Decode(newTyped()), "%s %s", key, meta["name"])
	}
}

// The bootstrap installs Argo CD's CRDs from manifests/crds and the rest from core-install.yaml: both must
// describe the same CRDs.
func TestArgoCDInstallCarriesTheVendoredArgoCDCRDs(t *testing.T) {
	objs, err := Decode(ArgoCDInstall())
	require.NoError(t, err)
	inInstall := map[string]Object{}
	for _, o := range objs {
		if o["kind"] == "CustomResourceDefinition" {
			inInstall[o["metadata"].(map[string]any)["name"].(string)] = o
		}
	}
	vendored := map[string]Object{}
	for _, f := range CRDs() {
		if strings.HasPrefix(f.Name, "argo-cd/") {
			crds, err := Decode(f.Data)
			require.NoError(t, err)
			for _, o := range crds {
				vendored[o["metadata"].(map[string]any)["name"].(string)] = o
			}
		}
	}
	// The install also carries the ApplicationSet CRD, which the platform leaves out (components/gitops).
	delete(inInstall, "applicationsets.argoproj.io")
	require.Equal(t, len(vendored), len(inInstall))
	for name, crd := range vendored {
		assert.True(t, reflect.DeepEqual(crd, inInstall[name]), "%s differs between manifests/crds and core-install.yaml", name)
	}
}

func TestArgoCDNotificationsIsTheControllerAndItsSettings(t *testing.T) {
	kinds := map[string]string{}
	for _, f := range ArgoCDNotifications() {
		objs, err := Decode(f.Data)
		require.NoError(t, err, f.Name)
		require.Len(t, objs, 1, f.Name)
		meta := objs[0]["metadata"].(map[string]any)
		assert.NotContains(t, meta, "namespace", f.Name)
		kinds[objs[0]["kind"].(string)+"/"+meta["name"].(string)] = f.Name
	}
	assert.Len(t, kinds, 8)
	for _, want := range []string{
		"Deployment/argocd-notifications-controller", "ConfigMap/argocd-notifications-cm",
		"Secret/argocd-notifications-secret", "ServiceAccount/argocd-notifications-controller",
		"Role/argocd-notifications-controller", "RoleBinding/argocd-notifications-controller",
	} {
		assert.Contains(t, kinds, want)
	}
}

func TestSourcesNameEveryEmbeddedFile(t *testing.T) {
	sources := Sources()
	require.Equal(t, 28, len(sources)) // 19 CRD files, core-install.yaml and the notifications controller's 8
	seen := map[string]bool{}
	for _, s := range sources {
		assert.NotEmpty(t, s.Content(), s.Embedded)
		assert.False(t, seen[s.Embedded], "%s listed twice", s.Embedded)
		seen[s.Embedded] = true
		assert.Regexp(t, `^v\d+\.\d+\.\d+$`, s.Version)
	}
	assert.Contains(t, sources, Source{
		Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCDVersion,
		Path: "manifests/core-install.yaml", Embedded: "argocd/core-install.yaml",
	})
	assert.Contains(t, sources, Source{
		Module: "github.com/bitnami-labs/sealed-secrets", Version: SealedSecretsVersion,
		Path:     "helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml",
		Embedded: "crds/sealed-secrets/bitnami.com_sealedsecrets.yaml",
	})
	for _, s := range sources {
		assert.NotContains(t, s.Path, "README", "READMEs are not vendored")
	}
}

func TestDecode(t *testing.T) {
	objs, err := Decode([]byte("---\n# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  when: 2024-01-01\n  port: \"80\"\n---\n---\nkind: X\nreplicas: 3\n"))
	require.NoError(t, err)
	assert.Equal(t, []Object{
		// A timestamp-looking scalar stays a string, as the API server reads it.
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a"}, "data": map[string]any{"when": "2024-01-01", "port": "80"}},
		{"kind": "X", "replicas": 3.0},
	}, objs)

	// "=" is a plain string (prometheus-operator's matchType enum), not YAML 1.1's value tag.
	objs, err = Decode([]byte("enum:\n- '!='\n- =\n- =~\nn: 0x10\nbig: 12345678901\n"))
	require.NoError(t, err)
	assert.Equal(t, []Object{{"enum": []any{"!=", "=", "=~"}, "n": 16.0, "big": 12345678901.0}}, objs)

	objs, err = Decode([]byte("a: &x {b: true, c: null, d: 1.5}\ne: *x\n"))
	require.NoError(t, err)
	assert.Equal(t, []Object{{"a": map[string]any{"b": true, "c": nil, "d": 1.5}, "e": map[string]any{"b": true, "c": nil, "d": 1.5}}}, objs)

	_, err = Decode([]byte("a: 1\n---\n- not an object\n"))
	assert.ErrorContains(t, err, "document 1")
	_, err = Decode([]byte("a: .inf\n"))
	assert.ErrorContains(t, err, "not a JSON number")
	_, err = Decode([]byte("a: &x {b: 1}\nc:\n  <<: *x\n"))
	assert.ErrorContains(t, err, "only plain scalar keys")
}
