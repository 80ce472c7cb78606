package drift

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Exit codes of the check (cmd/drift), part of its contract with CI.
const (
	ExitClean  = 0 // no drift, or minor drift only
	ExitFailed = 1 // the check itself failed: no verdict
	ExitMajor  = 2 // at least one resource drifted with major severity
)

// Change is what happened to a resource outside Pulumi.
type Change string

const (
	Deleted Change = "deleted" // gone from the cloud or cluster, still in the state
	Updated Change = "updated" // differs from what the program declares
)

// Resource is one drifted resource.
type Resource struct {
	Severity Severity `json:"severity"`
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	URN      string   `json:"urn"`
	Change   Change   `json:"change"`
	// Properties are the property paths that differ (updates only, when the provider tells); never values,
	// which may be secret.
	Properties []string `json:"properties,omitempty"`
}

// Report is the result of one check of a stack.
type Report struct {
	Stack       string     `json:"stack"`
	Environment string     `json:"environment,omitempty"`
	Resources   []Resource `json:"resources"`
}

// Severity is the report's overall severity: major if any resource is, minor if some drift is, else empty.
func (r *Report) Severity() Severity {
	if len(r.Resources) == 0 {
		return ""
	}
	for _, res := range r.Resources {
		if res.Severity == Major {
			return Major
		}
	}
	return Minor
}

// ExitCode is the command's exit code for this report.
func (r *Report) ExitCode() int {
	if r.Severity() == Major {
		return ExitMajor
	}
	return ExitClean
}

// sort orders the resources major first, then by type and name, so reports of the same drift compare equal.
func (r *Report) sort() {
	rank := map[Severity]int{Major: 0, Minor: 1}
	slices.SortFunc(r.Resources, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(rank[a.Severity], rank[b.Severity]), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.URN, b.URN))
	})
}

// WriteText writes the human report: a summary line, then one line per drifted resource with its severity,
// type, name and change.
func (r *Report) WriteText(w io.Writer) error {
	stack := r.Stack
	if r.Environment != "" {
		stack = fmt.Sprintf("%s (environment %s)", r.Stack, r.Environment)
	}
	if len(r.Resources) == 0 {
		_, err := fmt.Fprintf(w, "stack %s: no drift\n", stack)
		return err
	}
	major := 0
	for _, res := range r.Resources {
		if res.Severity == Major {
			major++
		}
	}
	if _, err := fmt.Fprintf(w, "stack %s: %d drifted resource(s), %d major, %d minor\n",
		stack, len(r.Resources), major, len(r.Resources)-major); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, res := range r.Resources {
		change := string(res.Change)
		if len(res.Properties) > 0 {
			change += ": " + strings.Join(res.Properties, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Severity, res.Type, res.Name, change)
	}
	return tw.Flush()
}

// WriteJSON writes the report as one JSON document (resources is [] when there is no drift).
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	if out.Resources == nil {
		out.Resources = []Resource{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Report
		Severity Severity `json:"severity"`
	}{out, cmp.Or(r.Severity(), "none")})
}
