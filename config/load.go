package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Load reads the running stack's configuration and validates it, with no network I/O (CheckReachable is the
// caller's, where the cluster is used). It registers nothing, so main calls it before any component: a bad stack
// fails here, naming every bad key.
func Load(ctx *pulumi.Context) (*Environment, error) {
	if unknown := Unknown(stackKeys()); len(unknown) > 0 {
		return nil, fmt.Errorf("unknown configuration keys %s: the keys this program reads are declared in Pulumi.yaml (%s:%s)",
			strings.Join(unknown, ", "), Namespace, strings.Join(Keys, ", "+Namespace+":"))
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	env, err := Parse(Source{
		Stack:    ctx.Stack(),
		Get:      func(key string) (string, bool) { return ctx.GetConfig(Namespace + ":" + key) },
		IsSecret: func(key string) bool { return ctx.IsConfigSecret(Namespace + ":" + key) },
	}, dir)
	if err != nil {
		return nil, err
	}
	return env, nil
}

// stackKeys lists every key the stack sets. The language host hands the program its whole config as JSON in
// PULUMI_CONFIG; the Context only answers for keys it is asked about, so typos are found here.
func stackKeys() []string {
	var all map[string]any
	if err := json.Unmarshal([]byte(os.Getenv(pulumi.EnvConfig)), &all); err != nil {
		return nil // unit tests under mocks: nothing to check
	}
	return slices.Sorted(maps.Keys(all))
}
