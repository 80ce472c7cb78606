// Command lke-platform-deployments is a Pulumi program that configures Pulumi Cloud for the stacks of the
// lke-platform program: Pulumi Deployments (GitHub source, pull-request previews, review stacks, hourly drift
// detection, a TTL for the review template) and the CI identities (the teams GitHub Actions jobs get tokens of,
// and GitHub's OIDC issuer with a policy per team, identities.go). A project of its own, so the platform
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
