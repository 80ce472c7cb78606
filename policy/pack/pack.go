// Package pack holds the platform's CrossGuard policies: the rules, their config and their messages. The pack's
// command (policy/) serves them to the engine; the tests run them beside the admission policies
// (components/admission), which enforce the in-cluster subset of the same rules, to check that the two agree.
package pack

import (
	"os"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Name is the name the pack reports to the engine; policy config files and `pulumi policy` refer to it.
const Name = "lke-platform"

// Version is bumped whenever a policy is added or made stricter.
var Version = semver.MustParse("1.0.0")

// World is what the pack reads from outside the engine's messages (the clock and the process environment),
// injectable for tests.
type World struct {
	now       func() time.Time
	lookupEnv func(string) (string, bool)
}

// RealWorld is the process's clock and environment.
var RealWorld = World{now: time.Now, lookupEnv: os.LookupEnv}

// Policies returns every policy of the pack, for the given stack.
func Policies(stack Stack, world World) []policyx.Policy {
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
		nodePortPolicy(),
		externalNamePolicy(),
		ingressHostsPolicy(stack),
		imagesPolicy(),
		privilegePolicy(),
		literalSecretsPolicy(),
		// 5. access packages
		accessPolicy(world.now),
		// 6. GPU placement
		gpuPoolPolicy(stack),
		gpuTolerationPolicy(),
		// 7. cost
		monthlyListPricePolicy(stack),
		monthlyBudgetPolicy(stack),
	}
}

// New builds the pack for one stack.
func New(stack Stack, world World) (policyx.PolicyPack, error) {
	return policyx.NewPolicyPack(Name, Version, policyx.EnforcementLevelMandatory, Policies(stack, world))
}
