// Package mocks runs the program's components under pulumi.WithMocks and records every resource registered,
// with its inputs and options, for unit tests to assert on.
package mocks

import (
	"encoding/base64"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// FakeKubeconfig is what the mocked LKE cluster returns, base64-encoded as the Linode API does.
const FakeKubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n"

// Resource is one registered resource as the engine saw it.
type Resource struct {
	Type           string
	Name           string
	Inputs         resource.PropertyMap
	Parent         string
	Protect        bool
	RetainOnDelete bool // a delete (destroy, replacement) only removes it from the state
	ImportID       string
	IgnoreChanges  []string
	SecretOutputs  []string
	Provider       string
	Dependencies   []string // URNs of the explicit and input dependencies
}

// Recorder implements pulumi.MockResourceMonitor and keeps what was registered.
type Recorder struct {
	mu        sync.Mutex
	resources []Resource
}

// NewResource records the resource and returns its inputs as its state, plus the outputs a real provider adds.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	res := Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		res.Parent, res.ImportID = rpc.GetParent(), rpc.GetImportId()
		res.Protect, res.RetainOnDelete = rpc.GetProtect(), rpc.GetRetainOnDelete()
		res.IgnoreChanges, res.SecretOutputs = rpc.GetIgnoreChanges(), rpc.GetAdditionalSecretOutputs()
		res.Dependencies = rpc.GetDependencies()
	}
	r.mu.Lock()
	r.resources = append(r.resources, res)
	r.mu.Unlock()

	state := args.Inputs.Copy()
	id := args.Name + "-id"
	switch args.TypeToken {
	case "linode:index/lkeCluster:LkeCluster":
		id = "531900"
		if args.ID != "" {
			id = args.ID
		}
		state["kubeconfig"] = resource.NewStringProperty(base64.StdEncoding.EncodeToString([]byte(FakeKubeconfig)))
	case "linode:index/lkeNodePool:LkeNodePool":
		id = "531900:777"
	}
	return id, state, nil
}

// Call answers provider function calls; the program makes none.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call to %s", args.Token)
}

// Resources returns what was registered, sorted by type then name.
func (r *Recorder) Resources() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Resource(nil), r.resources...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// OfType returns the registered resources of one type token.
func (r *Recorder) OfType(token string) []Resource {
	var out []Resource
	for _, res := range r.Resources() {
		if res.Type == token {
			out = append(out, res)
		}
	}
	return out
}

// One returns the only resource of a type with the given name, failing the test otherwise.
func (r *Recorder) One(t *testing.T, token, name string) Resource {
	t.Helper()
	var found []Resource
	for _, res := range r.OfType(token) {
		if res.Name == name {
			found = append(found, res)
		}
	}
	require.Len(t, found, 1, "%s %s", token, name)
	return found[0]
}

// Run runs program under mocks for the given stack, with the given config, and returns the recorder.
func Run(t *testing.T, stack string, cfg map[string]string, program pulumi.RunFunc) (*Recorder, error) {
	t.Helper()
	return RunWithSecrets(t, stack, cfg, nil, program)
}

// RunWithSecrets is Run where the config keys in secretKeys count as set with --secret. The program runs as an
// update (ctx.DryRun() false) unless dryRun says it is a preview.
func RunWithSecrets(t *testing.T, stack string, cfg map[string]string, secretKeys []string, program pulumi.RunFunc, dryRun ...bool) (*Recorder, error) {
	t.Helper()
	rec := &Recorder{}
	err := pulumi.RunErr(program, pulumi.WithMocks("lke-platform", stack, rec), func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = secretKeys
		info.DryRun = len(dryRun) > 0 && dryRun[0]
	})
	return rec, err
}
