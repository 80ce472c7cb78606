// Command lke-platform is the Pulumi program of the platform: one stack per environment (Pulumi.<stack>.yaml).
// The program itself is package platform, so that unit tests and the policy pack's tests run exactly it.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/platform"
)

func main() {
	pulumi.Run(platform.Program)
}
