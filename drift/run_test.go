package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver is a local incident webhook answering status; it counts what it received.
func receiver(t *testing.T, status int) (url string, received func() []Incident) {
	var got []Incident
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var inc Incident
		if err := json.NewDecoder(r.Body).Decode(&inc); err == nil {
			got = append(got, inc)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks/secret-token-9Kz", func() []Incident { return got }
}

func checkReturning(r *Report, err error) func(context.Context, string, string) (*Report, error) {
	return func(_ context.Context, stack, _ string) (*Report, error) {
		if r != nil {
			r.Stack = stack
		}
		return r, err
	}
}

func TestRun(t *testing.T) {
	minorOnly := func() *Report {
		return &Report{Environment: "development", Resources: []Resource{
			{Severity: Minor, Type: deployType, Name: "sample-service", URN: "urn:a", Change: Updated},
		}}
	}
	for _, tc := range []struct {
		name            string
		report          *Report
		checkErr        error
		webhookStatus   int // 0: no webhook configured
		code, incidents int
		stdout, stderr  string
	}{
		{name: "no drift", report: &Report{}, webhookStatus: 200, code: ExitClean, stdout: "stack development: no drift\n"},
		{name: "minor drift", report: minorOnly(), webhookStatus: 200, code: ExitClean, stdout: "1 minor"},
		{name: "major drift, no webhook", report: sampleReport(), code: ExitMajor, stdout: "2 major"},
		{name: "major drift, incident opened", report: sampleReport(), webhookStatus: 202, code: ExitMajor, incidents: 1,
			stdout: "development-apps-default-deny-all", stderr: "incident opened through PLATFORM_INCIDENT_WEBHOOK"},
		{name: "major drift, webhook fails", report: sampleReport(), webhookStatus: 503, code: ExitMajor, incidents: 1,
			stdout: "development-apps-default-deny-all", stderr: "the incident was not opened: the incident webhook (PLATFORM_INCIDENT_WEBHOOK) answered 503"},
		{name: "check fails", checkErr: errors.New(`drift check of stack "development" failed, nothing was changed: ...`),
			webhookStatus: 200, code: ExitFailed, stderr: `drift: drift check of stack "development" failed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Stack: "development", Dir: ".", Check: checkReturning(tc.report, tc.checkErr),
				Now: func() time.Time { return detected }}
			received := func() []Incident { return nil }
			if tc.webhookStatus != 0 {
				o.Webhook, received = receiver(t, tc.webhookStatus)
			}
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tc.code, Run(context.Background(), o, &stdout, &stderr))
			assert.Contains(t, stdout.String(), tc.stdout)
			assert.Contains(t, stderr.String(), tc.stderr)
			if tc.stderr == "" {
				assert.Empty(t, stderr.String())
			}
			assert.Len(t, received(), tc.incidents)
			assert.NotContains(t, stdout.String()+stderr.String(), "secret-token-9Kz", "the webhook URL is a secret")
		})
	}
}

func TestRunJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	o := Options{Stack: "development", JSON: true, Check: checkReturning(sampleReport(), nil)}
	require.Equal(t, ExitMajor, Run(context.Background(), o, &stdout, &stderr))
	var r Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &r), stdout.String())
	assert.Len(t, r.Resources, 3)
}

func TestMainCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no stack", nil, ExitFailed, "-stack is required"},
		// flag's own exit code for a bad flag is 2, which would read as major drift.
		{"unknown flag", []string{"-stak", "development"}, ExitFailed, "flag provided but not defined: -stak"},
		{"positional stack", []string{"development"}, ExitFailed, "the stack goes in -stack"},
		{"help", []string{"-h"}, ExitClean, "exit code 0: no drift or minor only; 2: major drift; 1: the check failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, func(string) string { return "" }, &stdout, &stderr)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, stderr.String(), tc.stderr)
		})
	}
}
