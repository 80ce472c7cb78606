// Command rollback sets a stack's configuration back to what an earlier, succeeded update of its history ran
// with (docs/runbooks/rollback.md). It changes configuration only; the operator then runs `pulumi preview` and
// `pulumi up` as for any change, so the policy pack and production's approval apply to a rollback too.
//
//	go run ./cmd/rollback -stack local-development -list
//	go run ./cmd/rollback -stack local-development -to 3 [-dir .] [-dry-run]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/platform-eng/lke-platform/rollback"
)

func main() {
	stackName := flag.String("stack", "", "stack to roll back (required)")
	version := flag.Int("to", 0, "version of the stack's history to return to (required; see `pulumi stack history`)")
	dir := flag.String("dir", ".", "the project's directory")
	dryRun := flag.Bool("dry-run", false, "print the changes without making them")
	list := flag.Bool("list", false, "list the stack's history with the versions -to takes, newest first")
	flag.Parse()
	if *stackName == "" || (*version < 1 && !*list) {
		fmt.Fprintln(os.Stderr, "usage: rollback -stack STACK (-list | -to VERSION [-dry-run]) [-dir DIR]")
		os.Exit(2)
	}
	if err := run(*stackName, *version, *dir, *dryRun, *list); err != nil {
		fmt.Fprintf(os.Stderr, "rollback of stack %s: %v\n", *stackName, err)
		os.Exit(1)
	}
}

func run(stackName string, version int, dir string, dryRun, list bool) error {
	// Secrets are decrypted in memory to compare and set them back; rollback.Change never prints them.
	history, err := rollback.History(dir, stackName)
	if err != nil {
		return err
	}
	if list {
		for _, h := range history {
			fmt.Printf("%4d  %s  %-8s %-10s commit %s\n", h.Version, h.StartTime, h.Kind, h.Result, orNone(h.Environment["git.head"]))
		}
		return nil
	}
	target, err := rollback.Target(history, version)
	if err != nil {
		return err
	}
	if err := rollback.CheckCommit(version, target.Environment["git.head"], head(dir)); err != nil {
		return err
	}
	var current rollback.Config
	if err := rollback.PulumiJSON(dir, &current, "config", "--stack", stackName, "--json", "--show-secrets"); err != nil {
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

// apply makes one change with the pulumi CLI. A string value goes through stdin, never the command line, where a
// secret would show in the process list. A structured value is set whole with set-all --json, which takes it as
// an argument: that is refused for a secret one, which has to be set by hand.
func apply(stackName, dir string, c rollback.Change) error {
	var args []string
	var stdin string
	switch {
	case c.Remove:
		args = []string{"config", "rm", "--stack", stackName, c.Key}
	case c.To.Object != nil && c.To.Secret:
		return fmt.Errorf("a structured secret cannot be set back without showing it on a command line; " +
			"set it by hand: pulumi config set --secret --path '<key>.<field>' < FILE")
	case c.To.Object != nil:
		entry, err := json.Marshal(map[string]any{c.Key: map[string]any{"value": c.To.Value, "objectValue": c.To.Object, "secret": false}})
		if err != nil {
			return err
		}
		args = []string{"config", "set-all", "--stack", stackName, "--json", string(entry)}
	default:
		mode := "--plaintext"
		if c.To.Secret {
			mode = "--secret"
		}
		args, stdin = []string{"config", "set", "--stack", stackName, mode, c.Key}, c.To.Value
	}
	cmd := exec.Command("pulumi", args...) // #nosec G204 -- a fixed program; the arguments are passed as argv, not to a shell
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pulumi %s %s: %w: %s", args[0], args[1], err, strings.TrimSpace(string(out)))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none recorded)"
	}
	return s
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
