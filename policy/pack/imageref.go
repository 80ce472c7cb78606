package pack

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// digestPattern is an OCI content digest: algorithm, colon, hex (sha256 has 64 digits, sha512 128).
var digestPattern = regexp.MustCompile(`^[a-z0-9]+([+._-][a-z0-9]+)*:[a-f0-9]{32,}$`)

// ImageRef is a container image reference split into what matters for pinning.
type ImageRef struct {
	Repository string // registry and path, "ghcr.io/platform-eng/sample-service"
	Tag        string // "" when none is given
	Digest     string // "sha256:…", "" when none is given
}

// ParseImage splits an image reference. A colon only starts a tag in the last path segment, because an earlier
// one is a registry port ("registry:5000/app").
func ParseImage(image string) ImageRef {
	var ref ImageRef
	rest := image
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		ref.Digest, rest = rest[at+1:], rest[:at]
	}
	lastSlash := strings.LastIndex(rest, "/")
	if colon := strings.LastIndex(rest, ":"); colon > lastSlash {
		ref.Tag, rest = rest[colon+1:], rest[:colon]
	}
	ref.Repository = rest
	return ref
}

// ImageProblem explains why an image is not pinned, or returns "" if it is. A digest pins the exact content;
// a tag pins it as long as the tag is never moved, which floating tags such as "latest" are by design. An image
// without a tag is pulled as "latest".
func ImageProblem(image string, floatingTags []string) string {
	if strings.TrimSpace(image) == "" {
		return "has no image"
	}
	ref := ParseImage(image)
	switch {
	case ref.Repository == "":
		return fmt.Sprintf("image %q names no repository", image)
	case ref.Digest != "":
		if !digestPattern.MatchString(ref.Digest) {
			return fmt.Sprintf("image %q has a malformed digest %q", image, ref.Digest)
		}
		return ""
	case ref.Tag == "":
		return fmt.Sprintf("image %q has no tag, so it is pulled as :latest", image)
	case slices.Contains(floatingTags, strings.ToLower(ref.Tag)):
		return fmt.Sprintf("image %q uses the floating tag %q", image, ref.Tag)
	}
	return ""
}
