package gitops

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

// environments are the four stacks; behaviour that differs is asserted on each.
var environments = []string{"development", "staging", "production", "system"}

func labelsFor(env string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/managed-by": "pulumi",
		"app.kubernetes.io/part-of":    "lke-platform",
		"platform.lke/environment":     env,
	}
}

// monitor is the shared recorder plus what it does not keep: each resource's dependencies and retainOnDelete.
type monitor struct {
	*mocks.Recorder
	mu     sync.Mutex
	deps   map[string][]string // "<type>::<name>" -> URNs
	retain map[string]bool
}

func newMonitor() *monitor {
	return &monitor{Recorder: &mocks.Recorder{}, deps: map[string][]string{}, retain: map[string]bool{}}
}

func (m *monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if rpc := args.RegisterRPC; rpc != nil {
		m.mu.Lock()
		key := args.TypeToken + "::" + args.Name
		m.deps[key] = rpc.GetDependencies()
		m.retain[key] = rpc.GetRetainOnDelete()
		m.mu.Unlock()
	}
	return m.Recorder.NewResource(args)
}

func (m *monitor) dependsOn(r mocks.Resource) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deps[r.Type+"::"+r.Name]
}

func (m *monitor) retained(r mocks.Resource) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.retain[r.Type+"::"+r.Name]
}

// run runs program under mocks for the environment's stack.
func run(t *testing.T, env string, program pulumi.RunFunc) *monitor {
	t.Helper()
	m := newMonitor()
	require.NoError(t, pulumi.RunErr(program, pulumi.WithMocks("lke-platform", env, m)))
	return m
}

// urnName is the resource name at the end of a URN.
func urnName(urn string) string { return urn[strings.LastIndex(urn, "::")+2:] }

// meta returns an object's recorded metadata (without converting the rest: a CRD's schema is large).
func meta(r mocks.Resource) map[string]any {
	v, ok := r.Inputs["metadata"]
	if !ok || !v.IsObject() {
		return nil
	}
	return v.ObjectValue().Mappable()
}
