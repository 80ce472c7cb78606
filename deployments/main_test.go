package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

const (
	settingsType = "pulumiservice:index:DeploymentSettings"
	driftType    = "pulumiservice:index:DriftSchedule"
	ttlType      = "pulumiservice:index:TtlSchedule"
	stackType    = "pulumiservice:index:Stack"
)

// committedConfig is what the CLI hands the program for the committed stack: Pulumi.yaml's defaults, overlaid by
// Pulumi.cloud.yaml, each value as the CLI passes it (strings, JSON for lists), then the overrides.
func committedConfig(t *testing.T, overrides map[string]string) map[string]string {
	t.Helper()
	var project struct {
		Name   string
		Config map[string]struct{ Default any }
	}
	readYAML(t, "Pulumi.yaml", &project)
	require.Equal(t, namespace, project.Name)
	var stack struct{ Config map[string]any }
	readYAML(t, "Pulumi.cloud.yaml", &stack)

	cfg := map[string]string{}
	set := func(key string, v any) {
		if s, ok := v.(string); ok {
			cfg[key] = s
			return
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		cfg[key] = string(b)
	}
	for key, decl := range project.Config {
		if decl.Default != nil {
			set(namespace+":"+key, decl.Default)
		}
	}
	for key, v := range stack.Config {
		set(key, v)
	}
	for key, v := range overrides {
		cfg[namespace+":"+key] = v
	}
	return cfg
}

func readYAML(t *testing.T, path string, out any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, out))
}

func run(t *testing.T, cfg map[string]string) (*mocks.Recorder, error) {
	t.Helper()
	rec := &mocks.Recorder{}
	err := pulumi.RunErr(program, pulumi.WithMocks(namespace, "cloud", rec), func(info *pulumi.RunInfo) {
		info.Config = cfg
	})
	return rec, err
}

func TestCommittedStackConfiguresEveryPlatformStack(t *testing.T) {
	rec, err := run(t, committedConfig(t, nil))
	require.NoError(t, err)

	for _, stack := range []string{"development", "staging", "production", "system"} {
		t.Run(stack, func(t *testing.T) {
			in := rec.One(t, settingsType, stack).Inputs.Mappable()
			assert.Equal(t, "platform-eng", in["organization"])
			assert.Equal(t, "lke-platform", in["project"])
			assert.Equal(t, stack, in["stack"])
			assert.Equal(t, map[string]any{"git": map[string]any{"branch": "refs/heads/main", "repoDir": "."}}, in["sourceContext"])

			vcs := in["vcs"].(map[string]any)
			assert.Equal(t, "github", vcs["provider"])
			assert.Equal(t, "platform-eng/lke-platform", vcs["repository"])
			// A pull request's preview runs the branch's program with the stack's secrets: never production's.
			assert.Equal(t, stack != "production", vcs["previewPullRequests"], "pull requests preview every stack but production")
			assert.Equal(t, false, vcs["deployCommits"], "updates go through the deploy workflow only")
			assert.Equal(t, false, vcs["pullRequestTemplate"], "review stacks come from %s, never from %s", reviewTemplate, stack)
			assert.Contains(t, vcs["paths"], "Pulumi."+stack+".yaml")
			assert.Contains(t, vcs["paths"], "components/**")
			assert.NotContains(t, vcs["paths"], "docs/**")
			assert.Nil(t, in["github"], "the deprecated github block is not used")

			op := in["operationContext"].(map[string]any)
			assert.Equal(t, []any{"go build -o bin/lke-platform-policy ./policy"}, op["preRunCommands"])
			assert.Equal(t, map[string]any{"PULUMI_OPTION_POLICY_PACK": "bin/lke-platform-policy"}, op["environmentVariables"],
				"the policy pack, and no credential")
			assert.Nil(t, op["oidc"])
			assert.Equal(t, map[string]any{"deleteAfterDestroy": false, "skipIntermediateDeployments": true}, op["options"])

			drift := rec.One(t, driftType, stack+"-drift").Inputs.Mappable()
			assert.Equal(t, map[string]any{
				"organization": "platform-eng", "project": "lke-platform", "stack": stack,
				"scheduleCron": "0 * * * *", "autoRemediate": false,
			}, drift)
		})
	}
	assert.Len(t, rec.OfType(settingsType), 5, "four stacks and the review template")
	assert.Len(t, rec.OfType(driftType), 4)
	assert.Empty(t, rec.OfType(ttlType), "no reviewStackExpiry, no TTL schedule")
}

