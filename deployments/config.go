package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// namespace is this project's config namespace (its name in Pulumi.yaml).
const namespace = "lke-platform-deployments"

// Config is the validated configuration of the Deployments project. Defaults live in Pulumi.yaml only.
type Config struct {
	Organization string
	Repository   string
	Stacks       []string
	// ReviewStackExpiry is when the review template stack is destroyed; zero for no TTL schedule.
	ReviewStackExpiry time.Time
}

var (
	// Pulumi Cloud organization names: letters, digits, hyphens, underscores and dots.
	organizationName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	// GitHub owner/name.
	repositoryName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
)

// problem is one invalid value: which key, what it was, and what is allowed instead.
type problem struct{ key, value, allowed string }

func (p problem) String() string {
	if p.value == "" {
		return fmt.Sprintf("%s:%s is not set; want %s", namespace, p.key, p.allowed)
	}
	return fmt.Sprintf("%s:%s = %q is not allowed; want %s", namespace, p.key, p.value, p.allowed)
}

// ConfigError lists every problem of the configuration at once.
type ConfigError struct{ Problems []problem }

func (e *ConfigError) Error() string {
	lines := []string{fmt.Sprintf("invalid stack configuration (%d problems; fix them with `pulumi config set`):", len(e.Problems))}
	for _, p := range e.Problems {
		lines = append(lines, "  - "+p.String())
	}
	return strings.Join(lines, "\n")
}

// parseConfig validates every key; get reads a key of this project's namespace (ok false when it is not set).
func parseConfig(get func(key string) (string, bool)) (*Config, error) {
	var errs []problem
	fail := func(key, value, allowed string) { errs = append(errs, problem{key, value, allowed}) }
	cfg := &Config{}

	cfg.Organization, _ = get("organization")
	if !organizationName.MatchString(cfg.Organization) {
		fail("organization", cfg.Organization, "the name of the Pulumi Cloud organization holding the lke-platform stacks (letters, digits, '-', '_', '.')")
	}

	cfg.Repository, _ = get("repository")
	if !repositoryName.MatchString(cfg.Repository) {
		fail("repository", cfg.Repository, "a GitHub repository as owner/name, such as platform-eng/lke-platform")
	}

	allowed := "a non-empty JSON list of distinct stacks out of " + strings.Join(stackNames(), ", ")
	raw, _ := get("stacks")
	if err := json.Unmarshal([]byte(raw), &cfg.Stacks); err != nil || len(cfg.Stacks) == 0 {
		fail("stacks", raw, allowed)
	} else {
		seen := map[string]bool{}
		for i, s := range cfg.Stacks {
			key := fmt.Sprintf("stacks[%d]", i)
			if _, ok := stackTable[s]; !ok {
				fail(key, s, "one of "+strings.Join(stackNames(), ", "))
			} else if seen[s] {
				fail(key, s, "each stack once")
			}
			seen[s] = true
		}
	}

	if raw, _ := get("reviewStackExpiry"); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			fail("reviewStackExpiry", raw, `an RFC 3339 time such as "2026-12-31T18:00:00Z", or "" for no TTL schedule`)
		}
		cfg.ReviewStackExpiry = t.UTC()
	}

	if len(errs) > 0 {
		return nil, &ConfigError{Problems: errs}
	}
	return cfg, nil
}

// stackNames are the stacks this project knows, in promotion order.
func stackNames() []string {
	names := make([]string, 0, len(stackTable))
	for name := range stackTable {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return stackTable[a].order - stackTable[b].order })
	return names
}
