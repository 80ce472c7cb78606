package audit

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/opthistory"
)

// Stack reads a real stack of the project in a folder, through the Automation API and the pulumi CLI (with
// the caller's backend and passphrase settings).
type Stack struct {
	stack   auto.Stack
	project string
}

// OpenStack selects the stack of the project in dir.
func OpenStack(ctx context.Context, dir, name string) (*Stack, error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // messages name the folder, not "."
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(dir))
	if err != nil {
		return nil, fmt.Errorf("opening the Pulumi project in %s: %w", dir, err)
	}
	settings, err := ws.ProjectSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the Pulumi.yaml in %s: %w", dir, err)
	}
	s, err := auto.SelectStack(ctx, name, ws)
	if err != nil {
		return nil, fmt.Errorf("selecting stack %s of project %s in %s (does it exist? `pulumi stack ls`): %w",
			name, settings.Name, dir, err)
	}
	return &Stack{stack: s, project: string(settings.Name)}, nil
}

// Latest is the newest history entry (the CLI lists the newest first). Secrets are left encrypted: the
// event needs none.
func (s *Stack) Latest(ctx context.Context) (Update, bool, error) {
	history, err := s.stack.History(ctx, 1, 1, opthistory.ShowSecrets(false))
	if err != nil {
		return Update{}, false, err
	}
	if len(history) == 0 {
		return Update{}, false, nil
	}
	if history[0].Version == 0 {
		// A self-managed backend (local files, object storage: the platform's) records no version. Number the
		// entry by its place in the whole history, as Pulumi Cloud numbers its updates.
		all, err := s.stack.History(ctx, 0, 0, opthistory.ShowSecrets(false))
		if err != nil {
			return Update{}, false, err
		}
		history[0].Version = len(all)
	}
	u, err := FromSummary(history[0])
	return u, err == nil, err
}

// Output is the plain value of a string output; "" when there is none. A secret output is not a label value.
func (s *Stack) Output(ctx context.Context, name string) (string, error) {
	outputs, err := s.stack.Outputs(ctx)
	if err != nil {
		return "", err
	}
	out, ok := outputs[name]
	if !ok || out.Value == nil {
		return "", nil
	}
	if out.Secret {
		return "", fmt.Errorf("output %s is a secret: not used as a label", name)
	}
	v, ok := out.Value.(string)
	if !ok {
		return "", fmt.Errorf("output %s is a %T, not a string", name, out.Value)
	}
	return v, nil
}

// Environment is the stack's "<project>:environment" config, as it was at the update, else as it is now.
func (s *Stack) Environment(ctx context.Context, u Update) (string, error) {
	key := s.project + ":environment"
	if v := u.Config[key]; v != "" {
		return v, nil
	}
	v, err := s.stack.GetConfig(ctx, key)
	if err != nil || v.Value == "" {
		return "", fmt.Errorf("no environment: the config key %s is not set (it names the Loki tenant); set it with `pulumi config set environment <environment>`: %v",
			key, err)
	}
	return v.Value, nil
}
