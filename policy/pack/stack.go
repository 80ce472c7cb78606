package pack

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EnvironmentKey is the program's own config key naming the stack's environment (Pulumi.<stack>.yaml).
const EnvironmentKey = "lke-platform:environment"

// The environments whose names the pack's defaults refer to (config/config.go is the program's list).
const (
	production = "production"
	system     = "system"
)

// Stack is what the engine tells the pack about the stack under analysis. The engine calls the analyzer's
// ConfigureStack with the stack's name, project, decrypted config and whether this is a preview, and policyx
// hands those to the pack factory as a pulumi.Context — once per run, before any resource is analysed.
type Stack struct {
	Project     string
	Name        string
	Environment string
	// DryRun is true for `pulumi preview` and for the preview phase of `pulumi up`; false when changes are applied.
	DryRun bool
}

// StackFromContext reads the Stack from the context policyx builds out of ConfigureStack. The environment is
// the stack's lke-platform:environment setting, which the program itself validates; a stack that does not set
// it (another project using the pack) is taken to be the environment its name says.
func StackFromContext(ctx *pulumi.Context) Stack {
	env, ok := ctx.GetConfig(EnvironmentKey)
	if !ok || env == "" {
		env = ctx.Stack()
	}
	return Stack{Project: ctx.Project(), Name: ctx.Stack(), Environment: env, DryRun: ctx.DryRun()}
}

// in reports whether the stack's environment is one of envs.
func (s Stack) in(envs []string) bool { return slices.Contains(envs, s.Environment) }
