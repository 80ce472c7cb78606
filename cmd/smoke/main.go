// Command smoke checks an environment after an update, from the outside, the way its users and operators see it
// (docs/delivery.md): the sample service answers /healthz through its Ingress host, Prometheus has its
// sample_service_up, every Argo CD Application of the environment is Synced and Healthy, and the environment's
// overview dashboard is in place. One line per check, "ok" or "FAIL", that a person and a workflow log can read;
// on GitHub Actions each failure is also an ::error:: annotation.
//
//	kubectl -n monitoring port-forward svc/prometheus-operated 9090 &
//	go build -o bin/smoke ./cmd/smoke && bin/smoke -environment development -prometheus http://127.0.0.1:9090 -wait 10m
//
// Exit code 0: every check passed; 2: a check failed; 1: the command could not run (a bad flag, an unreadable
// kubeconfig or CA file), as cmd/drift and cmd/rotation-check. Build it before running it in a workflow: `go run`
// turns exit 2 into 1.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
