//go:build integration

package tests

// The benchmark suite (bench/run, docs/performance.md). Each figure is a ratio against a baseline measured in
// the same run, or a slope, because these machines are noisy: seconds alone compare badly between runs. The
// figures are recorded, never asserted. The third benchmark, pulumi up against kubectl apply of the same
// objects, is TestBenchUpAgainstKubectl (bench/run only); TestPlatformDeploysEndToEnd measures it once too.
//
// The whole suite runs these tests at one quick point each (one stack's no-change preview; 1 and 10 services),
// beside the other tests, so that a broken benchmark fails CI; their figures then say nothing. bench/run sets
// LKE_PLATFORM_BENCH=full and runs them alone, at every point.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/config"
)

// fullBench reports whether this is bench/run's full run, rather than the quick point of the test suite.
func fullBench() bool { return os.Getenv("LKE_PLATFORM_BENCH") == "full" }

// benchRuns is how many times each timed preview runs, the median being the figure: LKE_PLATFORM_BENCH_RUNS
// (bench/run sets 3), else once, as the whole suite runs it.
func benchRuns(t *testing.T) int {
	raw := os.Getenv("LKE_PLATFORM_BENCH_RUNS")
	if raw == "" {
		return 1
	}
	n, err := strconv.Atoi(raw)
	require.NoError(t, err, "LKE_PLATFORM_BENCH_RUNS = %q: want a whole number of runs", raw)
	require.Positive(t, n, "LKE_PLATFORM_BENCH_RUNS = %q: want at least one run", raw)
	return n
}

