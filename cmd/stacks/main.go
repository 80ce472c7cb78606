// Command stacks prints the environments' stacks that CI applies, as a JSON array for a workflow's matrix or
// conditions: each of config.Environments whose deferred is false (Pulumi.yaml's default unless
// Pulumi.<stack>.yaml sets it). deploy.yml updates these stacks and drift.yml checks them; a deferred stack is
// still previewed on every pull request (pull-request.yml).
//
//	go run ./cmd/stacks [-dir PROJECT]    ["development","production"] as committed
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/platform-eng/lke-platform/config"
)

func main() {
	dir := flag.String("dir", ".", "the project's folder (Pulumi.yaml and the stack files)")
	flag.Parse()
	applied, err := Applied(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stacks:", err)
		os.Exit(1)
	}
	out, err := json.Marshal(applied)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stacks:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// Applied lists the environments' stacks in dir that are not deferred, in config.Environments' order.
func Applied(dir string) ([]string, error) {
	applied := []string{}
	for _, stack := range config.Environments {
		values, err := config.StackValues(dir, stack)
		if err != nil {
			return nil, err
		}
		deferred, err := strconv.ParseBool(values["deferred"])
		if err != nil {
			return nil, fmt.Errorf("stack file Pulumi.%s.yaml: %s:deferred = %q is not allowed; want true or false", stack, config.Namespace, values["deferred"])
		}
		if !deferred {
			applied = append(applied, stack)
		}
	}
	return applied, nil
}
