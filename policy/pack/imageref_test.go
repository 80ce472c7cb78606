package pack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		image string
		want  ImageRef
	}{
		{"nginx", ImageRef{Repository: "nginx"}},
		{"nginx:1.27", ImageRef{Repository: "nginx", Tag: "1.27"}},
		{"registry:5000/team/app", ImageRef{Repository: "registry:5000/team/app"}},
		{"registry:5000/team/app:v2", ImageRef{Repository: "registry:5000/team/app", Tag: "v2"}},
		{"ghcr.io/org/app@" + digest, ImageRef{Repository: "ghcr.io/org/app", Digest: digest}},
		{"ghcr.io/org/app:1.0@" + digest, ImageRef{Repository: "ghcr.io/org/app", Tag: "1.0", Digest: digest}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) { assert.Equal(t, tt.want, ParseImage(tt.image)) })
	}
}

func TestImageProblem(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0f", 32)
	floating := []string{"latest"}
	tests := []struct {
		image string
		want  string // substring of the problem; "" means pinned
	}{
		{"ghcr.io/platform-eng/sample-service:1.4.2", ""},
		{"registry:5000/app:2026.11.25-abc1234", ""},
		{"ghcr.io/org/app@" + digest, ""},
		{"ghcr.io/org/app:latest@" + digest, ""}, // the digest wins
		{"nginx", "has no tag, so it is pulled as :latest"},
		{"registry:5000/app", "has no tag"},
		{"nginx:latest", `floating tag "latest"`},
		{"nginx:LATEST", `floating tag "LATEST"`},
		{"ghcr.io/org/app@sha256:123", "malformed digest"},
		{"", "has no image"},
		{":1.0", "names no repository"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			got := ImageProblem(tt.image, floating)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.want)
			}
		})
	}
	assert.Contains(t, ImageProblem("app:stable", []string{"latest", "stable"}), "floating tag")
}
