package main

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
)

// buildBinary builds the sample service as CI does (scripts/build-sample-service) into a folder of the test's.
func buildBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sample-service")
	b, err := exec.Command("bash", "../../scripts/build-sample-service", out).CombinedOutput()
	require.NoError(t, err, string(b))
	return out
}

// imageOf reads the binary at path and builds its image.
func imageOf(t *testing.T, path string) ([]byte, v1.Image, v1.Hash) {
	t.Helper()
	binary, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := Image(binary)
	require.NoError(t, err)
	digest, err := img.Digest()
	require.NoError(t, err)
	return binary, img, digest
}

// The image of this commit's sample service: reproducible, pinned by Pulumi.yaml, non-root, one layer holding
// the binary, and that binary answers /healthz when run from the image's own layer.
func TestTheSampleImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample service")
	}
	binary, img, digest := imageOf(t, buildBinary(t))
	again, err := Image(binary)
	require.NoError(t, err)
	againDigest, err := again.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest, againDigest, "the same binary gives the same image")

	values, err := config.ProjectValues("../..")
	require.NoError(t, err)
	assert.Equal(t, "ghcr.io/platform-eng/sample-service@"+digest.String(), values["sampleServiceImage"],
		"Pulumi.yaml pins sampleServiceImage to this commit's image (built with the Go of go.mod); set it to the expected value")

	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "65532:65532", cfg.Config.User, "never root: the Deployment runs as 65532")
	assert.Equal(t, []string{"/sample-service"}, cfg.Config.Entrypoint)
	assert.Contains(t, cfg.Config.ExposedPorts, "8080/tcp")
	assert.Equal(t, "linux", cfg.OS)
	assert.Equal(t, "amd64", cfg.Architecture)

	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1, "no base image: the binary and nothing else")
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, "sample-service", hdr.Name)
	assert.Equal(t, int64(0o755), hdr.Mode)
	assert.Equal(t, 0, hdr.Uid)
	inImage, err := io.ReadAll(tr)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(binary, inImage), "the layer holds the built binary")
	_, err = tr.Next()
	assert.Equal(t, io.EOF, err, "one file only")

	// The binary, taken from the image, serves.
	extracted := filepath.Join(t.TempDir(), "sample-service")
	require.NoError(t, os.WriteFile(extracted, inImage, 0o755))
	addr := freeAddr(t)
	svc := exec.Command(extracted)
	svc.Env = append(os.Environ(), "LISTEN_ADDR="+addr, "SECRETS_DIR="+t.TempDir())
	require.NoError(t, svc.Start())
	t.Cleanup(func() { _ = svc.Process.Kill(); _ = svc.Wait() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 100*time.Millisecond, "/healthz of the binary in the image")

	// The OCI layout holds the same image.
	dir := t.TempDir()
	require.NoError(t, WriteLayout(dir, img))
	index, err := layout.ImageIndexFromPath(dir)
	require.NoError(t, err)
	manifest, err := index.IndexManifest()
	require.NoError(t, err)
	require.Len(t, manifest.Manifests, 1)
	assert.Equal(t, digest, manifest.Manifests[0].Digest)
}

// -push sends the image to a registry by the pinned digest only; here a registry on loopback
// (go-containerregistry's own implementation) receives it and serves the same digest back.
func TestPushSendsThePinnedImageOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample service")
	}
	binaryPath := buildBinary(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()

	repository := strings.TrimPrefix(srv.URL, "http://") + "/platform-eng/sample-service"
	err := run(binaryPath, "", repository+"@sha256:"+strings.Repeat("0", 64), "0.1.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing pushed")
	tag, err := name.NewTag(repository + ":0.1.0")
	require.NoError(t, err)
	_, err = remote.Image(tag)
	require.Error(t, err, "nothing reached the registry")

	_, _, digest := imageOf(t, binaryPath)
	require.NoError(t, run(binaryPath, "", repository+"@"+digest.String(), "0.1.0"))
	pulled, err := remote.Image(tag)
	require.NoError(t, err)
	pulledDigest, err := pulled.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest, pulledDigest)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
