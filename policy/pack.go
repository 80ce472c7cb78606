package main

import (
	"os"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// PackName is the name the pack reports to the engine; policy config files and `pulumi policy` refer to it.
const PackName = "lke-platform"

// PackVersion is bumped whenever a policy is added or made stricter.
var PackVersion = semver.MustParse("1.0.0")

// clock and environment are what the pack reads from the outside world, injectable for tests.
type outside struct {
	now       func() time.Time
	lookupEnv func(string) (string, bool)
}

var realWorld = outside{now: time.Now, lookupEnv: os.LookupEnv}

// Policies returns every policy of the pack, for the given stack.
func Policies(stack Stack, world outside) []policyx.Policy {
	return []policyx.Policy{
		// 1. quotas
		namespaceQuotaPolicy(),
		quotaBoundsPolicy(),
		containerResourcesPolicy(),
		// 2. default-deny networking
		defaultDenyPolicy(),
		ingressFromEverywherePolicy(),
		// 3. production approvals
		approvalPolicy(stack, world.lookupEnv, world.now),
		// 4. production safety
		protectionPolicy(stack),
		loadBalancerPolicy(),
		imagesPolicy(),
		privilegePolicy(),
		// 5. access packages
		accessPolicy(world.now),
		// 6. GPU placement
		gpuPoolPolicy(stack),
		gpuTolerationPolicy(),
	}
}

// NewPack builds the pack for one stack.
func NewPack(stack Stack, world outside) (policyx.PolicyPack, error) {
	return policyx.NewPolicyPack(PackName, PackVersion, policyx.EnforcementLevelMandatory, Policies(stack, world))
}
