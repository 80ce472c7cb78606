package drift

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
)

// The events below are those of a real refresh preview (pulumi v3.274.1, kubernetes provider 4.25.0) of a stack
// made by tests/policyviolations on the local control plane, after `kubectl delete networkpolicy
// default-deny-all` and a `kubectl patch` of allow-dns-egress's DNS port; inputs and outputs left out.
const (
	stackURN    = "urn:pulumi:smoke::policyviolations::pulumi:pulumi:Stack::policyviolations-smoke"
	providerURN = "urn:pulumi:smoke::policyviolations::pulumi:providers:kubernetes::k8s"
	componentNS = "urn:pulumi:smoke::policyviolations::platform:namespace:Namespace::violations-apps"
	denyURN     = "urn:pulumi:smoke::policyviolations::platform:namespace:Namespace$kubernetes:networking.k8s.io/v1:NetworkPolicy::violations-apps-default-deny-all"
	dnsURN      = "urn:pulumi:smoke::policyviolations::platform:namespace:Namespace$kubernetes:networking.k8s.io/v1:NetworkPolicy::violations-apps-allow-dns-egress"
	quotaURN    = "urn:pulumi:smoke::policyviolations::platform:namespace:Namespace$kubernetes:core/v1:ResourceQuota::violations-apps-quota"
	webURN      = "urn:pulumi:smoke::policyviolations::kubernetes:apps/v1:Deployment::web"
	provider    = providerURN + "::f83b30af-841a-4c9c-9225-d6ef3b273967"
)

func state(typ, urn, id string) *apitype.StepEventStateMetadata {
	return &apitype.StepEventStateMetadata{Type: typ, URN: urn, Custom: id != "", ID: id, Parent: componentNS, Provider: provider}
}

func pre(typ, urn, id string) events.EngineEvent {
	s := state(typ, urn, id)
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{
		Metadata: apitype.StepEventMetadata{Op: apitype.OpRefresh, URN: urn, Type: typ, Old: s, New: s, Provider: provider},
		Planning: true,
	}}}
}

func outputs(op apitype.OpType, typ, urn, id string, detailedDiff map[string]apitype.PropertyDiff) events.EngineEvent {
	old, new := state(typ, urn, id), state(typ, urn, id)
	if op == apitype.OpDelete {
		new = nil
	}
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{ResOutputsEvent: &apitype.ResOutputsEvent{
		Metadata: apitype.StepEventMetadata{Op: op, URN: urn, Type: typ, Old: old, New: new, DetailedDiff: detailedDiff, Provider: provider},
		Planning: true,
	}}}
}

func diagnostic(severity, message string) events.EngineEvent {
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: severity, Message: message}}}
}

func refreshPreviewEvents() []events.EngineEvent {
	return []events.EngineEvent{
		{EngineEvent: apitype.EngineEvent{PreludeEvent: &apitype.PreludeEvent{Config: map[string]string{}}}},
		pre("pulumi:pulumi:Stack", stackURN, ""),
		outputs(apitype.OpSame, "pulumi:pulumi:Stack", stackURN, "", nil),
		pre("pulumi:providers:kubernetes", providerURN, "f83b30af-841a-4c9c-9225-d6ef3b273967"),
		outputs(apitype.OpSame, "pulumi:providers:kubernetes", providerURN, "f83b30af-841a-4c9c-9225-d6ef3b273967", nil),
		pre("platform:namespace:Namespace", componentNS, ""),
		outputs(apitype.OpSame, "platform:namespace:Namespace", componentNS, "", nil),
		pre(npType, denyURN, "violations-apps/default-deny-all"),
		pre(npType, dnsURN, "violations-apps/allow-dns-egress"),
		pre("kubernetes:core/v1:ResourceQuota", quotaURN, "violations-apps/environment-quota"),
		pre(deployType, webURN, "violations-apps/web"),
		outputs(apitype.OpDelete, npType, denyURN, "violations-apps/default-deny-all", nil),
		outputs(apitype.OpSame, "kubernetes:core/v1:ResourceQuota", quotaURN, "violations-apps/environment-quota", nil),
		outputs(apitype.OpUpdate, npType, dnsURN, "violations-apps/allow-dns-egress", map[string]apitype.PropertyDiff{
			"spec.egress[0].ports[0].port": {Kind: apitype.DiffUpdate},
		}),
		diagnostic("info", "Deployment initialization complete\n"),
		outputs(apitype.OpSame, deployType, webURN, "violations-apps/web", nil),
		{EngineEvent: apitype.EngineEvent{SummaryEvent: &apitype.SummaryEvent{ResourceChanges: map[apitype.OpType]int{
			apitype.OpSame: 9, apitype.OpUpdate: 1, apitype.OpDelete: 1,
		}}}},
	}
}

