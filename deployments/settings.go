package main

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-pulumiservice/sdk/go/pulumiservice"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The platform program whose stacks this project configures: the Pulumi.yaml at the repository's root.
const (
	platformProject = "lke-platform"
	repoDir         = "."
	branch          = "refs/heads/main"
	vcsProvider     = "github"
)

// The policy pack is a compiled binary (docs/policy.md). Deployments passes no CLI flags, but the CLI reads every
// flag from PULUMI_OPTION_<FLAG> too: PULUMI_OPTION_POLICY_PACK is --policy-pack.
const (
	policyPackPath  = "bin/lke-platform-policy"
	policyPackBuild = "go build -o " + policyPackPath + " ./policy"
	policyPackEnv   = "PULUMI_OPTION_POLICY_PACK"
)

// driftCron runs drift detection hourly (spec: drift detection hourly).
const driftCron = "0 * * * *"

// reviewTemplate is the stack review stacks are copied from (its settings and its Pulumi.<stack>.yaml). It is not
// development itself: development's config adopts the live cluster 531921, and a review stack destroyed when
// its pull request closes would take that cluster with it. The template renders development's objects instead
// (clusterMode render: docs/delivery.md).
const reviewTemplate = "development-review"

// stackPolicy is how Pulumi Deployments and CI treat one stack of the platform.
type stackPolicy struct {
	order int
	// reviewStacks: pull requests get review stacks copied from reviewTemplate, in this stack's environment.
	reviewStacks bool
	// previewPullRequests: pull requests preview this stack (here and in pull-request.yml, with the preview
	// team's read-only token, identities.go). A pull request runs the program as its branch has it, with every
	// secret of the stacks it previews decrypted: never production's.
	previewPullRequests bool
}

// stackTable is the settings of each stack of the platform program.
//
// Updates of these stacks have one path, the deploy workflow (.github/workflows/deploy.yml): development, then
// staging, then production behind its protected environment, each audited (docs/audit.md). Deployments therefore
// never deploys a commit by itself (deployCommits off) and never remediates drift by itself (a drift run reports;
// a person restores or adopts the change, docs/runbooks/drift.md): either would be a second, unordered and
// unaudited path to the same stacks.
var stackTable = map[string]stackPolicy{
	"development": {order: 0, reviewStacks: true, previewPullRequests: true},
	"staging":     {order: 1, previewPullRequests: true},
	"production":  {order: 2}, // previewed only inside its protected environment, by the deploy job
	"system":      {order: 3, previewPullRequests: true},
}

// programPaths are the files the platform program is built from: a push or pull request touching none of them
// (docs, this project, workflows) triggers no deployment. Each stack adds its own stack file.
var programPaths = []string{
	"Pulumi.yaml", "go.mod", "go.sum", "main.go",
	"platform/**", "components/**", "config/**", "quota/**", "monitoring/**", "upstream/**", "internal/**", "policy/**",
}

func stackPaths(stack string) []string {
	return append(append([]string(nil), programPaths...), "Pulumi."+stack+".yaml")
}

