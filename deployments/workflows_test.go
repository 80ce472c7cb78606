package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-pulumiservice/sdk/go/pulumiservice"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/config"
)

// The GitHub Actions workflows, held to the CI identities of identities.go: which job may obtain which Pulumi
// Cloud token. A pull request's job never gets a token that can touch production, nor names production.

const (
	authAction    = "pulumi/auth-actions@"
	teamTokenType = "urn:pulumi:token-type:access_token:team"
	// deployScope is the scope of the reusable deploy job: the deploy team of the stack it was called for, which
	// is also the GitHub environment the job runs in.
	deployScope = "team:" + deployTeamPrefix + "${{ inputs.stack }}"
	stackInput  = "${{ inputs.stack }}"
)

type workflowFile struct {
	On          yaml.Node         `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Environment yaml.Node `yaml:"environment"`
		Uses        string    `yaml:"uses"`
		Strategy    struct {
			Matrix map[string]any `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// triggers are a workflow's events, whichever of YAML's three forms `on` takes.
func (w *workflowFile) triggers() []string {
	switch w.On.Kind {
	case yaml.ScalarNode:
		return []string{w.On.Value}
	case yaml.SequenceNode:
		var t []string
		for _, n := range w.On.Content {
			t = append(t, n.Value)
		}
		return t
	case yaml.MappingNode:
		var t []string
		for i := 0; i < len(w.On.Content); i += 2 {
			t = append(t, w.On.Content[i].Value)
		}
		return t
	}
	return nil
}

// environmentName is a job's GitHub environment, in either form (a name, or a map with one).
func environmentName(n yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				return n.Content[i+1].Value
			}
		}
	}
	return n.Value
}

// pinnedAction is an action named by a full commit SHA, the one reference its owner cannot move.
var pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)

// stepUses are the actions a job's steps use.
func stepUses(steps []struct {
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
}) []string {
	var uses []string
	for _, s := range steps {
		uses = append(uses, s.Uses)
	}
	return uses
}

// checkWorkflows returns every way the workflows (file name → content) break the CI identities.
func checkWorkflows(files map[string][]byte) []string {
	var problems []string
	fail := func(file, job, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s, job %s: %s", file, job, fmt.Sprintf(format, args...)))
	}
	ids := map[string]identity{}
	for _, id := range identities() {
		ids[id.team] = id
	}
	for _, file := range slices.Sorted(maps.Keys(files)) {
		var w workflowFile
		if err := yaml.Unmarshal(files[file], &w); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		triggers := w.triggers()
		if slices.Contains(triggers, "pull_request_target") {
			fail(file, "*", "pull_request_target runs a pull request's code with the base repository's secrets and tokens")
		}
		fromPullRequest := slices.Contains(triggers, "pull_request")
		if w.Permissions["id-token"] == "write" {
			fail(file, "*", "id-token: write for every job: grant it to the jobs that exchange it, one by one")
		}
		for name, job := range w.Jobs {
			for _, uses := range append([]string{job.Uses}, stepUses(job.Steps)...) {
				if uses != "" && !strings.HasPrefix(uses, "./") && !pinnedAction.MatchString(uses) {
					fail(file, name, "uses %s, which is not pinned by commit: a tag can be moved to other code (use OWNER/REPO@<40-hex sha> # vX.Y.Z)", uses)
				}
			}
			env := environmentName(job.Environment)
			if fromPullRequest {
				if env != "" {
					fail(file, name, "a pull request's job runs in environment %q: its OIDC subject would be that environment's", env)
				}
				if job.Uses != "" {
					fail(file, name, "a pull request's job calls %s, whose jobs would run with the pull request's code", job.Uses)
				}
				raw, _ := yaml.Marshal(job)
				if strings.Contains(string(raw), "production") {
					fail(file, name, "a pull request's job names production")
				}
			}
			for _, step := range job.Steps {
				if !strings.HasPrefix(step.Uses, authAction) {
					continue
				}
				if got := step.With["requested-token-type"]; got != teamTokenType {
					fail(file, name, "requests a %q token: only team tokens (%s), whose team's permissions bound the job", got, teamTokenType)
					continue
				}
				scope := step.With["scope"]
				if scope == deployScope {
					if env != stackInput {
						fail(file, name, "takes the deploy team of the stack it was called for outside that stack's environment (environment %q)", env)
					}
					if fromPullRequest {
						fail(file, name, "a pull request's job asks for a deploy team")
					}
					continue
				}
				id, ok := ids[strings.TrimPrefix(scope, "team:")]
				switch {
				case !strings.HasPrefix(scope, "team:") || !ok:
					fail(file, name, "scope %q is no CI identity's team (deployments/identities.go)", scope)
				case id.subject == "pull_request" && !(fromPullRequest && len(triggers) == 1):
					fail(file, name, "the preview team is for pull requests only (on: %v)", triggers)
				case id.subject != "pull_request" && fromPullRequest:
					fail(file, name, "a pull request's job asks for team %s (subject %s)", id.team, id.subject)
				case strings.HasPrefix(id.subject, "environment:") && env != strings.TrimPrefix(id.subject, "environment:"):
					fail(file, name, "team %s outside its environment (environment %q)", id.team, env)
				}
				if id.subject == "pull_request" && ok {
					stacks, _ := job.Strategy.Matrix["stack"].([]any)
					var names []string
					for _, s := range stacks {
						names = append(names, fmt.Sprint(s))
					}
					if !slices.Equal(names, id.stacks) {
						fail(file, name, "previews %v, but the preview team reads %v", names, id.stacks)
					}
				}
			}
		}
	}
	return problems
}

