package drift

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
)

// providerEnv pins the kubernetes provider's behaviour on an unreachable cluster for the check, whatever the
// caller's environment says: with PULUMI_K8S_DELETE_UNREACHABLE every object would look deleted (an incident
// about nothing), with PULUMI_K8S_SKIP_UPDATE_UNREACHABLE every object would look unchanged (drift missed).
// An unreachable cluster must fail the check instead.
var providerEnv = map[string]string{
	"PULUMI_K8S_DELETE_UNREACHABLE":      "false",
	"PULUMI_K8S_SKIP_UPDATE_UNREACHABLE": "false",
}

// Check runs a refresh preview of stack in the Pulumi project at dir, with the caller's environment (backend,
// passphrase, the pulumi CLI on PATH), and returns the drift it found. It never changes the state or the
// cloud. The error, if any, names the stack and says what to check.
func Check(ctx context.Context, stack, dir string) (*Report, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project directory %q: %w", dir, err)
	}
	s, err := auto.SelectStackLocalSource(ctx, stack, abs, auto.EnvVars(providerEnv))
	if err != nil {
		return nil, fmt.Errorf("selecting stack %q of the project in %s failed: check -dir (the folder of Pulumi.yaml), "+
			"the backend login (PULUMI_BACKEND_URL) and that the stack exists (pulumi stack ls)\n%s", stack, abs, indent(cliMessage(err)))
	}
	environment := ""
	if v, err := s.GetConfig(ctx, "environment"); err == nil {
		environment = v.Value
	}

	var col Collector
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			col.Add(e)
		}
	}()
	_, err = s.PreviewRefresh(ctx, optrefresh.EventStreams(ch))
	if err != nil {
		// The event stream closes when the CLI's stream ends; a CLI that failed before streaming never opens it.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		return nil, checkError(stack, col.Errors(), err)
	}
	<-done
	return col.Report(stack, environment), nil
}

// checkError explains a failed refresh preview: the stack, the engine's error diagnostics (or, when there are
// none, the CLI's error), and what to check.
func checkError(stack string, diagnostics []string, err error) error {
	detail := strings.Join(diagnostics, "\n")
	if detail == "" {
		detail = cliMessage(err)
	}
	hint := "check the backend login (PULUMI_BACKEND_URL), the passphrase (PULUMI_CONFIG_PASSPHRASE or _FILE) " +
		"and the stack's provider credentials, then run `pulumi refresh --preview-only -s " + stack + "` to see the error in full"
	if strings.Contains(detail, "unreachable") {
		hint = "its Kubernetes cluster is unreachable: check that the cluster is up and that the stack's kubeconfig " +
			"(config kubeconfigPath or kubeconfig in attach mode, the LKE cluster in create mode) points at it"
	}
	return fmt.Errorf("drift check of stack %q failed, nothing was changed: %s\n%s", stack, hint, indent(detail))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// cliMessage is what the pulumi CLI said on stderr when the Automation API reports a failed command (its errors
// carry the exit code, stdout and stderr), else the error itself.
func cliMessage(err error) string {
	msg := err.Error()
	if _, stderr, ok := strings.Cut(msg, "\nstderr: "); ok && strings.TrimSpace(stderr) != "" {
		return strings.TrimSpace(stderr)
	}
	return msg
}
