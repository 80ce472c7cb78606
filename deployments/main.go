// Command lke-platform-deployments is a Pulumi program that configures Pulumi Deployments for the stacks of the
// lke-platform program: GitHub source, pull-request previews, push-to-deploy for development and staging, review
// stacks, hourly drift detection and a TTL for the review template. A project of its own, so the platform
// program does not need the pulumiservice plugin (docs/delivery.md).
package main

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

func main() { pulumi.Run(program) }

func program(ctx *pulumi.Context) error {
	cfg, err := parseConfig(func(key string) (string, bool) { return ctx.GetConfig(namespace + ":" + key) })
	if err != nil {
		return err
	}
	return register(ctx, cfg)
}
