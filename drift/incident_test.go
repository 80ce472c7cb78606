package drift

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var detected = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

func TestNewIncident(t *testing.T) {
	inc := NewIncident(sampleReport(), detected)
	assert.Equal(t, "Major infrastructure drift in development (stack development): 2 resource(s) changed outside Pulumi", inc.Title)
	assert.Equal(t, Major, inc.Severity)
	assert.Equal(t, "development", inc.Stack)
	assert.Equal(t, "development", inc.Environment)
	assert.Equal(t, detected, inc.DetectedAt)
	assert.Equal(t, sampleReport().Resources, inc.Resources, "every drifted resource, minor ones too, for context")

	inc = NewIncident(&Report{Stack: "local-dev", Resources: sampleReport().Resources}, detected)
	assert.Equal(t, "Major infrastructure drift in local-dev: 2 resource(s) changed outside Pulumi", inc.Title)
}

func TestPostIncident(t *testing.T) {
	var got struct {
		method, contentType string
		body                map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.contentType = r.Method, r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got.body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	require.NoError(t, PostIncident(context.Background(), srv.Client(), srv.URL+"/hooks/T000/secret-token", NewIncident(sampleReport(), detected)))
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, "application/json", got.contentType)
	assert.Equal(t, "major", got.body["severity"])
	assert.Equal(t, "development", got.body["stack"])
	assert.Equal(t, "development", got.body["environment"])
	assert.Equal(t, "2026-11-26T04:00:00Z", got.body["detectedAt"])
	assert.Contains(t, got.body["title"], "Major infrastructure drift")
	resources := got.body["resources"].([]any)
	require.Len(t, resources, 3)
	assert.Equal(t, map[string]any{
		"severity": "major", "type": npType, "name": "development-apps-allow-dns-egress", "urn": "urn:c",
		"change": "updated", "properties": []any{"spec.egress[0].ports[0].port", "spec.policyTypes[0]"},
	}, resources[0])
}

// Every failure says what failed, and never the URL: it carries the webhook's credentials.
func TestPostIncidentFailures(t *testing.T) {
	const secret = "secret-token-7Qx"
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return "http://" + addr
	}()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer failing.Close()
	// The hanging receiver holds each request until the test ends (the server notices a client that gave up
	// only once the body is read, so it cannot rely on the request's context alone).
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hanging.Close()
	defer close(release)

	for _, tc := range []struct {
		name, url, want string
		client          *http.Client
	}{
		{"server error", failing.URL + "/" + secret, "answered 500 Internal Server Error", http.DefaultClient},
		{"connection refused", refused + "/" + secret, "connection refused", http.DefaultClient},
		{"timeout", hanging.URL + "/" + secret, "Client.Timeout exceeded", &http.Client{Timeout: 200 * time.Millisecond}},
		{"not a URL", "://" + secret, "is not a valid URL", http.DefaultClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := PostIncident(context.Background(), tc.client, tc.url, NewIncident(sampleReport(), detected))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), WebhookEnv, "names where the URL comes from")
			assert.NotContains(t, err.Error(), secret)
		})
	}
}
