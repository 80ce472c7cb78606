package drift

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Options are the command's inputs (cmd/drift's flags and environment).
type Options struct {
	Stack   string // the stack to check
	Dir     string // the Pulumi project's folder
	JSON    bool   // the report as JSON instead of text
	Webhook string // incident webhook URL (a secret); empty: no incident

	// Check runs the refresh preview; nil means Check. Tests replace it.
	Check func(ctx context.Context, stack, dir string) (*Report, error)
	// Client posts the incident; nil means a plain client (PostIncident bounds the time).
	Client *http.Client
	// Now stamps the incident; nil means time.Now.
	Now func() time.Time
}

// Run is the whole command: check the stack, print the report on stdout, open an incident for major drift,
// and return the exit code (ExitClean, ExitMajor or ExitFailed). Failures go to stderr; a failed incident
// is reported there too but does not change the exit code: the drift is still in the report and the job.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) int {
	if o.Stack == "" {
		fmt.Fprintln(stderr, "drift: -stack is required (the stack to check, e.g. -stack development)")
		return ExitFailed
	}
	check, client, now := o.Check, o.Client, o.Now
	if check == nil {
		check = Check
	}
	if client == nil {
		client = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}

	report, err := check(ctx, o.Stack, o.Dir)
	if err != nil {
		fmt.Fprintf(stderr, "drift: %v\n", err)
		return ExitFailed
	}
	write := report.WriteText
	if o.JSON {
		write = report.WriteJSON
	}
	if err := write(stdout); err != nil {
		fmt.Fprintf(stderr, "drift: writing the report: %v\n", err)
		return ExitFailed
	}

	code := report.ExitCode()
	if code == ExitMajor && o.Webhook != "" {
		if err := PostIncident(ctx, client, o.Webhook, NewIncident(report, now())); err != nil {
			fmt.Fprintf(stderr, "drift: the incident was not opened: %v; the drift is in the report above\n", err)
		} else {
			fmt.Fprintf(stderr, "drift: incident opened through %s\n", WebhookEnv)
		}
	}
	return code
}

// Main parses the command line (args without the program name) and the environment (getenv), then runs.
// A bad command line exits 1, not flag's usual 2, which would read as major drift.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drift", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Stack, "stack", "", "the stack to check (required)")
	fs.StringVar(&o.Dir, "dir", ".", "the Pulumi project's folder (where Pulumi.yaml is)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: drift -stack <stack> [-dir <project dir>] [-json]\n"+
			"  $%s: incident webhook URL for major drift (optional)\n"+
			"  exit code 0: no drift or minor only; 2: major drift; 1: the check failed\n", WebhookEnv)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitClean
		}
		return ExitFailed
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drift: unexpected arguments %q: the stack goes in -stack\n", fs.Args())
		return ExitFailed
	}
	o.Webhook = getenv(WebhookEnv)
	return Run(ctx, o, stdout, stderr)
}