// settingsArgs builds one stack's DeploymentSettings.
func settingsArgs(cfg *Config, stack string, p stackPolicy, template bool) *pulumiservice.DeploymentSettingsArgs {
	return &pulumiservice.DeploymentSettingsArgs{
		Organization: pulumi.String(cfg.Organization),
		Project:      pulumi.String(platformProject),
		Stack:        pulumi.String(stack),
		SourceContext: &pulumiservice.DeploymentSettingsSourceContextArgs{
			Git: &pulumiservice.DeploymentSettingsGitSourceArgs{
				Branch:  pulumi.String(branch),
				RepoDir: pulumi.String(repoDir),
			},
		},
		Vcs: &pulumiservice.DeploymentSettingsVcsArgs{
			Provider:   pulumi.String(vcsProvider),
			Repository: pulumi.String(cfg.Repository),
			Paths:      pulumi.ToStringArray(stackPaths(stack)),
			// The template's pull requests are previewed by the review stacks themselves.
			PreviewPullRequests: pulumi.Bool(!template && p.previewPullRequests),
			DeployCommits:       pulumi.Bool(false), // see stackTable
			PullRequestTemplate: pulumi.Bool(template),
		},
		// No credentials here. Each deployment gets a short-lived Pulumi Cloud token from the service; the
		// Linode token and kubeconfigs are the stack's own secret config, decrypted by the service. The SDK's
		// OIDC block federates into AWS, Azure and GCP only, none of which the platform uses.
		OperationContext: &pulumiservice.DeploymentSettingsOperationContextArgs{
			PreRunCommands:       pulumi.ToStringArray([]string{policyPackBuild}),
			EnvironmentVariables: pulumi.StringMap{policyPackEnv: pulumi.String(policyPackPath)},
			Options: &pulumiservice.OperationContextOptionsArgs{
				// Review stacks are removed with their pull request; the stacks of record never are.
				DeleteAfterDestroy: pulumi.Bool(template),
				// Only the newest commit matters when several queue up.
				SkipIntermediateDeployments: pulumi.Bool(true),
			},
		},
		CacheOptions: &pulumiservice.DeploymentSettingsCacheOptionsArgs{Enable: pulumi.Bool(true)},
	}
}

// register creates the settings and schedules of every configured stack.
func register(ctx *pulumi.Context, cfg *Config) error {
	if err := registerIdentities(ctx, cfg); err != nil {
		return err
	}
	for _, stack := range cfg.Stacks {
		p := stackTable[stack]
		settings, err := pulumiservice.NewDeploymentSettings(ctx, stack, settingsArgs(cfg, stack, p, false))
		if err != nil {
			return fmt.Errorf("deployment settings of %s: %w", stack, err)
		}
		// Drift runs are deployments: they need the stack's settings first.
		if _, err := pulumiservice.NewDriftSchedule(ctx, stack+"-drift", &pulumiservice.DriftScheduleArgs{
			Organization:  pulumi.String(cfg.Organization),
			Project:       pulumi.String(platformProject),
			Stack:         pulumi.String(stack),
			ScheduleCron:  pulumi.String(driftCron),
			AutoRemediate: pulumi.Bool(false), // see stackTable
		}, pulumi.DependsOn([]pulumi.Resource{settings})); err != nil {
			return fmt.Errorf("drift schedule of %s: %w", stack, err)
		}
		if p.reviewStacks {
			if err := registerReviewStacks(ctx, cfg, stack, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// registerReviewStacks creates the review template stack, its settings and, when configured, its TTL.
func registerReviewStacks(ctx *pulumi.Context, cfg *Config, stack string, p stackPolicy) error {
	template, err := pulumiservice.NewStack(ctx, reviewTemplate, &pulumiservice.StackArgs{
		OrganizationName: pulumi.String(cfg.Organization),
		ProjectName:      pulumi.String(platformProject),
		StackName:        pulumi.String(reviewTemplate),
	})
	if err != nil {
		return fmt.Errorf("review template stack for %s: %w", stack, err)
	}
	after := pulumi.DependsOn([]pulumi.Resource{template})
	if _, err := pulumiservice.NewDeploymentSettings(ctx, reviewTemplate, settingsArgs(cfg, reviewTemplate, p, true), after); err != nil {
		return fmt.Errorf("deployment settings of %s: %w", reviewTemplate, err)
	}
	if cfg.ReviewStackExpiry.IsZero() {
		return nil
	}
	// The TTL destroys what the template stack holds at that time and keeps the stack and its settings, so new
	// pull requests still get review stacks.
	if _, err := pulumiservice.NewTtlSchedule(ctx, reviewTemplate+"-ttl", &pulumiservice.TtlScheduleArgs{
		Organization:       pulumi.String(cfg.Organization),
		Project:            pulumi.String(platformProject),
		Stack:              pulumi.String(reviewTemplate),
		Timestamp:          pulumi.String(cfg.ReviewStackExpiry.Format(time.RFC3339)),
		DeleteAfterDestroy: pulumi.Bool(false),
	}, after); err != nil {
		return fmt.Errorf("TTL schedule of %s: %w", reviewTemplate, err)
	}
	return nil
}
