package drift

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	npType     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	deployType = "kubernetes:apps/v1:Deployment"
)

func sampleReport() *Report {
	r := &Report{Stack: "development", Environment: "development", Resources: []Resource{
		{Severity: Minor, Type: deployType, Name: "sample-service", URN: "urn:a", Change: Updated, Properties: []string{"spec.replicas"}},
		{Severity: Major, Type: npType, Name: "development-apps-default-deny-all", URN: "urn:b", Change: Deleted},
		{Severity: Major, Type: npType, Name: "development-apps-allow-dns-egress", URN: "urn:c", Change: Updated,
			Properties: []string{"spec.egress[0].ports[0].port", "spec.policyTypes[0]"}},
	}}
	r.sort()
	return r
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, sampleReport().WriteText(&b))
	assert.Equal(t, `stack development (environment development): 3 drifted resource(s), 2 major, 1 minor
major  kubernetes:networking.k8s.io/v1:NetworkPolicy  development-apps-allow-dns-egress  updated: spec.egress[0].ports[0].port, spec.policyTypes[0]
major  kubernetes:networking.k8s.io/v1:NetworkPolicy  development-apps-default-deny-all  deleted
minor  kubernetes:apps/v1:Deployment                  sample-service                     updated: spec.replicas
`, b.String())

	b.Reset()
	require.NoError(t, (&Report{Stack: "staging"}).WriteText(&b))
	assert.Equal(t, "stack staging: no drift\n", b.String())
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, sampleReport().WriteJSON(&b))
	var got struct {
		Report
		Severity Severity `json:"severity"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, Major, got.Severity)
	assert.Equal(t, "development", got.Stack)
	assert.Equal(t, "development", got.Environment)
	assert.Equal(t, sampleReport().Resources, got.Resources)
	assert.Contains(t, b.String(), `"urn": "urn:b"`)

	// No drift: an empty list and severity "none", so a consumer needs no special case.
	b.Reset()
	require.NoError(t, (&Report{Stack: "staging"}).WriteJSON(&b))
	assert.JSONEq(t, `{"stack":"staging","resources":[],"severity":"none"}`, b.String())
}

func TestExitCode(t *testing.T) {
	minor := Resource{Severity: Minor, Type: deployType, Name: "a", Change: Updated}
	major := Resource{Severity: Major, Type: npType, Name: "b", Change: Deleted}
	for _, tc := range []struct {
		name      string
		resources []Resource
		severity  Severity
		code      int
	}{
		{"no drift", nil, "", ExitClean},
		{"minor only", []Resource{minor, minor}, Minor, ExitClean},
		{"major only", []Resource{major}, Major, ExitMajor},
		{"major among minor", []Resource{minor, major, minor}, Major, ExitMajor},
	} {
		r := &Report{Stack: "s", Resources: tc.resources}
		assert.Equal(t, tc.severity, r.Severity(), tc.name)
		assert.Equal(t, tc.code, r.ExitCode(), tc.name)
	}
	assert.Equal(t, []int{0, 1, 2}, []int{ExitClean, ExitFailed, ExitMajor}, "the exit codes the runbook and the drift workflow rely on")
}
