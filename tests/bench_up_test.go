//go:build integration

package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBenchUpAgainstKubectl times pulumi up of the development stack (with the policy pack, as CI runs it) on a
// fresh control plane against kubectl apply --server-side of the same rendered objects on another, each until
// every workload is ready, one right after the other, LKE_PLATFORM_BENCH_RUNS times: the figure is the median of
// the runs' ratios. From each up's OpenTelemetry trace it also reads how long the up took to register its first
// resource (the CLI, the language host, the program's start). TestPlatformDeploysEndToEnd measures the same
// ratio once in every run of the suite, beside other tests; this repeats it alone, for bench/run.
func TestBenchUpAgainstKubectl(t *testing.T) {
	needsCluster(t)
	if !fullBench() {
		t.Skip("bench/run only: TestPlatformDeploysEndToEnd measures this ratio once in every run of the suite")
	}
	parallel(t)
	const env = "development"
	runs := benchRuns(t)
	dir := renderedCluster(t, env) // runs the program once: building it is not part of a figure
	c := newCLI(t, "")
	var ratios, ups, applies, firsts []float64
	for i := range runs {
		baseline := startControlPlane(t, "lke-platform-bench-kubectl")
		apply := applyRendered(t, baseline.kubeconfig, dir).Seconds()
		baseline.stop()

		target := startControlPlane(t, "lke-platform-bench-up")
		stack := fmt.Sprintf("bench-up-%d", i)
		c.platformStack(stack, env, target.kubeconfig)
		trace := filepath.Join(t.TempDir(), "trace.json")
		start := time.Now()
		c.must("up", "-s", stack, "--yes", "--skip-preview", "--policy-pack", policyPack, "--otel-traces", "file://"+trace)
		up := time.Since(start).Seconds()
		target.stop()
		c.must("stack", "rm", "-s", stack, "--force", "--yes")

		ratios, ups, applies = append(ratios, up/apply), append(ups, up), append(applies, apply)
		firsts = append(firsts, firstRegistration(t, trace))
	}
	figure(t, "pulumi up of the development stack / kubectl apply of the same objects, until every workload is ready (median of %d runs, one after the other): ratio %.2f (runs: %s); up %s s, kubectl %s s; first resource registered %s s after the up started",
		runs, median(ratios), joinRatios(ratios), joinSeconds(ups), joinSeconds(applies), joinSeconds(firsts))
}

// firstRegistration reads an up's OpenTelemetry trace (--otel-traces file://, one JSON export per line) and
// returns the seconds from the CLI's root span to the first resource registration of the program.
func firstRegistration(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var export struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Spans []struct {
					Name  string `json:"name"`
					Start string `json:"startTimeUnixNano"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	var root, first int64
	earliest := func(v *int64, s string) {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err)
		if *v == 0 || n < *v {
			*v = n
		}
	}
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 1<<20), 64<<20)
	for lines.Scan() {
		require.NoError(t, json.Unmarshal(lines.Bytes(), &export))
		for _, rs := range export.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					switch sp.Name {
					case "pulumi":
						earliest(&root, sp.Start)
					case "pulumirpc.ResourceMonitor/RegisterResource":
						earliest(&first, sp.Start)
					}
				}
			}
		}
		export.ResourceSpans = nil
	}
	require.NoError(t, lines.Err())
	require.True(t, root > 0 && first > 0, "no CLI span or no resource registration in %s", path)
	return float64(first-root) / 1e9
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

func joinRatios(v []float64) string { return joinFloats("%.2f", v) }
