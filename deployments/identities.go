package main

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-pulumiservice/sdk/go/pulumiservice"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CI identities: which GitHub Actions job may obtain which Pulumi Cloud token. A job exchanges GitHub's OIDC token
// for a short-lived token of one Pulumi Cloud team (pulumi/auth-actions, team token type), never an organization
// token: the issuer's policies admit each GitHub subject to exactly one team, and that team's stack permissions are
// everything the job can do. A pull request, whatever its branch changes, gets the preview team: read on the
// stacks pull requests preview, nothing on production. Only a job running in the GitHub environment of a stack
// (whose protection rules admit main only, production's also its reviewers) gets write on that stack.
// workflows_test.go holds .github/workflows to this table.

// githubIssuer is GitHub Actions' OIDC issuer.
const githubIssuer = "https://token.actions.githubusercontent.com"

// identity is one Pulumi Cloud team a CI job may obtain a token for, and who may obtain it.
type identity struct {
	team string
	// subject is the GitHub OIDC subject that gets the team's token, after "repo:<owner>/<name>:".
	subject    string
	permission pulumiservice.TeamStackPermissionScope
	stacks     []string
	purpose    string
}

const (
	previewTeam      = "lke-platform-preview"
	driftTeam        = "lke-platform-drift"
	deployTeamPrefix = "lke-platform-deploy-"
)

// identities are every CI identity of the stacks: the previews of pull requests, the hourly drift check from
// main, and one deployer per stack, bound to the stack's GitHub environment.
func identities() []identity {
	var previewed []string
	for _, s := range stackNames() {
		if stackTable[s].previewPullRequests {
			previewed = append(previewed, s)
		}
	}
	ids := []identity{
		{team: previewTeam, subject: "pull_request", permission: pulumiservice.TeamStackPermissionScopeRead,
			stacks: previewed, purpose: "pull-request.yml: pulumi preview of the stacks pull requests preview"},
		{team: driftTeam, subject: "ref:refs/heads/main", permission: pulumiservice.TeamStackPermissionScopeRead,
			stacks: stackNames(), purpose: "drift.yml's hourly refresh preview, pulumi-up.yml's plans and quarterly.yml's checks, from main only"},
	}
	for _, s := range stackNames() {
		ids = append(ids, identity{team: deployTeamPrefix + s, subject: "environment:" + s,
			permission: pulumiservice.TeamStackPermissionScopeEdit, stacks: []string{s},
			purpose: "pulumi-up.yml: pulumi up of " + s + ", in its GitHub environment"})
	}
	return ids
}

// registerIdentities creates the teams, their permissions on the configured stacks, and GitHub's OIDC issuer with
// one allow policy per team.
func registerIdentities(ctx *pulumi.Context, cfg *Config) error {
	var policies pulumiservice.AuthPolicyDefinitionArray
	for _, id := range identities() {
		team, err := pulumiservice.NewTeam(ctx, id.team, &pulumiservice.TeamArgs{
			OrganizationName: pulumi.String(cfg.Organization),
			TeamType:         pulumi.String("pulumi"),
			Name:             pulumi.String(id.team),
			Description:      pulumi.String("CI identity (deployments/identities.go): " + id.purpose),
			// No people: the team exists for the tokens its OIDC policy hands out.
			Members: pulumi.StringArray{},
		})
		if err != nil {
			return fmt.Errorf("team %s: %w", id.team, err)
		}
		for _, stack := range id.stacks {
			if !slices.Contains(cfg.Stacks, stack) {
				continue
			}
			if _, err := pulumiservice.NewTeamStackPermission(ctx, id.team+"-"+stack, &pulumiservice.TeamStackPermissionArgs{
				Organization: pulumi.String(cfg.Organization),
				Project:      pulumi.String(platformProject),
				Stack:        pulumi.String(stack),
				Team:         pulumi.String(id.team),
				Permission:   id.permission,
			}, pulumi.DependsOn([]pulumi.Resource{team})); err != nil {
				return fmt.Errorf("permission of team %s on %s: %w", id.team, stack, err)
			}
		}
		policies = append(policies, &pulumiservice.AuthPolicyDefinitionArgs{
			Decision:  pulumiservice.AuthPolicyDecisionAllow,
			TokenType: pulumiservice.AuthPolicyTokenTypeTeam,
			TeamName:  pulumi.String(id.team),
			Rules: pulumi.StringMap{
				"aud": pulumi.String("urn:pulumi:org:" + cfg.Organization),
				"sub": pulumi.String("repo:" + cfg.Repository + ":" + id.subject),
			},
		})
	}
	// Tokens live two hours at most: the deploy job's 90-minute limit (pulumi-up.yml), with a margin.
	if _, err := pulumiservice.NewOidcIssuer(ctx, "github-actions", &pulumiservice.OidcIssuerArgs{
		Organization:         pulumi.String(cfg.Organization),
		Name:                 pulumi.String("github-actions-" + platformProject),
		Url:                  pulumi.String(githubIssuer),
		MaxExpirationSeconds: pulumi.Int(7200),
		Policies:             policies,
	}); err != nil {
		return fmt.Errorf("OIDC issuer: %w", err)
	}
	return nil
}
