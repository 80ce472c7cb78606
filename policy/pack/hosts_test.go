package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ingress(hosts []any, tlsHosts ...any) map[string]any {
	var rules []any
	for _, h := range hosts {
		rule := map[string]any{"http": map[string]any{}}
		if h != nil {
			rule["host"] = h
		}
		rules = append(rules, rule)
	}
	spec := map[string]any{"rules": rules}
	if len(tlsHosts) > 0 {
		spec["tls"] = []any{map[string]any{"hosts": tlsHosts, "secretName": "tls"}}
	}
	return map[string]any{"metadata": meta("web", "staging-apps"), "spec": spec}
}

func TestIngressHostsPolicy(t *testing.T) {
	stack := stackFor("staging", true)
	stack.Domain = "lke.example.com"
	p := ingressHostsPolicy(stack)
	check := func(props map[string]any) []string { return checkResource(t, p, res(ingressType, "web", props), nil) }

	assert.Empty(t, check(ingress([]any{"web.staging.lke.example.com", "*.staging.lke.example.com"}, "web.staging.lke.example.com")))
	assert.Empty(t, checkResource(t, ingressHostsPolicy(stackFor("staging", true)), res(ingressType, "web", ingress([]any{"x.org"})), nil),
		"a stack without a domain (another project) is not judged")
	assert.Empty(t, check(map[string]any{"metadata": meta("web", "staging-apps"), "spec": unknown}), "judged on the update")

	got := check(ingress([]any{"shop.production.lke.example.com", nil, "web.staging.lke.example.com"}, "staging.lke.example.com.evil.org"))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `claims names outside the staging environment's subdomain staging.lke.example.com: `+
		`host "shop.production.lke.example.com"; rule 1 has no host (it would take every name); tls host "staging.lke.example.com.evil.org"`)
	assert.Contains(t, got[0], "Fix: name its hosts <name>.staging.lke.example.com")
	assert.Len(t, check(ingress([]any{"staging.lke.example.com"})), 1, "the subdomain itself is not a service's host")
}
