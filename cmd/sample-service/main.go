// Command sample-service is the platform's sample workload: it answers /healthz, exposes Prometheus metrics on
// /metrics (sample_service_up, and the number of keys in its mounted secret directory, which proves the mount)
// and shuts down gracefully on SIGTERM. It is what the SampleService component deploys and what the end-to-end
// test scrapes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Defaults; the component sets SECRETS_DIR to the same mount path.
const (
	defaultListen     = ":8080"
	defaultSecretsDir = "/etc/sample-service/secrets" // #nosec G101 -- a mount path, not a credential
)

// Server timeouts. WriteTimeout exceeds the ServiceMonitor's 10s scrape timeout; ShutdownTimeout stays below the
// pod's default 30s termination grace period so in-flight requests finish before the kubelet sends SIGKILL.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	shutdownTimeout   = 20 * time.Second
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, logger); err != nil {
		logger.Error("sample-service stopped", "error", err)
		os.Exit(1)
	}
}

// config is the service's settings: flags win over the environment, which wins over the defaults.
type config struct {
	Listen     string
	SecretsDir string
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	orDefault := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("sample-service", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Listen, "listen", orDefault("LISTEN_ADDR", defaultListen), "address to listen on (env LISTEN_ADDR)")
	fs.StringVar(&c.SecretsDir, "secrets-dir", orDefault("SECRETS_DIR", defaultSecretsDir), "directory of the mounted secret (env SECRETS_DIR)")
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, nil
}

// run serves until ctx is cancelled, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	// Only the count is logged: key names may be telling, values are never read into the log.
	if n, err := countSecretKeys(cfg.SecretsDir); err != nil {
		logger.Warn("secret directory unreadable; reporting 0 keys", "dir", cfg.SecretsDir, "error", err)
	} else {
		logger.Info("secret directory mounted", "dir", cfg.SecretsDir, "keys", n)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	return serve(ctx, ln, newHandler(newRegistry(cfg.SecretsDir)), logger)
}

// serve runs an HTTP server on ln until ctx is cancelled, then lets in-flight requests finish (up to
// shutdownTimeout).
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}