// TestBenchPreview times the no-change preview of each environment's stack (with the policy pack, as CI runs it):
// the stack is first deployed on a fresh local control plane of its own, then previewed with nothing to change.
// The baseline is the no-change preview of an empty program with the same kubernetes provider, deployed the same
// way, timed right before each of the stack's previews: the figure is the median of the pairs' ratios, so the
// machine's drift over the minutes the test runs does not enter it. It also records the deployed stack's state
// (size and resources) and the peak memory of the program, the kubernetes provider, the pack and the CLI during
// the previews.
func TestBenchPreview(t *testing.T) {
	needsCluster(t)
	parallel(t)
	runs := benchRuns(t)
	environments := config.Environments
	if !fullBench() {
		environments = environments[:1]
	}
	preview := []string{"preview", "--policy-pack", policyPack, "--expect-no-changes"}

	empty := newCLI(t, "bench/emptyprogram")
	empty.stack("bench-empty", "lke-platform-empty:kubeconfigPath="+kubeconfig)
	empty.must("up", "-s", "bench-empty", "--yes", "--skip-preview") // builds the program: compiling is not part of a figure

	c := newCLI(t, "")
	for _, env := range environments {
		cp := startControlPlane(t, "lke-platform-bench-preview")
		stack := "bench-" + env
		c.platformStack(stack, env, cp.kubeconfig)
		var approved []string
		if env == config.Production {
			approved = approval(time.Hour) // the pack refuses an update of production without its record
		}
		out, err := c.run(approved, "up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack)
		require.NoError(t, err, out)
		state := c.stateSize(stack)
		var ratios, previews, baselines []float64
		peak := map[processRole]int64{}
		for range runs {
			baseline, _ := empty.bench(1, append(preview, "-s", "bench-empty")...)
			seconds, peaks := c.bench(1, append(preview, "-s", stack)...)
			for role, kb := range peaks {
				peak[role] = max(peak[role], kb)
			}
			ratios, previews, baselines = append(ratios, seconds/baseline), append(previews, seconds), append(baselines, baseline)
		}
		cp.stop()
		c.must("stack", "rm", "-s", stack, "--force", "--yes")
		figure(t, "no-change preview of %s / the empty program's, each right after the other (median of %d): ratio %.2f (runs: %s); preview %s s, empty program %s s; state after up %.2f MB, %d resources; peak RSS: program %s, kubernetes provider %s, policy pack %s, CLI %s",
			env, runs, median(ratios), joinRatios(ratios), joinSeconds(previews), joinSeconds(baselines),
			state.megabytes(), state.resources,
			mib(peak[roleProgram]), mib(peak[roleProvider]), mib(peak[rolePack]), mib(peak[roleCLI]))
	}
}

// TestBenchScaling times preview and up of the capacity program (tests/capacity: Deployment, Service and HPA
// per service, in a namespace built by the platform's Namespace component) with 1, 10, 30 and 100 services,
// each from an empty stack, and fits a line through each series: the slope is the cost of one more service.
func TestBenchScaling(t *testing.T) {
	needsCluster(t)
	parallel(t)
	c := newCLI(t, "tests/capacity")
	counts := []int{1, 10, 30, 100}
	if !fullBench() {
		counts = counts[:2]
	}
	previews := make([]float64, len(counts))
	ups := make([]float64, len(counts))
	for i, n := range counts {
		stack, ns := fmt.Sprintf("scale-%d", n), fmt.Sprintf("bench-scale-%d", n)
		c.must("stack", "init", stack)
		c.must("config", "set", "-s", stack, "--plaintext", "capacity:kubeconfigPath", kubeconfig)
		c.must("config", "set", "-s", stack, "capacity:namespace", ns)
		c.must("config", "set", "-s", stack, "capacity:services", strconv.Itoa(n))
		c.must("config", "set", "-s", stack, "capacity:servicesPerNamespace", strconv.Itoa(max(n, 30)))
		if i == 0 {
			c.must("preview", "-s", stack) // builds the program
		}
		previews[i], _ = c.bench(1, "preview", "-s", stack)
		ups[i], _ = c.bench(1, "up", "-s", stack, "--yes", "--skip-preview")
		deployments := get[struct{ Items []any }](t, "deployments", ns, "")
		require.Len(t, deployments.Items, n, "services deployed in %s", ns)
		// The stack is thrown away: deleting its namespace takes everything in it, in a fraction of what a
		// destroy would cost (destroy has its own tests).
		_, err := kubectl(t, "delete", "namespace", ns, "--wait=true", "--timeout=300s")
		require.NoError(t, err)
		c.must("stack", "rm", "-s", stack, "--force", "--yes")
	}
	previewSlope, previewFixed := fitLine(counts, previews)
	upSlope, upFixed := fitLine(counts, ups)
	figure(t, "scaling, preview of %s services (3 objects each): %s s; %.3f s per service + %.1f s fixed",
		joinCounts(counts), joinSeconds(previews), previewSlope, previewFixed)
	figure(t, "scaling, pulumi up of %s services: %s s; %.3f s per service + %.1f s fixed",
		joinCounts(counts), joinSeconds(ups), upSlope, upFixed)
}

// bench runs pulumi with args runs times and returns the median of the times taken and the peak resident memory
// of each process role seen over all runs.
func (c *cli) bench(runs int, args ...string) (float64, map[processRole]int64) {
	c.t.Helper()
	peak := map[processRole]int64{}
	times := make([]float64, 0, runs)
	for range runs {
		cmd := c.command(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		require.NoError(c.t, cmd.Start())
		stop, sampled := make(chan struct{}), make(chan map[processRole]int64)
		go func() { sampled <- samplePeaks(cmd.Process.Pid, stop) }()
		err := cmd.Wait()
		times = append(times, time.Since(start).Seconds())
		close(stop)
		for role, kb := range <-sampled {
			peak[role] = max(peak[role], kb)
		}
		require.NoError(c.t, err, "pulumi %s:\n%s", strings.Join(args, " "), out.String())
	}
	return median(times), peak
}

// processRole is what a process under the CLI is, by the name it was started with.
type processRole string

const (
	roleCLI      processRole = "cli"      // pulumi itself
	roleProgram  processRole = "program"  // the Go program: pulumi-go.<n> built by the language host, or go run's child
	roleProvider processRole = "provider" // pulumi-resource-kubernetes
	rolePack     processRole = "pack"     // the compiled policy pack
)

// roleOf is the role of a process by its argv[0] and its parent's. Under `go run` (scripts/env.sh), the program is
// the go command's child that is not one of its build tools (compile, link, under pkg/tool/).
func roleOf(argv0, parentArgv0 string) (processRole, bool) {
	switch name := filepath.Base(argv0); {
	case name == "pulumi":
		return roleCLI, true
	case strings.HasPrefix(name, "pulumi-go."),
		filepath.Base(parentArgv0) == "go" && !strings.Contains(argv0, "/pkg/tool/"):
		return roleProgram, true
	case name == "pulumi-resource-kubernetes":
		return roleProvider, true
	case name == filepath.Base(policyPack):
		return rolePack, true
	}
	return "", false
}

// samplePeaks reads, every 50 ms until stop closes, the peak resident set size (VmHWM, in KiB: the kernel's
// own high-water mark, so a spike between two samples is not missed) of every process under root, and returns
// the largest per role.
func samplePeaks(root int, stop <-chan struct{}) map[processRole]int64 {
	peak := map[processRole]int64{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		for pid, role := range roles(root) {
			if kb := highWaterMark(pid); kb > peak[role] {
				peak[role] = kb
			}
		}
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// roles maps root and every process under it (descendants, tests/faults_test.go) that has a role to that role.
func roles(root int) map[int]processRole {
	found := map[int]processRole{}
	for _, pid := range append(descendants(root), root) {
		argv0, ok := argv0Of(pid)
		if !ok {
			continue // gone since the listing
		}
		parent, _ := argv0Of(parentOf(pid))
		if role, ok := roleOf(argv0, parent); ok {
			found[pid] = role
		}
	}
	return found
}

// argv0Of is a process's argv[0], false once it is gone.
func argv0Of(pid int) (string, bool) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return string(argv0), true
}

// parentOf is a process's parent's pid, 0 once it is gone.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// After the command name (in parentheses, possibly holding spaces and parentheses): state, then the parent.
	if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 1 {
		ppid, _ := strconv.Atoi(f[1])
		return ppid
	}
	return 0
}

// highWaterMark is a process's VmHWM in KiB, or 0 once it is gone.
func highWaterMark(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// mib formats KiB as MiB; "-" when the process was never seen.
func mib(kb int64) string {
	if kb == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

func joinCounts(counts []int) string {
	parts := make([]string, len(counts))
	for i, n := range counts {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "/")
}

func joinSeconds(s []float64) string { return joinFloats("%.1f", s) }

// joinFloats formats each figure with format and joins them with " / ".
func joinFloats(format string, v []float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = fmt.Sprintf(format, f)
	}
	return strings.Join(parts, " / ")
}
