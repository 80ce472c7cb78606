package pack

import (
	"slices"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/platform-eng/lke-platform/config"
)

// EnvironmentKey is the program's own config key naming the stack's environment (Pulumi.<stack>.yaml).
const EnvironmentKey = "lke-platform:environment"

// DomainKey is the program's config key naming the stack's DNS zone.
const DomainKey = "lke-platform:domain"

// The environments whose names the pack's defaults refer to.
const (
	production = config.Production
	system     = config.System
)

// Stack is what the engine tells the pack about the stack under analysis. The engine calls the analyzer's
// ConfigureStack with the stack's name, project, decrypted config and whether this is a preview, and policyx
// hands those to the pack factory as a pulumi.Context — once per run, before any resource is analysed.
type Stack struct {
	Project     string
	Name        string
	Environment string
	// Domain is the stack's DNS zone (lke-platform:domain); the environment's hosts are <name>.<env>.<domain>.
	Domain string
	// DryRun is true for `pulumi preview` and for the preview phase of `pulumi up`; false when changes are applied.
	DryRun bool
	// Budget is the stack's monthly budget in US dollars (lke-platform:monthlyBudgetUsd); 0: none. A value that
	// is not a whole number reads as none here: the program refuses it before anything is registered.
	Budget int
}

// StackFromContext reads the Stack from the context policyx builds out of ConfigureStack. A stack named after
// an environment (config.Environments) is that environment, whatever its config says: the stack file is edited
// in pull requests, and an edit must not move production out of production's rules (the program refuses such a
// stack too). Any other stack (local-…, a test's, another project's) is the environment its
// lke-platform:environment setting names, which the program validates, else the one its name says.
func StackFromContext(ctx *pulumi.Context) Stack {
	env, ok := ctx.GetConfig(EnvironmentKey)
	if !ok || env == "" || slices.Contains(config.Environments, ctx.Stack()) {
		env = ctx.Stack()
	}
	domain, _ := ctx.GetConfig(DomainKey)
	budgetText, _ := ctx.GetConfig(BudgetKey)
	budget, _ := strconv.Atoi(budgetText)
	return Stack{Project: ctx.Project(), Name: ctx.Stack(), Environment: env, Domain: domain, DryRun: ctx.DryRun(), Budget: budget}
}

// in reports whether the stack's environment is one of envs.
func (s Stack) in(envs []string) bool { return slices.Contains(envs, s.Environment) }
