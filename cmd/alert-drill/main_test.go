package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad arguments are refused before anything is posted (the drill through a real Alertmanager to Slack is in
// tests/alerts_test.go).
func TestBadArgumentsPostNothing(t *testing.T) {
	for _, tc := range []struct{ env, severity, want string }{
		{"prod", "critical", `-environment "prod": want one of development, staging, production, system`},
		{"production", "info", `-severity "info": want critical or warning`},
	} {
		err := run(&bytes.Buffer{}, "http://127.0.0.1:1", tc.env, tc.severity, time.Minute, time.Now())
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
	}
	err := run(&bytes.Buffer{}, "http://127.0.0.1:1", "production", "critical", time.Minute, time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is the port-forward running?")
}
