package audit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/platform-eng/lke-platform/internal/ghactions"
)

// Source is what the command reads of a stack. Stack (stack.go) reads a real one with the Automation API.
type Source interface {
	// Latest is the newest entry of the stack's history; ok is false when the stack has never been updated.
	Latest(ctx context.Context) (u Update, ok bool, err error)
	// Output is the plain value of a stack output, "" when the stack has no such output.
	Output(ctx context.Context, name string) (string, error)
	// Environment is the environment the stack is, from its config.
	Environment(ctx context.Context, u Update) (string, error)
}

// Config is what the command is told, from its flags and environment (see cmd/audit).
type Config struct {
	Stack        string
	Dir          string // the project's folder: `git rev-parse HEAD` runs there when no commit is given
	LokiURL      string // empty: no Loki push
	SlackWebhook string // empty: no Slack post; a secret, never printed
	Actor        string
	Commit       string // PLATFORM_AUDIT_COMMIT: wins over every other source
	GitHubSHA    string // GITHUB_SHA: used when Pulumi recorded no commit with the update
	// GitHubActions adds a ::warning:: workflow command for each failure, so it shows on the run's summary.
	GitHubActions bool
	// Timeout bounds each request.
	Timeout time.Duration
	Client  *http.Client
}

// ConfigFromEnv reads the command's environment variables (getenv is os.Getenv in cmd/audit).
func ConfigFromEnv(getenv func(string) string, stack, dir string) Config {
	return Config{
		Stack: stack, Dir: dir,
		LokiURL:       getenv("PLATFORM_AUDIT_LOKI_URL"),
		SlackWebhook:  getenv("PLATFORM_AUDIT_SLACK_WEBHOOK"),
		Actor:         firstOf(getenv("PLATFORM_AUDIT_ACTOR"), getenv("GITHUB_ACTOR"), getenv("USER"), "unknown"),
		Commit:        getenv("PLATFORM_AUDIT_COMMIT"),
		GitHubSHA:     getenv("GITHUB_SHA"),
		GitHubActions: ghactions.Enabled(getenv),
		Timeout:       10 * time.Second,
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Exit codes of the command.
const (
	ExitOK         = 0 // the update was read (and reported, or said why not), even if a send failed
	ExitReadFailed = 1 // the stack or its history could not be read
)

// Run reads the latest update of the stack from src and emits its event. It prints what it did on stdout, and
// each failure on stderr. Failures to send never change the exit code: the deployment is done by then, and
// the audit trail must not turn it red; they are reported instead, as warnings on GitHub Actions.
func Run(ctx context.Context, cfg Config, src Source, stdout, stderr io.Writer) int {
	u, ok, err := src.Latest(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "audit: reading the history of stack %s: %v\n", cfg.Stack, err)
		return ExitReadFailed
	}
	if !ok {
		fmt.Fprintf(stdout, "audit: stack %s has never been updated: nothing to report\n", cfg.Stack)
		return ExitOK
	}
	if report, why := Reportable(u); !report {
		fmt.Fprintf(stdout, "audit: the latest entry of stack %s (version %d) is not reported: %s\n", cfg.Stack, u.Version, why)
		return ExitOK
	}
	env, err := src.Environment(ctx, u)
	if err != nil {
		fmt.Fprintf(stderr, "audit: stack %s: %v\n", cfg.Stack, err)
		return ExitReadFailed
	}

	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		fmt.Fprintf(stderr, "audit: %s\n", msg)
		if cfg.GitHubActions {
			ghactions.Warning(stdout, "audit event not sent", msg)
		}
	}
	e := Event{Environment: env, Stack: cfg.Stack, Actor: firstOf(cfg.Actor, "unknown"), Update: u,
		Commit: commit(cfg, u)}
	if e.ArgoApp, err = src.Output(ctx, "rootApplication"); err != nil {
		e.ArgoApp = ""
		// The event still goes out, without the label: an audit record missing a label beats no record.
		warn("reading the rootApplication output of stack %s (the argo_app label is left out): %v", cfg.Stack, err)
	}

	fmt.Fprintf(stdout, "audit: %s\n", e.Summary())
	client := cfg.Client
	if client == nil {
		client = http.DefaultClient
	}
	send := func(name, destination string, fn func(context.Context) error) {
		if destination == "" {
			fmt.Fprintf(stdout, "audit: %s not configured: skipped\n", name)
			return
		}
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			warn("the %s event of stack %s version %d was not sent: %v", name, cfg.Stack, u.Version, err)
			return
		}
		fmt.Fprintf(stdout, "audit: %s: sent\n", name)
	}
	send("Loki", cfg.LokiURL, func(ctx context.Context) error { return PushLoki(ctx, client, cfg.LokiURL, e) })
	send("Slack", cfg.SlackWebhook, func(ctx context.Context) error { return PostSlack(ctx, client, cfg.SlackWebhook, e) })
	return ExitOK
}

// commit is the commit the update was made from: the one given, else the one Pulumi recorded with the update
// (it belongs to that update, where the run's GITHUB_SHA belongs to the run), else GITHUB_SHA, else the project
// folder's HEAD, else "unknown".
func commit(cfg Config, u Update) string {
	if c := firstOf(cfg.Commit, u.Metadata["git.head"], cfg.GitHubSHA); c != "" {
		return c
	}
	if cfg.Dir != "" {
		cmd := exec.Command("git", "rev-parse", "HEAD")
		cmd.Dir = cfg.Dir
		if out, err := cmd.Output(); err == nil {
			if c := strings.TrimSpace(string(out)); c != "" {
				return c
			}
		}
	}
	return "unknown"
}
