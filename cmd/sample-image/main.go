// Command sample-image builds the sample service's container image from the static binary
// scripts/build-sample-service writes, reproducibly and without a Docker daemon (go-containerregistry): one layer
// holding /sample-service, no base image (no OS packages to patch), user 65532 (the Deployment's runAsUser),
// port 8080. The same binary always gives the same image, so its digest is known before it is pushed:
// Pulumi.yaml pins sampleServiceImage to it, and the tests check the pin is the digest of this commit's build.
// It prints the digest; -layout writes the image as an OCI layout; -push publishes it to the pinned image's
// repository under a tag (credentials from the Docker config, e.g. after `docker login ghcr.io`), and only if
// its digest is the pinned one.
//
//	go run ./cmd/sample-image -binary bin/sample-service -layout build/sample-image
//	go run ./cmd/sample-image -binary bin/sample-service -push "$GITHUB_SHA"     (deploy.yml, sample-image.yml)
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/platform-eng/lke-platform/config"
)

// What the image runs, as the chart's Deployment expects it (runAsUser 65532, containerPort 8080).
const (
	Entrypoint = "/sample-service"
	User       = "65532:65532"
	Port       = "8080/tcp"
)

func main() {
	binary := flag.String("binary", "bin/sample-service", "the static binary of scripts/build-sample-service")
	layoutDir := flag.String("layout", "", "write the image as an OCI layout into this folder")
	push := flag.String("push", "", "push the image to the pinned image's repository under this tag")
	project := flag.String("project", ".", "the folder of Pulumi.yaml, whose sampleServiceImage pins the image")
	flag.Parse()
	var pinned string
	if *push != "" {
		values, err := config.ProjectValues(*project)
		if err != nil {
			fail(err)
		}
		pinned = values["sampleServiceImage"]
	}
	if err := run(*binary, *layoutDir, pinned, *push); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sample-image:", err)
	os.Exit(1)
}

// run builds the image of binaryPath, writes it to layoutDir if set and, with a tag, pushes it to the repository of
// pinned (repository@sha256:…) under that tag if its digest is pinned's. It prints the digest.
func run(binaryPath, layoutDir, pinned, tag string) error {
	binary, err := os.ReadFile(binaryPath) // #nosec G304 -- the binary the operator names
	if err != nil {
		return fmt.Errorf("%w (build it first: scripts/build-sample-service %s)", err, binaryPath)
	}
	img, err := Image(binary)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if layoutDir != "" {
		if err := WriteLayout(layoutDir, img); err != nil {
			return err
		}
	}
	if tag != "" {
		repository, want, ok := strings.Cut(pinned, "@")
		if !ok || want != digest.String() {
			return fmt.Errorf("the image built here is %s; sampleServiceImage is %q: nothing pushed "+
				"(pin %s@%s in Pulumi.yaml, or build with the Go of go.mod)", digest, pinned, repository, digest)
		}
		ref, err := name.NewTag(repository + ":" + tag)
		if err != nil {
			return fmt.Errorf("push to %s:%s: %w", repository, tag, err)
		}
		if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
	}
	fmt.Println(digest)
	return nil
}

// Image is the sample service's image around binary: an OCI image of one layer, with every timestamp at the
// epoch and every owner root, so equal binaries give equal digests.
func Image(binary []byte) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Name: Entrypoint[1:], Mode: 0o755, Size: int64(len(binary)), Typeflag: tar.TypeReg,
		ModTime: time.Unix(0, 0), Format: tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerTar := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config = v1.Config{
		Entrypoint:   []string{Entrypoint},
		User:         User,
		ExposedPorts: map[string]struct{}{Port: {}},
		Labels:       map[string]string{"org.opencontainers.image.source": "https://github.com/platform-eng/lke-platform"},
	}
	return mutate.ConfigFile(img, cfg)
}

// WriteLayout writes img as an OCI image layout into dir (made if need be).
func WriteLayout(dir string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img)
}
