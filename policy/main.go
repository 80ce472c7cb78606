// Command policy is the platform's CrossGuard policy pack. Build it and hand the binary to the CLI:
//
//	go build -o bin/lke-platform-policy ./policy
//	pulumi preview --policy-pack bin/lke-platform-policy [--policy-pack-config policy-config.json]
//
// The engine starts the binary, which serves the analyzer protocol (policy/analyzer: policyx's protocol, each
// resource decoded once rather than once per policy), tells it about the stack (name, config, preview or update)
// and then sends it every resource before acting on it, and the whole stack at the end. The policies are package pack's (policy/pack); docs/policy.md lists them, their config and the production
// approval record.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/policy/analyzer"
	"github.com/platform-eng/lke-platform/policy/pack"
)

func main() {
	err := analyzer.Main(func(ctx *pulumi.Context) (policyx.PolicyPack, error) {
		return pack.New(pack.StackFromContext(ctx), pack.RealWorld)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s policy pack: %v\n", pack.Name, err)
		os.Exit(1)
	}
}
