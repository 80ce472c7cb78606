// Command policy is the platform's CrossGuard policy pack. Build it and hand the binary to the CLI:
//
//	go build -o bin/lke-platform-policy ./policy
//	pulumi preview --policy-pack bin/lke-platform-policy [--policy-pack-config policy-config.json]
//
// The engine starts the binary, which serves the analyzer protocol (policyx), tells it about the stack (name,
// config, preview or update) and then sends it every resource before acting on it, and the whole stack at the
// end. docs/policy.md lists the policies, their config and the production approval record.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

func main() {
	err := policyx.Main(func(ctx *pulumi.Context) (policyx.PolicyPack, error) {
		return NewPack(stackFromContext(ctx), realWorld)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s policy pack: %v\n", PackName, err)
		os.Exit(1)
	}
}
