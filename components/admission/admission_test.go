package admission

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/mocks"
	"github.com/platform-eng/lke-platform/internal/rules"
)

const (
	policyType  = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
	bindingType = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
)

func testArgs(env string) *Args {
	return &Args{
		Environment:      env,
		IngressNamespace: "ingress-nginx",
		SystemNamespaces: []string{"kube-system", "ingress-nginx", "monitoring"},
		SecretWriters:    []string{"system:serviceaccount:kube-system:sealed-secrets-controller"},
		Domain:           "platform.example.com",
		Labels:           map[string]string{"platform.lke/environment": env, "app.kubernetes.io/managed-by": "pulumi"},
		Platform: Identities{
			Usernames: []string{"system:serviceaccount:argocd:argocd-application-controller"},
			Groups:    []string{"system:masters"},
		},
	}
}

// allRules are the names of every policy the component registers.
var allRules = append(slices.Clone(rules.InCluster), rules.AdmissionOnly...)

func run(t *testing.T, envs ...string) *mocks.Recorder {
	t.Helper()
	rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
		for _, env := range envs {
			if _, err := New(ctx, env, testArgs(env)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	return rec
}

// object returns a registered object's metadata and spec.
func object(t *testing.T, rec *mocks.Recorder, token, name string) (metadata, spec map[string]any) {
	t.Helper()
	in := rec.One(t, token, name).Inputs.Mappable()
	return in["metadata"].(map[string]any), in["spec"].(map[string]any)
}

// variables returns a policy spec's variables by name, and their names in order.
func variables(spec map[string]any) (map[string]string, []string) {
	byName, order := map[string]string{}, []string(nil)
	for _, v := range spec["variables"].([]any) {
		v := v.(map[string]any)
		byName[v["name"].(string)] = v["expression"].(string)
		order = append(order, v["name"].(string))
	}
	return byName, order
}

func TestOnePolicyAndOneDenyBindingPerRule(t *testing.T) {
	rec := run(t, "staging")
	require.Len(t, rec.OfType(policyType), len(allRules))
	require.Len(t, rec.OfType(bindingType), len(allRules))
	for _, rule := range allRules {
		name := "platform-staging-" + rule
		assert.Equal(t, name, Name("staging", rule))

		meta, spec := object(t, rec, policyType, name)
		assert.Equal(t, map[string]any{
			"name":   name,
			"labels": map[string]any{"platform.lke/environment": "staging", "app.kubernetes.io/managed-by": "pulumi"},
		}, meta, rule)
		assert.Equal(t, "Fail", spec["failurePolicy"], rule)
		if slices.Contains(rules.InCluster, rule) {
			assert.Equal(t, []any{map[string]any{"name": "not-being-deleted", "expression": notBeingDeleted}}, spec["matchConditions"], rule)
		}
		assert.Nil(t, spec["paramKind"], rule)

		bmeta, bspec := object(t, rec, bindingType, name)
		assert.Equal(t, meta, bmeta, rule)
		assert.Equal(t, map[string]any{
			"policyName":        name,
			"validationActions": []any{"Deny"},
			"matchResources": map[string]any{"namespaceSelector": map[string]any{"matchExpressions": []any{
				map[string]any{"key": "platform.lke/environment", "operator": "In", "values": []any{"staging"}},
				map[string]any{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": []any{"kube-system", "ingress-nginx", "monitoring"}},
			}}},
		}, bspec, rule)
	}
}

func TestPoliciesMatchTheirResourcesOnCreateAndUpdate(t *testing.T) {
	rec := run(t, "staging")
	rule := func(group, version string, resources ...string) any {
		rs := make([]any, len(resources))
		for i, r := range resources {
			rs[i] = r
		}
		return map[string]any{"apiGroups": []any{group}, "apiVersions": []any{version}, "resources": rs, "operations": []any{"CREATE", "UPDATE"}}
	}
	workloads := []any{
		rule("", "v1", "pods", "replicationcontrollers"),
		rule("apps", "v1", "deployments", "statefulsets", "daemonsets", "replicasets"),
		rule("batch", "v1", "jobs", "cronjobs"),
	}
	// kubectl debug's containers arrive as an update of a pod's ephemeralcontainers subresource.
	withDebug := append([]any{rule("", "v1", "pods/ephemeralcontainers")}, workloads...)
	want := map[string][]any{
		rules.ContainerResources:    workloads,
		rules.ImagesPinned:          withDebug,
		rules.Privileged:            withDebug,
		rules.IngressFromEverywhere: {rule("networking.k8s.io", "v1", "networkpolicies")},
		rules.LoadBalancers:         {rule("", "v1", "services")},
		rules.NodePorts:             {rule("", "v1", "services")},
		rules.ExternalNames:         {rule("", "v1", "services")},
		rules.IngressHosts:          {rule("networking.k8s.io", "v1", "ingresses")},
		rules.LiteralSecrets:        {rule("", "v1", "secrets")},
	}
	require.Len(t, want, len(rules.InCluster))
	for r, resourceRules := range want {
		_, spec := object(t, rec, policyType, Name("staging", r))
		assert.Equal(t, map[string]any{"resourceRules": resourceRules}, spec["matchConstraints"], r)
	}
}

func TestValidationsCarryTheirCELAndAMessageNamingObjectAndFix(t *testing.T) {
	rec := run(t, "staging")
	wantVariables := map[string][]string{
		rules.ContainerResources:    {"subject", "podSpec", "containers", "missingResources"},
		rules.ImagesPinned:          {"subject", "podSpec", "containers", "unpinnedImages"},
		rules.Privileged:            {"subject", "podSpec", "containers", "systemNamespaces", "hostNamespaces", "privilegedContainers"},
		rules.IngressFromEverywhere: {"subject", "ingressNamespace", "rulesWithoutFrom", "rulesFromAnyAddress"},
		rules.LoadBalancers:         {"subject", "ingressNamespace"},
		rules.NodePorts:             {"subject", "ingressNamespace"},
		rules.ExternalNames:         {"subject", "ingressNamespace"},
		rules.IngressHosts:          {"subject", "hostSuffix", "foreignHosts"},
		rules.LiteralSecrets:        {"subject", "secretWriters", "literalKeys"},
	}
	wantExpressions := map[string][]string{
		rules.ContainerResources: {`size(variables.missingResources) == 0`},
		rules.ImagesPinned:       {`size(variables.unpinnedImages) == 0`},
		rules.Privileged: {`request.namespace in variables.systemNamespaces || ` +
			`(size(variables.hostNamespaces) == 0 && size(variables.privilegedContainers) == 0)`},
		rules.IngressFromEverywhere: {
			`request.namespace == variables.ingressNamespace || variables.rulesWithoutFrom == 0`,
			`request.namespace == variables.ingressNamespace || variables.rulesFromAnyAddress == 0`,
		},
		rules.LoadBalancers:  {`request.namespace == variables.ingressNamespace || !has(object.spec.type) || object.spec.type != 'LoadBalancer'`},
		rules.NodePorts:      {`request.namespace == variables.ingressNamespace || !has(object.spec.type) || object.spec.type != 'NodePort'`},
		rules.ExternalNames:  {`request.namespace == variables.ingressNamespace || !has(object.spec.type) || object.spec.type != 'ExternalName'`},
		rules.LiteralSecrets: {`request.userInfo.username in variables.secretWriters || size(variables.literalKeys) == 0`},
		rules.IngressHosts:   {`size(variables.foreignHosts) == 0`},
	}
	for _, r := range rules.InCluster {
		_, spec := object(t, rec, policyType, Name("staging", r))
		vars, order := variables(spec)
		assert.Equal(t, wantVariables[r], order, r)
		assert.Equal(t, subject, vars["subject"], r)

		validations := spec["validations"].([]any)
		require.Len(t, validations, len(wantExpressions[r]), r)
		for i, v := range validations {
			v := v.(map[string]any)
			assert.Equal(t, wantExpressions[r][i], v["expression"], r)
			message, messageExpression := v["message"].(string), v["messageExpression"].(string)
			// The API server refuses messages with line breaks; both end with the fix.
			assert.NotContains(t, message, "\n", r)
			assert.Contains(t, message, ". Fix: ", r)
			assert.True(t, strings.HasPrefix(messageExpression, "variables.subject + ': ' + "), "%s: %s", r, messageExpression)
			assert.Contains(t, messageExpression, ". Fix: ", r)
		}
	}

	// The workload rules share how they find pod specs and containers.
	for _, r := range []string{rules.ContainerResources, rules.ImagesPinned, rules.Privileged} {
		_, spec := object(t, rec, policyType, Name("staging", r))
		vars, _ := variables(spec)
		assert.Equal(t, podSpec, vars["podSpec"], r)
		assert.Equal(t, containers, vars["containers"], r)
	}
}

func TestNamespacesFromTheArgsEnterTheCELAsLiterals(t *testing.T) {
	rec := run(t, "staging")
	for _, r := range []string{rules.IngressFromEverywhere, rules.LoadBalancers, rules.NodePorts, rules.ExternalNames} {
		_, spec := object(t, rec, policyType, Name("staging", r))
		vars, _ := variables(spec)
		assert.Equal(t, `'ingress-nginx'`, vars["ingressNamespace"], r)
		for _, v := range spec["validations"].([]any) {
			fix := v.(map[string]any)["message"].(string)
			assert.Contains(t, fix, `"ingress-nginx"`, r)
		}
	}
	_, spec := object(t, rec, policyType, Name("staging", rules.Privileged))
	vars, _ := variables(spec)
	assert.Equal(t, `['kube-system', 'ingress-nginx', 'monitoring']`, vars["systemNamespaces"])
	_, spec = object(t, rec, policyType, Name("staging", rules.LiteralSecrets))
	vars, _ = variables(spec)
	assert.Equal(t, `['system:serviceaccount:kube-system:sealed-secrets-controller']`, vars["secretWriters"])
	_, spec = object(t, rec, policyType, Name("staging", rules.IngressHosts))
	vars, _ = variables(spec)
	assert.Equal(t, `'.staging.platform.example.com'`, vars["hostSuffix"])

	// A fix that contains an apostrophe is escaped inside the CEL string literal.
	_, spec = object(t, rec, policyType, Name("staging", rules.ContainerResources))
	me := spec["validations"].([]any)[0].(map[string]any)["messageExpression"].(string)
	assert.Contains(t, me, `namespace\'s LimitRange "container-limits"`)
}

func TestEnvironmentsSharingAControlPlaneDoNotCollide(t *testing.T) {
	rec := run(t, "development", "staging")
	seen := map[string]bool{}
	for _, token := range []string{policyType, bindingType} {
		for _, r := range rec.OfType(token) {
			meta := r.Inputs.Mappable()["metadata"].(map[string]any)
			name := meta["name"].(string)
			assert.False(t, seen[token+name], "%s %s registered twice", token, name)
			seen[token+name] = true
		}
	}
	assert.Len(t, seen, 4*len(allRules))
	for _, env := range []string{"development", "staging"} {
		_, spec := object(t, rec, bindingType, Name(env, rules.ImagesPinned))
		selector := spec["matchResources"].(map[string]any)["namespaceSelector"].(map[string]any)
		assert.Equal(t, []any{env}, selector["matchExpressions"].([]any)[0].(map[string]any)["values"], env)
	}
}

func TestChildrenAreParentedToTheComponent(t *testing.T) {
	rec := run(t, "staging")
	for _, r := range rec.Resources() {
		if r.Type == "platform:admission:Policies" {
			continue
		}
		assert.Contains(t, r.Parent, "platform:admission:Policies::staging", r.Name)
	}
}

func TestArgsAreValidatedBeforeAnythingIsRegistered(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Args)
		want   string
	}{
		"no environment":         {func(a *Args) { a.Environment = "" }, "Environment is empty"},
		"quote in ingress":       {func(a *Args) { a.IngressNamespace = "ingress' || true || '" }, `IngressNamespace "ingress' || true || '" is not a valid namespace name`},
		"no ingress namespace":   {func(a *Args) { a.IngressNamespace = "" }, `IngressNamespace "" is not a valid namespace name`},
		"no system namespaces":   {func(a *Args) { a.SystemNamespaces = nil }, "SystemNamespaces is empty"},
		"uppercase system entry": {func(a *Args) { a.SystemNamespaces = []string{"Kube-System"} }, `SystemNamespaces entry "Kube-System"`},
		"no secret writers":      {func(a *Args) { a.SecretWriters = nil }, "SecretWriters is empty"},
		"no domain":              {func(a *Args) { a.Domain = "" }, `Domain "" is not a DNS name`},
		"quote in domain":        {func(a *Args) { a.Domain = "x.com' || true || '" }, `Domain "x.com' || true || '" is not a DNS name`},
		"empty secret writer":    {func(a *Args) { a.SecretWriters = []string{""} }, `SecretWriters entry "" is not a username`},
		"no platform identity":   {func(a *Args) { a.Platform = Identities{} }, "Platform names no identity"},
		"platform group with a line break": {
			func(a *Args) { a.Platform.Groups = []string{"system:masters\n"} }, `Platform group "system:masters\n" is not a username`,
		},
		"exempt workload namespace": {
			func(a *Args) { a.IngressNamespace = "staging-apps" },
			`IngressNamespace "staging-apps" is one of the environment's own namespaces and cannot be exempt`,
		},
		"system workload namespace": {
			func(a *Args) { a.SystemNamespaces = append(a.SystemNamespaces, "staging-apps") },
			`SystemNamespaces entry "staging-apps" is one of the environment's own namespaces`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				args := testArgs("staging")
				tc.mutate(args)
				_, err := New(ctx, "staging", args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.Resources())
		})
	}
}

