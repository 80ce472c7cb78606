package pack

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

var floatingTags = stringsSetting{
	Key: "floatingTags", Default: []string{"latest"},
	Description: "Tags that move between builds and so do not pin an image (compared case-insensitively).",
}

// imagesPolicy: an unpinned image makes the same manifest run different code on each node pull, so what was
// tested in staging is not what runs in production, and a rollback does not roll back.
func imagesPolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.ImagesPinned, policyx.ResourceValidationPolicyArgs{
		Description:      "Every container image is pinned by a tag that does not float (not :latest, not missing) or by a digest.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(floatingTags),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			spec, ok := podSpec(args.Resource)
			if !ok {
				return nil
			}
			floating, err := floatingTags.from(args.Config)
			if err != nil {
				return fmt.Errorf("images-pinned: %w", err)
			}
			for _, c := range containers(spec) {
				image := c.get("image")
				if !known(image) {
					continue
				}
				if problem := ImageProblem(text(image), floating); problem != "" {
					violation(args.Manager, "", describe(args.Resource), c.label+" "+problem,
						"pin the image to a release tag (registry/app:1.4.2) or a digest (registry/app@sha256:…)")
				}
			}
			return nil
		},
	})
}
