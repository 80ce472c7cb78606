// Command testreport reads `go test -json` on standard input and prints what a person wants from a long run:
// each top-level test's result and time as it ends (passing tests under a second are left to their package's
// summary line), the whole output of every test that failed, each package's summary, and at the end the ten
// slowest tests, so that every CI log shows where the time goes. A test's time is its running time: what it
// waited for its turn to run beside others (a "waited N s for its turn" line in its log) is taken out. With -v
// it prints every test's output as it comes, as `go test -v` would. It exits 1 when a test or a package failed, or when the input ends before every
// package has reported.
//
//	go test -json ./... | go run ./cmd/testreport [-v] [-top N]
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json), or of the build events go test interleaves with them.
type event struct {
	Time       time.Time
	Action     string
	Package    string
	ImportPath string // build events: the package being built
	Test       string
	Elapsed    float64 // seconds
	Output     string
}

// quick is how long a passing test may take and go unlisted as it ends (hundreds of unit tests take less; the
// package's summary line counts them).
const quick = 1.0 // seconds

// waitedLine is what a test logs when it waited for its turn to run beside others (tests/harness_test.go,
// parallel): go test counts that wait in the test's time, and the report takes it out.
var waitedLine = regexp.MustCompile(`waited ([0-9]+(?:\.[0-9]+)?) s for its turn`)

// result is a finished top-level test.
type result struct {
	Package, Test string
	Elapsed       float64
}

// longest is how long a top-level test took: its own time, or its longest subtest's when that is longer (a test
// whose subtests run in parallel returns before they do, and reports almost nothing itself).
type longest map[string]float64

// report accumulates a run.
type report struct {
	out     io.Writer
	verbose bool                        // print every test's output as it comes
	output  map[string]*strings.Builder // by package and top-level test: the test's and its subtests' output
	results []result
	open    map[string]bool    // packages that started and have not reported
	subtest longest            // by package and top-level test: its longest subtest so far
	waited  map[string]float64 // by package and (sub)test: seconds it waited for its turn
	failed  bool
}

func newReport(out io.Writer) *report {
	return &report{out: out, output: map[string]*strings.Builder{}, open: map[string]bool{}, subtest: longest{}, waited: map[string]float64{}}
}

// topLevel is the top-level test a (sub)test belongs to.
func topLevel(test string) string {
	name, _, _ := strings.Cut(test, "/")
	return name
}

func (r *report) add(e event) {
	if e.Test == "" {
		r.addPackage(e)
		return
	}
	key := e.Package + " " + topLevel(e.Test)
	own := e.Package + " " + e.Test
	switch e.Action {
	case "output":
		if m := waitedLine.FindStringSubmatch(e.Output); m != nil {
			seconds, _ := strconv.ParseFloat(m[1], 64)
			r.waited[own] += seconds
		}
		if r.verbose {
			fmt.Fprint(r.out, e.Output)
			return
		}
		b := r.output[key]
		if b == nil {
			b = &strings.Builder{}
			r.output[key] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		running := e.Elapsed - r.waited[own]
		delete(r.waited, own)
		if e.Test != topLevel(e.Test) {
			r.subtest[key] = max(r.subtest[key], running)
			return // a subtest: its lines are in its parent's output
		}
		elapsed := max(running, r.subtest[key])
		if e.Action == "fail" {
			r.failed = true
			fmt.Fprintf(r.out, "=== output of %s (%s)\n", e.Test, e.Package)
			if b := r.output[key]; b != nil {
				fmt.Fprint(r.out, b.String())
			}
		}
		if e.Action != "pass" || elapsed >= quick || r.verbose {
			fmt.Fprintf(r.out, "--- %s: %s (%.1f s) %s\n", strings.ToUpper(e.Action), e.Test, elapsed, e.Package)
		}
		delete(r.output, key)
		delete(r.subtest, key)
		if e.Action != "skip" {
			r.results = append(r.results, result{e.Package, e.Test, elapsed})
		}
	}
}

// addPackage prints what belongs to no test (build errors, the package's summary line, a panic's trace).
func (r *report) addPackage(e event) {
	switch e.Action {
	case "start":
		r.open[e.Package] = true
	case "output", "build-output":
		fmt.Fprint(r.out, e.Output)
	case "fail", "build-fail":
		r.failed = true
		delete(r.open, e.Package)
	case "pass", "skip":
		delete(r.open, e.Package)
	}
}

// finish prints the output of tests still running (a timeout or a crash ends the input without their result)
// and the slowest tests, and says whether the run passed.
func (r *report) finish(top int) bool {
	for _, key := range slices.Sorted(maps.Keys(r.output)) {
		fmt.Fprintf(r.out, "=== output of %s, which never finished\n%s", key, r.output[key].String())
		r.failed = true
	}
	for _, pkg := range slices.Sorted(maps.Keys(r.open)) {
		fmt.Fprintf(r.out, "package %s never reported its result\n", pkg)
		r.failed = true
	}
	slices.SortFunc(r.results, func(a, b result) int { return cmp.Compare(b.Elapsed, a.Elapsed) })
	fmt.Fprintf(r.out, "--- the %d slowest tests\n", min(top, len(r.results)))
	for _, res := range r.results[:min(top, len(r.results))] {
		fmt.Fprintf(r.out, "%8.1f s  %s  %s\n", res.Elapsed, res.Test, res.Package)
	}
	return !r.failed
}

func main() {
	top := flag.Int("top", 10, "how many of the slowest tests to list")
	verbose := flag.Bool("v", false, "print every test's output as it comes")
	flag.Parse()
	r := newReport(os.Stdout)
	r.verbose = *verbose
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		var e event
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			fmt.Println(in.Text()) // not an event: go's own message (a vet or build failure before the JSON)
			continue
		}
		r.add(e)
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport: reading go test -json:", err)
		os.Exit(1)
	}
	if !r.finish(*top) {
		os.Exit(1)
	}
}
