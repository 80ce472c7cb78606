// Command drift checks a stack for drift: a refresh preview (nothing is changed), each drifted resource
// classified major or minor, a report on stdout, an incident through $PLATFORM_INCIDENT_WEBHOOK for major
// drift. Exit code 0: no drift or minor only; 2: major drift; 1: the check failed. The logic is in package
// drift; docs/runbooks/drift.md says how to read and act on a report.
//
//	go run ./cmd/drift -stack development [-dir .] [-json]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/platform-eng/lke-platform/drift"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := drift.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
