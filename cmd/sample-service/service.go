package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/platform-eng/lke-platform/internal/names"
)

// Metric names the platform's alert rules and end-to-end test rely on.
const (
	upMetric         = names.SampleServiceUpMetric
	secretKeysMetric = "sample_service_secret_keys"
)

// newRegistry holds the service's own gauges and the Go and process collectors. A private registry (not the
// global default) keeps tests independent of each other.
func newRegistry(secretsDir string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: upMetric,
			Help: "1 while the sample service is serving; the SampleServiceDown alert fires when it is 0 or absent.",
		}, func() float64 { return 1 }),
		// Counted at scrape time, so a rotated or newly mounted secret shows without a restart.
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: secretKeysMetric,
			Help: "Number of keys in the mounted secret directory (0 when it is missing).",
		}, func() float64 {
			n, _ := countSecretKeys(secretsDir)
			return float64(n)
		}),
	)
	return reg
}

func newHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// countSecretKeys counts the keys of a mounted Secret. The kubelet mounts each key as a symlink into a hidden
// "..data" directory and keeps timestamped hidden directories beside them, so hidden entries are skipped and
// symlinks followed.
func countSecretKeys(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		n++
	}
	return n, nil
}
