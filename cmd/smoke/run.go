package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/internal/ghactions"
	"github.com/platform-eng/lke-platform/platform"
)

// Exit codes, as cmd/drift's and cmd/rotation-check's: 2 is the finding, 1 a command that could not look.
const (
	ExitPassed = 0 // every check passed
	ExitError  = 1 // the command could not run: a bad flag, an unreadable kubeconfig or CA file
	ExitFailed = 2 // at least one check failed
)

// options are the command's flags.
type options struct {
	Environment         string
	Kubeconfig          string // empty: $KUBECONFIG, else ~/.kube/config, as kubectl
	Context             string // empty: the kubeconfig's current context
	Prometheus          string // Prometheus' base URL
	ConnectTo           string // host:port to dial for the Ingress host instead of resolving it; empty: resolve
	CA                  string // a PEM file of extra trusted roots for the Ingress host's certificate
	Wait                time.Duration
	Interval            time.Duration
	ArgoCDNamespace     string
	Namespace           string // the sample service's; empty: "<environment>-apps"
	MonitoringNamespace string
}

const usage = `usage: smoke -environment ENV -prometheus URL [flags]
  exit code 0: every check passed; 2: a check failed; 1: the command could not run
`

// parse reads the command line (args without the program name). Its errors name the flag and what it wants.
func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Environment, "environment", "", "the environment to check: "+strings.Join(config.Environments, ", ")+" (required)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "the cluster's kubeconfig (default: $KUBECONFIG, else ~/.kube/config, as kubectl)")
	fs.StringVar(&o.Context, "context", "", "the kubeconfig's context to use (default: its current context)")
	fs.StringVar(&o.Prometheus, "prometheus", "", "Prometheus' base URL, e.g. http://127.0.0.1:9090 through "+
		"kubectl -n monitoring port-forward svc/prometheus-operated 9090 (required)")
	fs.StringVar(&o.ConnectTo, "connect-to", "", "HOST:PORT to connect to for the Ingress host instead of its DNS "+
		"record, like curl --connect-to (TLS still checks the Ingress host's name)")
	fs.StringVar(&o.CA, "ca", "", "a PEM file of roots to trust besides the system's for the Ingress host's "+
		"certificate (e.g. Let's Encrypt staging's)")
	fs.DurationVar(&o.Wait, "wait", 0, "check again what failed until everything passes or this time is up (0: once)")
	fs.DurationVar(&o.Interval, "interval", 10*time.Second, "the time between two checks with -wait")
	fs.StringVar(&o.ArgoCDNamespace, "argocd-namespace", platform.ArgoCDNamespace, "Argo CD's namespace, where the Applications are")
	fs.StringVar(&o.Namespace, "namespace", "", "the sample service's namespace (default: <environment>-apps, "+
		"the stack's first namespace as Pulumi.yaml defaults it)")
	fs.StringVar(&o.MonitoringNamespace, "monitoring-namespace", "monitoring", "the monitoring namespace "+
		"(the stack's monitoringNamespace), where the dashboard's ConfigMap is")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q: every input is a flag (-environment, -prometheus, ...)", fs.Args())
	}
	if o.Namespace == "" {
		o.Namespace = o.Environment + "-apps"
	}
	return o, o.validate()
}

// validate reports every bad flag at once.
func (o options) validate() error {
	var errs []error
	if !slices.Contains(config.Environments, o.Environment) {
		errs = append(errs, fmt.Errorf("-environment %q: want one of %s", o.Environment, strings.Join(config.Environments, ", ")))
	}
	if u, err := url.Parse(o.Prometheus); o.Prometheus == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("-prometheus %q: want Prometheus' base URL, such as http://127.0.0.1:9090", o.Prometheus))
	}
	if o.ConnectTo != "" {
		if host, port, err := net.SplitHostPort(o.ConnectTo); err != nil || host == "" || port == "" {
			errs = append(errs, fmt.Errorf("-connect-to %q: want HOST:PORT, such as 203.0.113.10:443", o.ConnectTo))
		}
	}
	if o.Wait < 0 {
		errs = append(errs, fmt.Errorf("-wait %s: want a duration of 0 or more", o.Wait))
	}
	if o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("-interval %s: want a positive duration", o.Interval))
	}
	return errors.Join(errs...)
}

// Main is the whole command: parse the flags, connect, check, report. It returns the exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPassed
	}
	if err != nil {
		fmt.Fprintf(stderr, "smoke: %v\n", err)
		return ExitError
	}
	s, err := newSmoke(o)
	if err != nil {
		fmt.Fprintf(stderr, "smoke: %v\n", err)
		return ExitError
	}
	results := runChecks(ctx, s.checks(), o.Wait, o.Interval, stderr)
	return report(stdout, o.Environment, results, ghactions.Enabled(getenv))
}

// newSmoke builds the clients the checks use from the options.
func newSmoke(o options) (*smoke, error) {
	kube, dyn, err := kubeClients(o.Kubeconfig, o.Context)
	if err != nil {
		return nil, err
	}
	client, err := healthzClient(o.CA, o.ConnectTo)
	if err != nil {
		return nil, err
	}
	prom, err := promapi.NewClient(promapi.Config{Address: o.Prometheus})
	if err != nil {
		return nil, fmt.Errorf("-prometheus %q: %w", o.Prometheus, err)
	}
	return &smoke{
		env: o.Environment, namespace: o.Namespace, monitoringNamespace: o.MonitoringNamespace,
		argoCDNamespace: o.ArgoCDNamespace, kube: kube, dynamic: dyn, http: client, connectTo: o.ConnectTo,
		prometheus: promv1.NewAPI(prom), prometheusURL: o.Prometheus,
	}, nil
}

// kubeClients connects to the cluster of a kubeconfig, as kubectl would with --kubeconfig and --context.
func kubeClients(kubeconfig, kubeContext string) (kubernetes.Interface, dynamic.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("the kubeconfig (-kubeconfig, else $KUBECONFIG, else ~/.kube/config): %w", err)
	}
	cfg.Timeout = 20 * time.Second // an unreachable API server fails its checks instead of hanging them
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("the kubeconfig's cluster: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("the kubeconfig's cluster: %w", err)
	}
	return kube, dyn, nil
}

// healthzClient is the client of the healthz check: the system's roots plus caFile's, every connection to
// connectTo when it is set, and redirects not followed (a /healthz that redirects, to a login page say, fails).
func healthzClient(caFile, connectTo string) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile) // #nosec G304 -- the CA file the operator names (-ca)
		if err != nil {
			return nil, fmt.Errorf("-ca: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca %s: no PEM certificate in it", caFile)
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if connectTo != "" {
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		transport.Proxy = nil // the address is given: no proxy in between
		transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, connectTo)
		}
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