func TestDevelopmentGetsReviewStacksFromASafeTemplate(t *testing.T) {
	rec, err := run(t, committedConfig(t, nil))
	require.NoError(t, err)

	assert.Equal(t, map[string]any{
		"organizationName": "platform-eng", "projectName": "lke-platform", "stackName": "development-review",
	}, rec.One(t, stackType, "development-review").Inputs.Mappable())

	in := rec.One(t, settingsType, "development-review").Inputs.Mappable()
	assert.Equal(t, "development-review", in["stack"])
	vcs := in["vcs"].(map[string]any)
	assert.Equal(t, true, vcs["pullRequestTemplate"])
	assert.Equal(t, false, vcs["deployCommits"])
	assert.Equal(t, false, vcs["previewPullRequests"])
	assert.Contains(t, vcs["paths"], "Pulumi.development-review.yaml")
	op := in["operationContext"].(map[string]any)
	assert.Equal(t, true, op["options"].(map[string]any)["deleteAfterDestroy"], "review stacks are removed with their pull request")
	assert.Equal(t, map[string]any{"PULUMI_OPTION_POLICY_PACK": "bin/lke-platform-policy"}, op["environmentVariables"])
}

func TestReviewStackExpiryAddsATTLSchedule(t *testing.T) {
	rec, err := run(t, committedConfig(t, map[string]string{"reviewStackExpiry": "2026-12-31T19:00:00+01:00"}))
	require.NoError(t, err)
	ttl := rec.One(t, ttlType, "development-review-ttl")
	assert.Equal(t, map[string]any{
		"organization": "platform-eng", "project": "lke-platform", "stack": "development-review",
		"timestamp": "2026-12-31T18:00:00Z", "deleteAfterDestroy": false,
	}, ttl.Inputs.Mappable())
}

func TestOnlyTheConfiguredStacks(t *testing.T) {
	rec, err := run(t, committedConfig(t, map[string]string{
		"stacks": `["production"]`, "reviewStackExpiry": "2026-12-31T18:00:00Z", "organization": "acme", "repository": "acme/platform",
	}))
	require.NoError(t, err)
	settings := rec.OfType(settingsType)
	require.Len(t, settings, 1)
	assert.Equal(t, "acme", settings[0].Inputs.Mappable()["organization"])
	assert.Equal(t, "acme/platform", settings[0].Inputs.Mappable()["vcs"].(map[string]any)["repository"])
	assert.Equal(t, false, rec.One(t, driftType, "production-drift").Inputs.Mappable()["autoRemediate"])
	assert.Empty(t, rec.OfType(stackType), "review stacks belong to development")
	assert.Empty(t, rec.OfType(ttlType))
}

func TestInvalidConfigurationNamesKeyValueAndAllowed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      []string
	}{
		{"organization unset", map[string]string{"organization": ""},
			[]string{`lke-platform-deployments:organization is not set; want the name of the Pulumi Cloud organization`}},
		{"repository without owner", map[string]string{"repository": "lke-platform"},
			[]string{`lke-platform-deployments:repository = "lke-platform" is not allowed; want a GitHub repository as owner/name`}},
		{"unknown stack", map[string]string{"stacks": `["development","qa"]`},
			[]string{`lke-platform-deployments:stacks[1] = "qa" is not allowed; want one of development, staging, production, system`}},
		{"stack twice", map[string]string{"stacks": `["staging","staging"]`},
			[]string{`lke-platform-deployments:stacks[1] = "staging" is not allowed; want each stack once`}},
		{"stacks not a list", map[string]string{"stacks": "development"},
			[]string{`lke-platform-deployments:stacks = "development" is not allowed; want a non-empty JSON list of distinct stacks out of development, staging, production, system`}},
		{"expiry not RFC 3339", map[string]string{"reviewStackExpiry": "tomorrow"},
			[]string{`lke-platform-deployments:reviewStackExpiry = "tomorrow" is not allowed; want an RFC 3339 time`}},
		{"every problem at once", map[string]string{"organization": "acme corp", "stacks": "[]"},
			[]string{"2 problems", `organization = "acme corp"`, `stacks = "[]"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := run(t, committedConfig(t, tc.overrides))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, rec.Resources(), "nothing is registered from a bad configuration")
		})
	}
}

// The Go data must match the platform program beside this project: its name and its stack files.
func TestPlatformProjectAndStacksExist(t *testing.T) {
	var root struct{ Name string }
	readYAML(t, filepath.Join("..", "Pulumi.yaml"), &root)
	assert.Equal(t, root.Name, platformProject)
	for stack := range stackTable {
		_, err := os.Stat(filepath.Join("..", "Pulumi."+stack+".yaml"))
		assert.NoError(t, err, "stack file of %s", stack)
	}
	for _, p := range programPaths {
		matches, err := filepath.Glob(filepath.Join("..", strings.TrimSuffix(p, "/**")))
		require.NoError(t, err)
		assert.NotEmpty(t, matches, "programPaths names %s, which does not exist", p)
	}
}