func TestCELStringLiterals(t *testing.T) {
	assert.Equal(t, `'it\'s a \\ "x"\n'`, celString("it's a \\ \"x\"\n"))
	assert.Equal(t, `['a', 'b']`, celList([]string{"a", "b"}))
}

// Only the platform deletes the platform's objects: one policy on DELETE of every kind but pods and events,
// matching objects labelled part-of the platform, admitting the platform's usernames and groups.
func TestPlatformObjectsAreDeletedByThePlatformOnly(t *testing.T) {
	rec := run(t, "staging")
	_, spec := object(t, rec, policyType, Name("staging", rules.PlatformObjectsKept))
	del := func(group, version string, resources ...any) any {
		return map[string]any{"apiGroups": []any{group}, "apiVersions": []any{version}, "resources": resources, "operations": []any{"DELETE"}}
	}
	assert.Equal(t, map[string]any{
		"resourceRules":        []any{del("*", "*", "*")},
		"excludeResourceRules": []any{del("", "*", "pods", "events"), del("events.k8s.io", "*", "events")},
	}, spec["matchConstraints"])
	assert.Equal(t, []any{map[string]any{"name": "platform-object", "expression": `oldObject != null && has(oldObject.metadata.labels) && ` +
		`'app.kubernetes.io/part-of' in oldObject.metadata.labels && oldObject.metadata.labels['app.kubernetes.io/part-of'] == 'lke-platform'`,
	}}, spec["matchConditions"])
	vars, order := variables(spec)
	assert.Equal(t, []string{"subject", "platformUsernames", "platformGroups"}, order)
	assert.Equal(t, `['system:serviceaccount:argocd:argocd-application-controller']`, vars["platformUsernames"])
	assert.Equal(t, `['system:masters']`, vars["platformGroups"])
	// A DELETE's object is null: the subject is named from oldObject.
	assert.Contains(t, vars["subject"], "oldObject.metadata.name")
	validations := spec["validations"].([]any)
	require.Len(t, validations, 1)
	v := validations[0].(map[string]any)
	assert.Equal(t, `request.userInfo.username in variables.platformUsernames || `+
		`(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in variables.platformGroups))`, v["expression"])
	assert.Contains(t, v["messageExpression"], `' + request.userInfo.username + ' is not one of its identities'`)
}