func TestCollectorFromRealRefreshPreview(t *testing.T) {
	var c Collector
	for _, e := range refreshPreviewEvents() {
		c.Add(e)
	}
	assert.Equal(t, &Report{Stack: "smoke", Environment: "development", Resources: []Resource{
		{Severity: Major, Type: npType, Name: "violations-apps-allow-dns-egress", URN: dnsURN, Change: Updated,
			Properties: []string{"spec.egress[0].ports[0].port"}},
		{Severity: Major, Type: npType, Name: "violations-apps-default-deny-all", URN: denyURN, Change: Deleted},
	}}, c.Report("smoke", "development"))
	assert.Empty(t, c.Errors(), "info diagnostics explain nothing")
}

func TestCollectorNoDrift(t *testing.T) {
	var c Collector
	for _, e := range refreshPreviewEvents() {
		if e.ResOutputsEvent != nil {
			e.ResOutputsEvent.Metadata.Op = apitype.OpSame
		}
		c.Add(e)
	}
	r := c.Report("smoke", "")
	assert.Empty(t, r.Resources)
	assert.Equal(t, ExitClean, r.ExitCode())
}

func TestCollectorMinorDriftAndTopLevelDiffs(t *testing.T) {
	var c Collector
	e := outputs(apitype.OpUpdate, deployType, webURN, "violations-apps/web", nil)
	e.ResOutputsEvent.Metadata.Diffs = []string{"spec", "metadata"}
	c.Add(e)
	assert.Equal(t, []Resource{{Severity: Minor, Type: deployType, Name: "web", URN: webURN, Change: Updated,
		Properties: []string{"metadata", "spec"}}}, c.Report("smoke", "").Resources)
}

// An unreachable cluster: the kubernetes provider warns with the reason for every resource, then each read
// fails; the explanation keeps each message once.
func TestCollectorKeepsWhatExplainsAFailure(t *testing.T) {
	var c Collector
	for range 3 {
		c.Add(diagnostic("warning", "configured Kubernetes cluster is unreachable: unable to load schema information from the API server: "+
			`Get "https://127.0.0.1:1/openapi/v2?timeout=32s": dial tcp 127.0.0.1:1: connect: connection refused`))
		c.Add(diagnostic("error", "Preview failed: failed to read resource state due to unreachable cluster."))
	}
	c.Add(diagnostic("warning", "resource is deprecated"))
	c.Add(events.EngineEvent{Error: errors.New("unexpected EOF")})
	assert.Equal(t, []string{
		`configured Kubernetes cluster is unreachable: unable to load schema information from the API server: Get "https://127.0.0.1:1/openapi/v2?timeout=32s": dial tcp 127.0.0.1:1: connect: connection refused`,
		"Preview failed: failed to read resource state due to unreachable cluster.",
		"reading the engine events: unexpected EOF",
	}, c.Errors())
}

func TestCheckError(t *testing.T) {
	err := checkError("development", []string{"Preview failed: failed to read resource state due to unreachable cluster."}, errors.New("exit status 255"))
	assert.Contains(t, err.Error(), `drift check of stack "development" failed, nothing was changed`)
	assert.Contains(t, err.Error(), "Kubernetes cluster is unreachable")
	assert.Contains(t, err.Error(), "kubeconfigPath")
	assert.Contains(t, err.Error(), "\n    Preview failed: failed to read resource state due to unreachable cluster.")

	err = checkError("staging", nil, errors.New("failed to preview refresh: exit status 255\ncode: 255\nstdout: \nstderr: error: decrypting secret\n"))
	assert.Contains(t, err.Error(), `stack "staging"`)
	assert.Contains(t, err.Error(), "PULUMI_CONFIG_PASSPHRASE")
	assert.Contains(t, err.Error(), "pulumi refresh --preview-only -s staging")
	assert.True(t, strings.HasSuffix(err.Error(), "\n    error: decrypting secret"), "the CLI's error when the engine said nothing: %v", err)

	assert.Equal(t, "plain failure", cliMessage(errors.New("plain failure")))
}
