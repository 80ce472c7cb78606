package pack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func withImage(name, image any) map[string]any {
	c := goodContainer("app")
	c["name"], c["image"] = name, image
	return c
}

func TestImagesPolicy(t *testing.T) {
	p := imagesPolicy()
	pod := func(cs ...any) map[string]any { return map[string]any{"containers": cs} }
	digest := "ghcr.io/org/app@sha256:" + strings.Repeat("1", 64)

	assert.Empty(t, checkResource(t, p, deployment("web", "staging-apps", pod(goodContainer("app"), withImage("side", digest))), nil))
	assert.Empty(t, checkResource(t, p, deployment("web", "staging-apps", pod(withImage("app", unknown))), nil), "unknown in a preview")

	got := checkResource(t, p, deployment("web", "staging-apps", pod(withImage("app", "nginx:latest"), withImage("side", "busybox"))), nil)
	require.Len(t, got, 2)
	assert.Contains(t, got[0], `kubernetes:apps/v1:Deployment "web" (namespace "staging-apps"): container "app" image "nginx:latest" uses the floating tag "latest". Fix: pin the image`)
	assert.Contains(t, got[1], `container "side" image "busybox" has no tag, so it is pulled as :latest`)

	got = checkResource(t, p, deployment("web", "staging-apps", pod(withImage("app", "app:stable"))), map[string]any{"floatingTags": []any{"latest", "stable"}})
	assert.Len(t, got, 1, "configured floating tags")
}
