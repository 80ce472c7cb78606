package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/platform-eng/lke-platform/internal/ghactions"
)

// result is one check's outcome, one line of the report: "ok    healthz     https://…/healthz: 200 OK".
type result struct {
	check  string // healthz, prometheus, application, dashboard
	target string // what was checked: a URL, a query, an Application, a ConfigMap
	ok     bool
	detail string // what was found; for a failure, what is wrong
}

func (r result) String() string {
	status := "ok"
	if !r.ok {
		status = "FAIL"
	}
	return fmt.Sprintf("%-5s %-11s %s: %s", status, r.check, r.target, r.detail)
}

func pass(check, target, format string, args ...any) []result {
	return []result{{check: check, target: target, ok: true, detail: fmt.Sprintf(format, args...)}}
}

func fail(check, target, format string, args ...any) []result {
	return []result{{check: check, target: target, detail: fmt.Sprintf(format, args...)}}
}

// maxDetail bounds a message quoted from elsewhere (a response body, Argo CD's condition), so that each
// result stays one readable line.
const maxDetail = 240

// shorten makes s one line of at most maxDetail characters: its start and its end, where a wrapped error's
// cause is ("Failed to load target state: … dial tcp: lookup charts.example: no such host").
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= maxDetail {
		return s
	}
	head := maxDetail / 3
	return string(r[:head]) + " … " + string(r[len(r)-(maxDetail-head-3):])
}

// report prints one line per result and a summary, plus an ::error:: annotation per failure when annotate
// (on GitHub Actions), and returns the exit code.
func report(w io.Writer, env string, results []result, annotate bool) int {
	failed := 0
	for _, r := range results {
		fmt.Fprintln(w, r)
		if !r.ok {
			failed++
		}
	}
	if failed == 0 {
		fmt.Fprintf(w, "smoke %s: all %d checks passed\n", env, len(results))
		return ExitPassed
	}
	if annotate {
		for _, r := range results {
			if !r.ok {
				ghactions.Error(w, "smoke "+env+": "+r.check, r.target+": "+r.detail)
			}
		}
	}
	fmt.Fprintf(w, "smoke %s: %d of %d checks failed\n", env, failed, len(results))
	return ExitFailed
}
