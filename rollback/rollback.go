// Package rollback plans the return of a stack to an earlier update of its history: the configuration that
// update ran with, key by key, so that the next `pulumi up` deploys what was deployed then. The program's code is
// the commit the update recorded; a checkout of another commit is refused, since config alone would not roll
// the code back.
package rollback

import (
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
)

// Value is one configuration value as the CLI prints it with --json (`pulumi config`, `pulumi stack history`):
// a string, or for a structured key its JSON text and the decoded object.
type Value struct {
	Value  string `json:"value"`
	Object any    `json:"objectValue,omitempty"`
	Secret bool   `json:"secret"`
}

// Config is a stack's configuration, by fully qualified key ("lke-platform:tracing").
type Config map[string]Value

// Update is one entry of `pulumi stack history --json`.
type Update struct {
	Version     int               `json:"version"`
	Kind        string            `json:"kind"`
	Result      string            `json:"result"`
	StartTime   string            `json:"startTime"`
	Environment map[string]string `json:"environment"`
	Config      Config            `json:"config"`
}

// Number gives every entry of a history (newest first, as the CLI lists it) its version. A self-managed backend
// (local files, object storage: the platform's) records none, so an entry's version is its place in the history,
// the oldest being 1, as Pulumi Cloud numbers its updates.
func Number(history []Update) {
	for i := range history {
		if history[i].Version == 0 {
			history[i].Version = len(history) - i
		}
	}
}

// same compares two values; structured ones by what they hold, not by how their JSON text is spaced.
func same(a, b Value) bool {
	if a.Secret != b.Secret || (a.Object == nil) != (b.Object == nil) {
		return false
	}
	if a.Object == nil {
		return a.Value == b.Value
	}
	ja, _ := json.Marshal(a.Object)
	jb, _ := json.Marshal(b.Object)
	return string(ja) == string(jb)
}

// Change is one configuration key to set back, or to remove because the target update did not have it.
type Change struct {
	Key    string
	From   Value // the stack's value now; zero when the key is not set now
	To     Value // the value the target update ran with; zero for a removal
	Remove bool
}

// String describes the change without ever showing a secret value.
func (c Change) String() string {
	show := func(v Value) string {
		if v.Secret {
			return "[secret]"
		}
		return fmt.Sprintf("%q", v.Value)
	}
	switch {
	case c.Remove:
		return fmt.Sprintf("remove %s (now %s)", c.Key, show(c.From))
	case c.From.Value == "" && c.From.Object == nil && !c.From.Secret:
		return fmt.Sprintf("set    %s = %s (not set now)", c.Key, show(c.To))
	case c.From.Secret || c.To.Secret:
		return fmt.Sprintf("set    %s = %s (the secret differs)", c.Key, show(c.To))
	default:
		return fmt.Sprintf("set    %s = %s (now %s)", c.Key, show(c.To), show(c.From))
	}
}

// Plan lists, in key order, what turns the current configuration into the target's.
func Plan(current, target Config) []Change {
	var changes []Change
	for _, key := range slices.Sorted(maps.Keys(target)) {
		want := target[key]
		if have, ok := current[key]; !ok || !same(have, want) {
			changes = append(changes, Change{Key: key, From: current[key], To: want})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(current)) {
		if _, ok := target[key]; !ok {
			changes = append(changes, Change{Key: key, From: current[key], Remove: true})
		}
	}
	slices.SortStableFunc(changes, func(a, b Change) int { return strings.Compare(a.Key, b.Key) })
	return changes
}

// Target finds version in a stack's history and checks that it is an update that succeeded: the state to go
// back to.
func Target(history []Update, version int) (Update, error) {
	for _, h := range history {
		if h.Version != version {
			continue
		}
		if h.Kind != "update" || h.Result != "succeeded" {
			return h, fmt.Errorf("version %d is a %s that %s; roll back to an update that succeeded "+
				"(see `pulumi stack history`)", version, h.Kind, resultVerb(h.Result))
		}
		return h, nil
	}
	var versions []string
	for _, h := range history {
		if h.Kind == "update" && h.Result == "succeeded" {
			versions = append(versions, fmt.Sprint(h.Version))
		}
	}
	return Update{}, fmt.Errorf("version %d is not in the stack's history; updates that succeeded: %s",
		version, strings.Join(versions, ", "))
}

func resultVerb(result string) string {
	if result == "" {
		return "has not finished"
	}
	return result
}

// CheckCommit refuses a rollback from a checkout other than the one the target update ran from: its
// configuration would then run with other code. recorded is the update's git.head ("" when it did not run
// from a git checkout, which cannot be checked); current is the checkout's HEAD.
func CheckCommit(version int, recorded, current string) error {
	if recorded == "" || recorded == current {
		return nil
	}
	return fmt.Errorf("version %d was deployed from commit %s, and this checkout is at %s: "+
		"run the rollback from a checkout of that commit (git worktree add ../rollback-%d %s)",
		version, recorded, current, version, recorded)
}

// PulumiJSON runs the pulumi CLI in dir with args and decodes what it prints (a --json command) into v. Its
// error carries the CLI's standard error, never its output, which may hold decrypted values.
func PulumiJSON(dir string, v any, args ...string) error {
	cmd := exec.Command("pulumi", args...) // #nosec G204 -- a fixed program; the arguments are passed as argv, not to a shell
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("pulumi %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return json.Unmarshal(out, v)
}

// History reads the stack's history, newest first and numbered (Number), secrets decrypted in memory: callers
// compare them and never print them.
func History(dir, stack string) ([]Update, error) {
	var history []Update
	if err := PulumiJSON(dir, &history, "stack", "history", "--stack", stack, "--json", "--show-secrets"); err != nil {
		return nil, fmt.Errorf("reading its history: %w", err)
	}
	Number(history)
	return history, nil
}