func readWorkflows(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		files[filepath.Base(p)] = b
	}
	return files
}

func TestWorkflowsUseTheirCIIdentitiesOnly(t *testing.T) {
	files := readWorkflows(t)
	assert.Empty(t, checkWorkflows(files))

	// Every job that talks to Pulumi Cloud is accounted for: the previews, the drift check, the deploy job.
	var scopes []string
	for _, b := range files {
		var w workflowFile
		require.NoError(t, yaml.Unmarshal(b, &w))
		for _, job := range w.Jobs {
			for _, step := range job.Steps {
				if strings.HasPrefix(step.Uses, authAction) {
					scopes = append(scopes, step.With["scope"])
				}
			}
		}
	}
	slices.Sort(scopes)
	// The drift team four times: drift.yml's check, pulumi-up.yml's plan, quarterly.yml's rotation check and
	// rollback drill, all of them reads.
	drift := "team:" + driftTeam
	assert.Equal(t, []string{deployScope, drift, drift, drift, drift, "team:" + previewTeam}, scopes)
}

// Every update applies the plan its run saved before the environment's reviewers approved: pulumi-up.yml's up
// job needs the plan job, downloads its plan and runs `pulumi up --plan` with it; the plan job runs in no
// environment; no workflow runs `pulumi up` any other way.
func TestUpdatesApplyTheReviewedPlan(t *testing.T) {
	type step struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
		Env  map[string]string `yaml:"env"`
	}
	type job struct {
		Needs       yaml.Node `yaml:"needs"`
		Environment yaml.Node `yaml:"environment"`
		Steps       []step    `yaml:"steps"`
	}
	var workflows = map[string]struct {
		Jobs map[string]job `yaml:"jobs"`
	}{}
	for name, b := range readWorkflows(t) {
		var w struct {
			Jobs map[string]job `yaml:"jobs"`
		}
		require.NoError(t, yaml.Unmarshal(b, &w), name)
		workflows[name] = w
	}
	up := regexp.MustCompile(`(?m)^\s*pulumi\s+up\b`) // a command line, not a mention
	for file, w := range workflows {
		for name, j := range w.Jobs {
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "pulumi/actions@") {
					assert.NotContains(t, []string{"up", "update"}, s.With["command"], "%s, job %s: an update through the action, without the plan", file, name)
				}
				if up.MatchString(s.Run) {
					assert.Equal(t, "pulumi-up.yml/up", file+"/"+name, "only pulumi-up.yml's up job updates")
					assert.Contains(t, s.Run, "--plan plan.json", "%s, job %s", file, name)
					assert.Equal(t, "true", s.Env["PULUMI_EXPERIMENTAL"], "--plan needs PULUMI_EXPERIMENTAL")
				}
			}
		}
	}

	jobs := workflows["pulumi-up.yml"].Jobs
	require.Contains(t, jobs, "plan")
	require.Contains(t, jobs, "up")
	assert.Equal(t, "plan", jobs["up"].Needs.Value, "the update waits for its plan")
	assert.Empty(t, environmentName(jobs["plan"].Environment), "the plan is made before anyone approves")
	assert.Equal(t, stackInput, environmentName(jobs["up"].Environment))
	artifact := "plan-" + stackInput
	var saved, uploaded, downloaded bool
	for _, s := range jobs["plan"].Steps {
		saved = saved || strings.Contains(s.Run, "--save-plan plan.json")
		uploaded = uploaded || (strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.With["name"] == artifact && s.With["path"] == "plan.json")
	}
	for _, s := range jobs["up"].Steps {
		downloaded = downloaded || (strings.HasPrefix(s.Uses, "actions/download-artifact@") && s.With["name"] == artifact)
	}
	assert.True(t, saved, "the plan job saves plan.json")
	assert.True(t, uploaded, "the plan job uploads plan.json as %s", artifact)
	assert.True(t, downloaded, "the up job downloads %s", artifact)
}

