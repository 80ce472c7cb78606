// Package reachability computes, for one environment, which pods may reach which (and which addresses outside
// the cluster), on which ports, under the NetworkPolicies the program registers and Argo CD applies from this
// repository's charts, with a NetworkPolicy engine (cyclonus' matcher) rather than by reading the policies; and
// compares that matrix with the one the platform intends (intent.go), cell by cell.
//
//	go run ./cmd/reachability -stack staging               # one stack's matrix, as markdown
//	go generate ./reachability                             # docs/reachability.md, every environment
package reachability

//go:generate go run ../cmd/reachability -dir .. -doc ../docs/reachability.md

import (
	"fmt"
	"maps"
	"slices"
)

// Report is one stack's matrix, the intended one and where they differ.
type Report struct {
	Stack       string
	Environment string
	Objects     *Objects
	Intent      *Intent
	Actual      *Matrix
	Intended    *Matrix
	Differences []Difference
}

// Evaluate computes the report of the stack Pulumi.<stack>.yaml of the project directory dir.
func Evaluate(dir, stack string) (*Report, error) {
	env, err := Stack(dir, stack)
	if err != nil {
		return nil, err
	}
	rec, err := Register(env, stack)
	if err != nil {
		return nil, err
	}
	objs, err := Collect(rec, dir)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	peers := Peers(env, objs)
	ports := Ports(objs, peers)
	actual, err := Compute(objs.Policies, peers, ports)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	intent := IntentFor(env, slices.Sorted(maps.Keys(objs.Namespaces)))
	intended := intent.Intended(peers, ports)
	return &Report{
		Stack: stack, Environment: env.Name, Objects: objs, Intent: intent,
		Actual: actual, Intended: intended, Differences: Compare(actual, intended),
	}, nil
}
