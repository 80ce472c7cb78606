// Command audit emits the infra_change_applied event of a stack's latest update: to Loki's push API (tenant =
// the environment) and as a one-line summary to Slack. Run it after every `pulumi up`; see docs/audit.md.
//
//	go run ./cmd/audit -stack <stack> [-dir <project dir>]
//
// Exit codes: 0 when the update was read, even if a send failed (each failure is reported on stderr);
// 1 when the stack or its history cannot be read.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/platform-eng/lke-platform/audit"
)

func main() {
	stack := flag.String("stack", "", "the stack whose latest update to report (required)")
	dir := flag.String("dir", ".", "the Pulumi project's folder")
	flag.Parse()
	if *stack == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: audit -stack <stack> [-dir <project dir>]")
		os.Exit(audit.ExitReadFailed)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	src, err := audit.OpenStack(ctx, *dir, *stack)
	if err != nil {
		fmt.Fprintf(os.Stderr, "audit: %v\n", err)
		stop()
		os.Exit(audit.ExitReadFailed)
	}
	code := audit.Run(ctx, audit.ConfigFromEnv(os.Getenv, *stack, *dir), src, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
