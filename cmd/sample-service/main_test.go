package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, path, nil))
	return rr
}

// gauge parses the exposition and returns one gauge's value, failing if it is absent.
func gauge(t *testing.T, body, name string) float64 {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	mf, ok := families[name]
	require.True(t, ok, "metric %s not exposed", name)
	require.Len(t, mf.GetMetric(), 1)
	return mf.GetMetric()[0].GetGauge().GetValue()
}

func TestHealthz(t *testing.T) {
	rr := get(t, newHandler(newRegistry(t.TempDir())), "/healthz")
	assert.Equal(t, http.StatusOK, rr.Code)
	assert.Equal(t, "ok", rr.Body.String())
}

func TestMetricsExposeUpAndTheSecretKeyCount(t *testing.T) {
	dir := t.TempDir()
	// A mounted Secret as the kubelet lays it out: keys are symlinks into a hidden, timestamped data directory.
	data := filepath.Join(dir, "..2026_01_01_00_00_00.000000001")
	require.NoError(t, os.Mkdir(data, 0o700))
	for _, key := range []string{"api-key", "db-password"} {
		require.NoError(t, os.WriteFile(filepath.Join(data, key), []byte("s3cr3t"), 0o600))
		require.NoError(t, os.Symlink(filepath.Join("..data", key), filepath.Join(dir, key)))
	}
	require.NoError(t, os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")))

	h := newHandler(newRegistry(dir))
	rr := get(t, h, "/metrics")
	require.Equal(t, http.StatusOK, rr.Code)
	body := rr.Body.String()
	assert.Equal(t, 1.0, gauge(t, body, "sample_service_up"))
	assert.Equal(t, 2.0, gauge(t, body, "sample_service_secret_keys"))
	assert.Contains(t, body, "# HELP sample_service_up ")
	assert.Contains(t, body, "go_goroutines")
	assert.NotContains(t, body, "s3cr3t")

	// Counted at scrape time: a key added by a secret update shows on the next scrape.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("x"), 0o600))
	assert.Equal(t, 3.0, gauge(t, get(t, h, "/metrics").Body.String(), "sample_service_secret_keys"))
}

func TestMissingSecretDirIsZeroKeysNotACrash(t *testing.T) {
	h := newHandler(newRegistry(filepath.Join(t.TempDir(), "absent")))
	rr := get(t, h, "/metrics")
	require.Equal(t, http.StatusOK, rr.Code)
	assert.Equal(t, 0.0, gauge(t, rr.Body.String(), "sample_service_secret_keys"))
	assert.Equal(t, 1.0, gauge(t, rr.Body.String(), "sample_service_up"))
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := newHandler(newRegistry(t.TempDir()))
	assert.Equal(t, http.StatusNotFound, get(t, h, "/").Code)
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rr.Code)
}

func TestConfigPrecedence(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{"defaults", nil, nil, config{Listen: ":8080", SecretsDir: "/etc/sample-service/secrets"}},
		{"environment", nil, map[string]string{"LISTEN_ADDR": ":9090", "SECRETS_DIR": "/s"}, config{Listen: ":9090", SecretsDir: "/s"}},
		{"flags win", []string{"-listen", "127.0.0.1:1", "-secrets-dir", "/f"}, map[string]string{"LISTEN_ADDR": ":9090", "SECRETS_DIR": "/s"}, config{Listen: "127.0.0.1:1", SecretsDir: "/f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfig(tc.args, env(tc.env))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := parseConfig([]string{"-nope"}, env(nil))
	assert.Error(t, err)
	_, err = parseConfig([]string{"extra"}, env(nil))
	assert.Error(t, err)
}

func TestServeShutsDownGracefullyOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// A slow handler in flight when the signal arrives must still complete.
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, mux, quietLogger()) }()

	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{string(b), err}
	}()
	time.Sleep(100 * time.Millisecond) // let the request reach the handler
	cancel()
	time.Sleep(100 * time.Millisecond)
	close(release)

	res := <-resc
	require.NoError(t, res.err)
	assert.Equal(t, "done", res.body)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	assert.Error(t, err, "listener still open after shutdown")
}

func TestRunFailsOnABadListenAddress(t *testing.T) {
	err := run(context.Background(), []string{"-listen", "256.0.0.1:bad"}, func(string) string { return "" }, quietLogger())
	assert.ErrorContains(t, err, "listen on")
}

// TestBuildIsReproducible builds the service twice with scripts/build-sample-service, the second time with an
// empty build cache so every package is compiled again, and expects the same bytes.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the service twice from scratch")
	}
	script, err := filepath.Abs("../../scripts/build-sample-service")
	require.NoError(t, err)
	build := func(extraEnv ...string) string {
		out := filepath.Join(t.TempDir(), "sample-service")
		cmd := exec.Command("bash", script, out)
		cmd.Env = append(os.Environ(), extraEnv...)
		res, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", res)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	first := build()
	second := build("GOCACHE=" + t.TempDir())
	assert.Equal(t, first, second)
}
