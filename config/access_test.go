package config

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var accessNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const slackRequest = "https://example.slack.com/archives/C0PLATFORMACCESS/p1772442000000100"

// accessPackage is a valid package as a stack sets it, with fields replaced by overrides.
func accessPackage(overrides map[string]any) map[string]any {
	p := map[string]any{
		"name": "drill", "subject": "alice@example.com", "role": "view", "namespaces": []string{"apps"},
		"expiresAt": accessNow.Add(2 * time.Hour).Format(time.RFC3339), "request": slackRequest,
	}
	for k, v := range overrides {
		p[k] = v
	}
	return p
}

func accessPackagesJSON(t *testing.T, packages ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(packages)
	require.NoError(t, err)
	return string(b)
}

func parseAt(t *testing.T, stackName string, overrides map[string]string) (*Environment, error) {
	t.Helper()
	src := stack(t, stackName, overrides)
	src.Now = func() time.Time { return accessNow }
	return Parse(src, "..")
}

func TestNoAccessPackagesByDefault(t *testing.T) {
	for _, name := range Environments {
		env, err := parseAt(t, name, nil)
		require.NoError(t, err)
		assert.Empty(t, env.AccessPackages, name)
	}
}

func TestAccessPackages(t *testing.T) {
	env, err := parseAt(t, Development, map[string]string{
		"namespaces": `["apps","batch"]`,
		"accessPackages": accessPackagesJSON(t,
			accessPackage(nil),
			// Expired packages are valid config: the program leaves them out.
			accessPackage(map[string]any{"name": "old", "role": "edit", "namespaces": []string{"batch", "apps"},
				"expiresAt": "2026-03-02T08:00:00+01:00"}),
		),
	})
	require.NoError(t, err)
	assert.Equal(t, []AccessPackage{
		{Name: "drill", Subject: "alice@example.com", Role: "view", Namespaces: []string{"development-apps"},
			ExpiresAt: accessNow.Add(2 * time.Hour), Request: slackRequest},
		{Name: "old", Subject: "alice@example.com", Role: "edit", Namespaces: []string{"development-batch", "development-apps"},
			ExpiresAt: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), Request: slackRequest},
	}, env.AccessPackages)
	assert.False(t, env.AccessPackages[0].Expired(accessNow))
	assert.True(t, env.AccessPackages[1].Expired(accessNow))
	assert.True(t, env.AccessPackages[0].Expired(accessNow.Add(2*time.Hour)), "expired at expiresAt exactly")

	// Exactly 24 hours ahead is allowed: the pack's bound is inclusive too.
	_, err = parseAt(t, Development, map[string]string{"accessPackages": accessPackagesJSON(t,
		accessPackage(map[string]any{"expiresAt": accessNow.Add(24 * time.Hour).Format(time.RFC3339)}))})
	require.NoError(t, err)
}