// CI applies only the stacks that are not deferred (cmd/stacks): deploy.yml's job for each environment runs
// pulumi-up.yml for it only if stacks.yml lists it, and a skipped (deferred) stack's job holds back no other;
// drift.yml checks the same list. Staging still comes before production when it is applied.
func TestCIAppliesOnlyTheStacksNotDeferred(t *testing.T) {
	type step struct {
		Run string `yaml:"run"`
	}
	type job struct {
		Needs    yaml.Node         `yaml:"needs"`
		If       string            `yaml:"if"`
		Uses     string            `yaml:"uses"`
		With     map[string]string `yaml:"with"`
		Steps    []step            `yaml:"steps"`
		Strategy struct {
			Matrix map[string]any `yaml:"matrix"`
		} `yaml:"strategy"`
	}
	files := readWorkflows(t)
	workflow := func(name string) map[string]job {
		var w struct {
			Jobs map[string]job `yaml:"jobs"`
		}
		require.NoError(t, yaml.Unmarshal(files[name], &w), name)
		return w.Jobs
	}
	needs := func(j job) []string {
		if j.Needs.Kind == yaml.ScalarNode {
			return []string{j.Needs.Value}
		}
		var n []string
		require.NoError(t, j.Needs.Decode(&n))
		return n
	}
	// runs reports whether a step of the job runs command.
	runs := func(j job, command string) bool {
		return slices.ContainsFunc(j.Steps, func(s step) bool { return strings.Contains(s.Run, command) })
	}
	assert.True(t, runs(workflow("stacks.yml")["stacks"], "go run ./cmd/stacks"), "stacks.yml runs cmd/stacks")

	deploy := workflow("deploy.yml")
	assert.Equal(t, "./.github/workflows/stacks.yml", deploy["stacks"].Uses)
	for _, stack := range config.Environments {
		j, ok := deploy[stack]
		require.True(t, ok, "deploy.yml has a job for %s", stack)
		assert.Equal(t, "./.github/workflows/pulumi-up.yml", j.Uses)
		assert.Equal(t, stack, j.With["stack"])
		assert.Contains(t, needs(j), "stacks")
		assert.Equal(t, "${{ !failure() && !cancelled() && contains(fromJSON(needs.stacks.outputs.applied), '"+stack+"') }}", j.If,
			"%s runs when applied, and a skipped stack before it does not hold it back", stack)
	}
	assert.Equal(t, []string{"stacks", "development", "staging"}, needs(deploy[config.Production]))
	assert.NotContains(t, needs(deploy[config.Production]), config.System)

	// The image the stacks pin is published before any of them is updated.
	assert.Equal(t, "./.github/workflows/sample-image.yml", deploy["image"].Uses)
	assert.Contains(t, needs(deploy[config.Development]), "image")
	assert.True(t, runs(workflow("sample-image.yml")["publish"], "go run ./cmd/sample-image -binary bin/sample-service -push"),
		"sample-image.yml pushes through cmd/sample-image, which refuses an image that is not the pinned one")

	drift := workflow("drift.yml")
	assert.Equal(t, "./.github/workflows/stacks.yml", drift["stacks"].Uses)
	assert.Equal(t, []string{"stacks"}, needs(drift["drift"]))
	assert.Equal(t, "${{ fromJSON(needs.stacks.outputs.applied) }}", drift["drift"].Strategy.Matrix["stack"])
}

