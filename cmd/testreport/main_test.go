package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func run(t *testing.T, events ...event) (string, bool) {
	t.Helper()
	var out strings.Builder
	r := newReport(&out)
	for _, e := range events {
		// Through JSON, as go test writes them.
		b, err := json.Marshal(e)
		assert.NoError(t, err)
		var back event
		assert.NoError(t, json.Unmarshal(b, &back))
		r.add(back)
	}
	ok := r.finish(2)
	return out.String(), ok
}

func TestPassingRunListsTheSlowest(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "run", Package: "p", Test: "TestA"},
		event{Action: "output", Package: "p", Test: "TestA", Output: "noise of a passing test\n"},
		event{Action: "pass", Package: "p", Test: "TestA/sub", Elapsed: 0.5},
		event{Action: "pass", Package: "p", Test: "TestA", Elapsed: 1.5},
		event{Action: "pass", Package: "p", Test: "TestB", Elapsed: 30},
		event{Action: "pass", Package: "p", Test: "TestC", Elapsed: 3},
		event{Action: "pass", Package: "p", Test: "TestQuick", Elapsed: 0.2},
		event{Action: "skip", Package: "p", Test: "TestD", Elapsed: 99},
		event{Action: "output", Package: "p", Output: "ok  \tp\t35s\n"},
		event{Action: "pass", Package: "p", Elapsed: 35},
	)
	assert.True(t, ok)
	assert.NotContains(t, out, "noise of a passing test")
	assert.NotContains(t, out, "TestA/sub", "subtests are in their parent's figure")
	assert.Contains(t, out, "--- PASS: TestB (30.0 s) p\n")
	assert.NotContains(t, out, "TestQuick", "a quick pass is counted in the package's summary")
	assert.Contains(t, out, "ok  \tp\t35s\n")
	assert.True(t, strings.HasSuffix(out, "--- the 2 slowest tests\n    30.0 s  TestB  p\n     3.0 s  TestC  p\n"), out)
}

func TestFailureShowsItsOutput(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "output", Package: "p", Test: "TestA/sub", Output: "want 1, got 2\n"},
		event{Action: "fail", Package: "p", Test: "TestA/sub", Elapsed: 1},
		event{Action: "fail", Package: "p", Test: "TestA", Elapsed: 1},
		event{Action: "fail", Package: "p", Elapsed: 1},
	)
	assert.False(t, ok)
	assert.Contains(t, out, "=== output of TestA (p)\nwant 1, got 2\n--- FAIL: TestA (1.0 s) p\n")
}

func TestRunCutShortFails(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "output", Package: "p", Test: "TestSlow", Output: "still waiting\n"},
	)
	assert.False(t, ok, "a test that never finished, and a package that never reported")
	assert.Contains(t, out, "still waiting")
	assert.Contains(t, out, "package p never reported its result")
}

func TestBuildFailureFails(t *testing.T) {
	out, ok := run(t,
		event{Action: "build-output", ImportPath: "p.test", Output: "p/x_test.go:3:1: syntax error\n"},
		event{Action: "build-fail", ImportPath: "p.test"},
	)
	assert.False(t, ok)
	assert.Contains(t, out, "syntax error")
}

func TestVerbosePrintsEverything(t *testing.T) {
	var out strings.Builder
	r := newReport(&out)
	r.verbose = true
	r.add(event{Action: "output", Package: "p", Test: "TestA", Output: "a log line of a passing test\n"})
	r.add(event{Action: "pass", Package: "p", Test: "TestA", Elapsed: 1})
	assert.True(t, r.finish(10))
	assert.Contains(t, out.String(), "a log line of a passing test\n--- PASS: TestA (1.0 s) p\n")
}

func TestParallelSubtestsCountForTheirParent(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "pass", Package: "p", Test: "TestRender/staging", Elapsed: 90},
		event{Action: "pass", Package: "p", Test: "TestRender/production", Elapsed: 120},
		event{Action: "pass", Package: "p", Test: "TestRender", Elapsed: 0},
		event{Action: "pass", Package: "p", Elapsed: 120},
	)
	assert.True(t, ok)
	assert.Contains(t, out, "--- PASS: TestRender (120.0 s) p\n")
}

func TestWaitingForATurnIsNotRunning(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "output", Package: "p", Test: "TestA", Output: "    harness_test.go:1: waited 100.5 s for its turn\n"},
		event{Action: "pass", Package: "p", Test: "TestA", Elapsed: 130.5},
		event{Action: "output", Package: "p", Test: "TestB/x", Output: "    harness_test.go:1: waited 50 s for its turn\n"},
		event{Action: "pass", Package: "p", Test: "TestB/x", Elapsed: 70},
		event{Action: "pass", Package: "p", Test: "TestB", Elapsed: 0},
		event{Action: "pass", Package: "p", Elapsed: 131},
	)
	assert.True(t, ok)
	assert.Contains(t, out, "--- PASS: TestA (30.0 s) p\n")
	assert.Contains(t, out, "--- PASS: TestB (20.0 s) p\n")
}