func TestInvalidAccessPackagesNameKeyValueAndWhatIsAllowed(t *testing.T) {
	cases := []struct {
		name       string
		namespaces string
		packages   []map[string]any
		want       string
	}{
		{"more than 24 hours ahead", "", []map[string]any{accessPackage(map[string]any{"expiresAt": "2026-03-03T09:00:01Z"})},
			`lke-platform:accessPackages[0].expiresAt = "2026-03-03T09:00:01Z" is not allowed; want a time at most 24h0m0s ahead (before 2026-03-03T09:00:00Z): access packages expire within 24 hours; ask again in #platform-access for more`},
		{"not RFC 3339", "", []map[string]any{accessPackage(map[string]any{"expiresAt": "tomorrow 9am"})},
			`lke-platform:accessPackages[0].expiresAt = "tomorrow 9am" is not allowed; want an RFC 3339 time such as 2026-03-02T17:00:00Z`},
		{"no expiry", "", []map[string]any{accessPackage(map[string]any{"expiresAt": ""})},
			`lke-platform:accessPackages[0].expiresAt is not set; want an RFC 3339 time`},
		{"no request", "", []map[string]any{accessPackage(map[string]any{"request": ""})},
			`lke-platform:accessPackages[0].request is not set; want the link to the request's Slack message in #platform-access`},
		{"request elsewhere", "", []map[string]any{accessPackage(map[string]any{"request": "https://tickets.example.com/ACCESS-12"})},
			`lke-platform:accessPackages[0].request = "https://tickets.example.com/ACCESS-12" is not allowed; want the link to the request's Slack message`},
		{"bad name", "", []map[string]any{accessPackage(map[string]any{"name": "Alice's"})},
			`lke-platform:accessPackages[0].name = "Alice's" is not allowed; want a DNS label of at most 56 characters`},
		{"duplicate name", "", []map[string]any{accessPackage(nil), accessPackage(nil)},
			`lke-platform:accessPackages[1].name = "drill" is not allowed; want a name no other package of the stack has`},
		{"subject not an address", "", []map[string]any{accessPackage(map[string]any{"subject": "Alice"})},
			`lke-platform:accessPackages[0].subject = "Alice" is not allowed; want the plain e-mail address of the person`},
		{"unknown role", "", []map[string]any{accessPackage(map[string]any{"role": "cluster-admin"})},
			`lke-platform:accessPackages[0].role = "cluster-admin" is not allowed; want one of view, edit`},
		{"no namespace", "", []map[string]any{accessPackage(map[string]any{"namespaces": []string{}})},
			`lke-platform:accessPackages[0].namespaces = "[]" is not allowed; want at least one of the environment's namespaces: apps`},
		{"namespace of another kind", "", []map[string]any{accessPackage(map[string]any{"namespaces": []string{"kube-system"}})},
			`lke-platform:accessPackages[0].namespaces[0] = "kube-system" is not allowed; want one of the environment's namespaces (short names, as in the namespaces key): apps`},
		{"full namespace name", "", []map[string]any{accessPackage(map[string]any{"namespaces": []string{"development-apps"}})},
			`lke-platform:accessPackages[0].namespaces[0] = "development-apps" is not allowed`},
		{"namespace twice", "", []map[string]any{accessPackage(map[string]any{"namespaces": []string{"apps", "apps"}})},
			`lke-platform:accessPackages[0].namespaces[1] = "apps" is not allowed; want a namespace not already listed`},
		{"typo in a field", "", []map[string]any{accessPackage(map[string]any{"expires": "2026-03-02T10:00:00Z"})},
			`want JSON of the shape Pulumi.yaml documents (json: unknown field "expires")`},
		{"reserved namespace", `["apps","access"]`, nil,
			`lke-platform:namespaces[1] = "access" is not allowed; want a name other than access: "<env>-access" holds the access packages' service accounts`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			overrides := map[string]string{"accessPackages": accessPackagesJSON(t, c.packages...), "namespaces": c.namespaces}
			if c.namespaces == "" {
				delete(overrides, "namespaces")
			}
			env, err := parseAt(t, Development, overrides)
			require.Error(t, err)
			assert.Nil(t, env)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestParseAccessPackagesAgreesWithParse(t *testing.T) {
	src := stack(t, Staging, map[string]string{"accessPackages": accessPackagesJSON(t, accessPackage(nil))})
	src.Now = func() time.Time { return accessNow }
	env, err := Parse(src, "..")
	require.NoError(t, err)
	packages, err := ParseAccessPackages(src.Get, Staging, []string{"apps"}, accessNow)
	require.NoError(t, err)
	assert.Equal(t, env.AccessPackages, packages)
	assert.Equal(t, []string{"staging-apps"}, packages[0].Namespaces)

	_, err = ParseAccessPackages(src.Get, Staging, []string{"apps"}, accessNow.Add(-23*time.Hour))
	require.EqualError(t, err, "invalid stack configuration (1 problems; fix them with `pulumi config set`):\n"+
		`  - lke-platform:accessPackages[0].expiresAt = "2026-03-02T11:00:00Z" is not allowed; want a time at most 24h0m0s ahead (before 2026-03-02T10:00:00Z): access packages expire within 24 hours; ask again in #platform-access for more`)
}