// The check fails on what it is there to refuse, each made from the committed pull-request workflow.
func TestWorkflowCheckRefusesAPullRequestReachingProduction(t *testing.T) {
	files := readWorkflows(t)
	pr := string(files["pull-request.yml"])
	require.Contains(t, pr, "stack: [development, staging, system]")
	require.Contains(t, pr, "scope: team:"+previewTeam)
	for _, tc := range []struct{ name, old, new, want string }{
		{"production previewed", "stack: [development, staging, system]", "stack: [development, staging, production, system]", "names production"},
		{"an organization token", teamTokenType, "urn:pulumi:token-type:access_token:organization", "only team tokens"},
		{"production's deploy team", "scope: team:" + previewTeam, "scope: team:" + deployTeamPrefix + "production", "asks for team " + deployTeamPrefix + "production"},
		{"production's environment", "    timeout-minutes: 45\n", "    timeout-minutes: 45\n    environment: production\n", `runs in environment "production"`},
		{"the deploy workflow called", "  preview:\n", "  deploy:\n    uses: ./.github/workflows/pulumi-up.yml\n    with:\n      stack: staging\n  preview:\n", "calls ./.github/workflows/pulumi-up.yml"},
		{"pull_request_target", "  pull_request:\n", "  pull_request_target:\n", "pull_request_target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, pr, tc.old)
			bad := map[string][]byte{"pull-request.yml": []byte(strings.Replace(pr, tc.old, tc.new, 1))}
			problems := checkWorkflows(bad)
			assert.NotEmpty(t, problems)
			assert.Contains(t, strings.Join(problems, "\n"), tc.want)
		})
	}
}

func TestWorkflowCheckRefusesActionsPinnedByTag(t *testing.T) {
	files := readWorkflows(t)
	assert.Empty(t, checkWorkflows(files))
	pr := string(files["pull-request.yml"])
	require.Contains(t, pr, "uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0")
	bad := strings.Replace(pr, "actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09", "actions/checkout@v5", 1)
	problems := strings.Join(checkWorkflows(map[string][]byte{"pull-request.yml": []byte(bad)}), "\n")
	assert.Contains(t, problems, "uses actions/checkout@v5, which is not pinned by commit")
}

// Under mocks: one team per identity, read or write on its stacks only, and one allow policy per team for exactly
// its GitHub subject, in the organization's audience.
func TestCIIdentitiesAreRegistered(t *testing.T) {
	rec, err := run(t, committedConfig(t, nil))
	require.NoError(t, err)

	perms := map[string]map[string]float64{} // team → stack → permission
	for _, r := range rec.OfType("pulumiservice:index:TeamStackPermission") {
		in := r.Inputs.Mappable()
		team, stack := in["team"].(string), in["stack"].(string)
		if perms[team] == nil {
			perms[team] = map[string]float64{}
		}
		perms[team][stack] = in["permission"].(float64)
		assert.Equal(t, "lke-platform", in["project"])
	}
	read, edit := float64(pulumiservice.TeamStackPermissionScopeRead), float64(pulumiservice.TeamStackPermissionScopeEdit)
	assert.Equal(t, map[string]map[string]float64{
		previewTeam:                      {"development": read, "staging": read, "system": read},
		driftTeam:                        {"development": read, "staging": read, "production": read, "system": read},
		deployTeamPrefix + "development": {"development": edit},
		deployTeamPrefix + "staging":     {"staging": edit},
		deployTeamPrefix + "production":  {"production": edit},
		deployTeamPrefix + "system":      {"system": edit},
	}, perms)
	assert.Len(t, rec.OfType("pulumiservice:index:Team"), 6)

	issuer := rec.One(t, "pulumiservice:index:OidcIssuer", "github-actions").Inputs.Mappable()
	assert.Equal(t, githubIssuer, issuer["url"])
	subjects := map[string]string{} // team → subject
	for _, p := range issuer["policies"].([]any) {
		policy := p.(map[string]any)
		assert.Equal(t, "allow", policy["decision"])
		assert.Equal(t, "team", policy["tokenType"], "team tokens only: never an organization token")
		rules := policy["rules"].(map[string]any)
		assert.Equal(t, "urn:pulumi:org:platform-eng", rules["aud"])
		subjects[policy["teamName"].(string)] = rules["sub"].(string)
	}
	assert.Equal(t, map[string]string{
		previewTeam:                      "repo:platform-eng/lke-platform:pull_request",
		driftTeam:                        "repo:platform-eng/lke-platform:ref:refs/heads/main",
		deployTeamPrefix + "development": "repo:platform-eng/lke-platform:environment:development",
		deployTeamPrefix + "staging":     "repo:platform-eng/lke-platform:environment:staging",
		deployTeamPrefix + "production":  "repo:platform-eng/lke-platform:environment:production",
		deployTeamPrefix + "system":      "repo:platform-eng/lke-platform:environment:system",
	}, subjects)
}
