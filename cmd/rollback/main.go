// Command rollback sets a stack's configuration back to what an earlier, succeeded update of its history ran
// with (docs/runbooks/rollback.md). It changes configuration only; the operator then runs `pulumi preview` and
// `pulumi up` as for any change, so the policy pack and production's approval apply to a rollback too.
//
//	go run ./cmd/rollback -stack local-development -to 3 [-dir .] [-dry-run]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/platform-eng/lke-platform/rollback"
)

func main() {
	stackName := flag.String("stack", "", "stack to roll back (required)")
	version := flag.Int("to", 0, "version of the stack's history to return to (required; see `pulumi stack history`)")
	dir := flag.String("dir", ".", "the project's directory")
	dryRun := flag.Bool("dry-run", false, "print the changes without making them")
	flag.Parse()
	if *stackName == "" || *version < 1 {
		fmt.Fprintln(os.Stderr, "usage: rollback -stack STACK -to VERSION [-dir DIR] [-dry-run]")
		os.Exit(2)
	}
	if err := run(context.Background(), *stackName, *version, *dir, *dryRun); err != nil {
		fmt.Fprintf(os.Stderr, "rollback of stack %s: %v\n", *stackName, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stackName string, version int, dir string, dryRun bool) error {
	stack, err := auto.SelectStackLocalSource(ctx, stackName, dir)
	if err != nil {
		return fmt.Errorf("selecting the stack in %s: %w", dir, err)
	}
	// Secrets are decrypted in memory to compare and set them back; rollback.Change never prints them.
	history, err := stack.History(ctx, 0, 0)
	if err != nil {
		return fmt.Errorf("reading its history: %w", err)
	}
	target, err := rollback.Target(history, version)
	if err != nil {
		return err
	}
	if err := rollback.CheckCommit(version, target.Environment["git.head"], head(dir)); err != nil {
		return err
	}
	current, err := stack.GetAllConfig(ctx)
	if err != nil {
		return fmt.Errorf("reading its configuration: %w", err)
	}
	changes := rollback.Plan(current, target.Config)
	if len(changes) == 0 {
		fmt.Printf("stack %s already has the configuration of version %d (%s)\n", stackName, version, target.StartTime)
		return nil
	}
	fmt.Printf("stack %s: configuration of version %d (%s):\n", stackName, version, target.StartTime)
	for _, c := range changes {
		fmt.Println("  " + c.String())
	}
	if dryRun {
		return nil
	}
	for _, c := range changes {
		if err := apply(stackName, dir, c); err != nil {
			return fmt.Errorf("%s: %w", c.Key, err)
		}
	}
	fmt.Printf("done; now review and apply it as any change: pulumi preview -s %s, then pulumi up -s %s\n", stackName, stackName)
	return nil
}

// apply makes one change with the pulumi CLI. A value goes through stdin, never the command line, where a secret
// would show in the process list (auto's SetConfig passes it as an argument).
func apply(stackName, dir string, c rollback.Change) error {
	args := []string{"config", "rm", "--stack", stackName, c.Key}
	if !c.Remove {
		mode := "--plaintext"
		if c.To.Secret {
			mode = "--secret"
		}
		args = []string{"config", "set", "--stack", stackName, mode, c.Key}
	}
	cmd := exec.Command("pulumi", args...)
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(c.To.Value)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pulumi %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// head is the checkout's commit, or "" outside a git checkout.
func head(dir string) string {
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
