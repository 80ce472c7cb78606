package drift

import (
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Collector turns the engine events of a refresh preview into drifted resources and keeps the diagnostics
// that explain a failed check.
//
// A refresh step is announced by a ResourcePreEvent with op "refresh"; its outcome comes in the
// ResOutputsEvent, whose op is "same", "update" (the object differs from what the program declares; Diffs and
// DetailedDiff name the properties) or "delete" (the object is gone).
type Collector struct {
	mu        sync.Mutex
	resources map[string]Resource // by URN
	errors    []string
}

// Add records one engine event.
func (c *Collector) Add(e events.EngineEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := e.DiagnosticEvent; d != nil {
		// Errors explain a failure; the provider reports why a cluster is unreachable as a warning.
		msg := strings.TrimSpace(d.Message)
		explains := d.Severity == "error" || d.Severity == "warning" && strings.Contains(msg, "unreachable")
		if explains && msg != "" && !slices.Contains(c.errors, msg) {
			c.errors = append(c.errors, msg)
		}
	}
	if e.Error != nil {
		// The event stream itself broke (the CLI died, or sent what the SDK could not decode).
		if msg := "reading the engine events: " + e.Error.Error(); !slices.Contains(c.errors, msg) {
			c.errors = append(c.errors, msg)
		}
	}
	var meta *apitype.StepEventMetadata
	switch {
	case e.ResOutputsEvent != nil:
		meta = &e.ResOutputsEvent.Metadata
	case e.ResourcePreEvent != nil:
		meta = &e.ResourcePreEvent.Metadata
	default:
		return
	}
	change, drifted := changeOf(meta.Op)
	if !drifted || strings.HasPrefix(meta.Type, "pulumi:") {
		// Providers, stacks and components hold no cloud object of their own.
		return
	}
	if c.resources == nil {
		c.resources = map[string]Resource{}
	}
	c.resources[meta.URN] = Resource{
		Severity:   Classify(meta.Type),
		Type:       meta.Type,
		Name:       nameOf(meta.URN),
		URN:        meta.URN,
		Change:     change,
		Properties: propertiesOf(meta),
	}
}

// Report returns the drifted resources seen so far, as the report of stack.
func (c *Collector) Report(stack, environment string) *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &Report{Stack: stack, Environment: environment}
	for _, res := range c.resources {
		r.Resources = append(r.Resources, res)
	}
	r.sort()
	return r
}

// Errors returns the diagnostics that explain a failure (errors, unreachable-cluster warnings), in order,
// without duplicates.
func (c *Collector) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errors)
}

// changeOf maps the op of a refresh outcome to a change; "same" and "refresh" (the announcement) are none.
func changeOf(op apitype.OpType) (Change, bool) {
	switch op {
	case apitype.OpSame, apitype.OpRefresh, apitype.OpRead:
		return "", false
	case apitype.OpDelete:
		return Deleted, true
	case apitype.OpUpdate:
		return Updated, true
	default:
		// A refresh produces only the ops above today; report any other as itself rather than lose it.
		return Change(op), true
	}
}

// nameOf is the resource's name in the program (the last part of its URN), or the URN if it is not one.
func nameOf(urn string) string {
	if u, err := resource.ParseURN(urn); err == nil {
		return u.Name()
	}
	return urn
}

// propertiesOf lists the property paths that differ: the detailed diff when the provider gave one (the
// kubernetes provider does: "spec.egress[0].ports[0].port"), else the top-level keys.
func propertiesOf(meta *apitype.StepEventMetadata) []string {
	var props []string
	for path := range meta.DetailedDiff {
		props = append(props, path)
	}
	if len(props) == 0 {
		props = slices.Clone(meta.Diffs)
	}
	slices.Sort(props)
	return props
}
