// Command reachability prints which pods of a stack's environment may reach which, on which ports, under the
// NetworkPolicies the program registers and Argo CD renders, as a markdown table computed by a NetworkPolicy
// engine (package reachability), followed by the intended rules. It runs the program under mocks: no cluster, no
// Pulumi CLI, no credentials. For a pull request that changes a policy, run it before and after and compare.
//
//	go run ./cmd/reachability -stack staging                   # Pulumi.staging.yaml's matrix on stdout
//	go run ./cmd/reachability -doc docs/reachability.md        # the document, every environment's stack
//
// Exit status: 0; 2 when the matrix differs from the intended one (the differences head the table); 1 when it
// could not be computed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/platform-eng/lke-platform/reachability"
)

func main() {
	// A flag set of its own: the engine's module registers test flags on the default one.
	flags := flag.NewFlagSet("reachability", flag.ExitOnError)
	dir := flags.String("dir", ".", "the project's folder (Pulumi.yaml, the stack files, charts/)")
	stack := flags.String("stack", "", "the stack whose matrix to print (Pulumi.<stack>.yaml)")
	doc := flags.String("doc", "", "write the document of every environment's stack to this file instead")
	_ = flags.Parse(os.Args[1:])
	code, err := run(os.Stdout, *dir, *stack, *doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reachability:", err)
	}
	os.Exit(code)
}

func run(out io.Writer, dir, stack, doc string) (int, error) {
	switch {
	case (stack == "") == (doc == ""):
		return 1, errors.New("give either -stack NAME or -doc FILE")
	case doc != "":
		text, err := reachability.Document(dir)
		if err != nil {
			return 1, err
		}
		return 0, os.WriteFile(doc, []byte(text), 0o644) // #nosec G306 -- a committed document (docs/reachability.md), public by design
	}
	r, err := reachability.Evaluate(dir, stack)
	if err != nil {
		return 1, err
	}
	if _, err := io.WriteString(out, r.Markdown("#")); err != nil {
		return 1, err
	}
	if len(r.Differences) > 0 {
		return 2, fmt.Errorf("%d cells of %s differ from the intended matrix", len(r.Differences), stack)
	}
	return 0, nil
}
