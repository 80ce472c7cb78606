// Package localargocd runs Argo CD's reconciliation loop as local processes against a control plane: Redis, the
// repo-server, the application controller and the notifications controller (one multi-call binary,
// scripts/toolchain builds it), and a git daemon on loopback serving repositories from a folder. It is what the
// GitOps tests use to prove that Argo CD syncs this repository for real: on a real cluster the same components
// run as the pods of Argo CD's install.
//
// Start starts what needs nothing from the cluster (Redis, the git daemon, the repo-server), so a stack can be
// configured with the daemon's URL before its first update; StartController and StartNotifications start the
// controllers once the cluster holds their settings (the ConfigMaps of the install, which the program's gitops
// bootstrap applies), as their pods would start once they are there.
package localargocd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Binaries are the programs Start runs, looked up on PATH: Debian's redis-server and git, and scripts/toolchain's
// Argo CD links and helm (which the repo-server runs for Helm sources, as `argocd` runs git's password prompts).
var Binaries = []string{
	"redis-server", "git", "argocd", "argocd-repo-server", "argocd-application-controller", "argocd-notifications", "helm",
}

// Options configure Start.
type Options struct {
	Kubeconfig string // the control plane the controller deploys to, as its in-cluster destination
	Namespace  string // Argo CD's namespace on it: its ConfigMaps, Secret and Applications live there
	Dir        string // a private folder: logs, sockets, temporary files, and the git daemon's repositories
	GitPort    int    // the git daemon's port, so repository URLs outlive a restart; 0 picks a free one
}

// ArgoCD is a running loop. Stop ends every process it started.
type ArgoCD struct {
	GitURL string // git://127.0.0.1:<port>/: a repository in Dir/git/<name>.git is <GitURL><name>.git
	Dir    string // Options.Dir

	opts                Options
	env                 []string
	redisAddr, repoAddr string
	controllerMetrics   int
	notificationMetrics int
	procs               []*process
}

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Start starts Redis, the git daemon and the repo-server, each on free loopback ports, and returns once each of
// them accepts connections. On any failure it stops what it started and returns the failure with the end of that
// component's log.
func Start(ctx context.Context, opts Options) (*ArgoCD, error) {
	for _, bin := range Binaries {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("localargocd: %s is not on PATH (scripts/toolchain builds Argo CD and helm; "+
				"scripts/system-packages installs redis-server and git)", bin)
		}
	}
	if opts.Kubeconfig == "" || opts.Namespace == "" || opts.Dir == "" {
		return nil, errors.New("localargocd: Options need Kubeconfig, Namespace and Dir")
	}
	a := &ArgoCD{Dir: opts.Dir, opts: opts}
	for _, sub := range []string{"git", "tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	redis, git, repo, repoMetrics := ports[0], ports[1], ports[2], ports[3]
	if opts.GitPort != 0 {
		git = opts.GitPort
	}
	a.controllerMetrics, a.notificationMetrics = ports[4], ports[5]
	a.redisAddr = "127.0.0.1:" + strconv.Itoa(redis)
	a.repoAddr = "127.0.0.1:" + strconv.Itoa(repo)
	a.GitURL = fmt.Sprintf("git://127.0.0.1:%d/", git)

	// Argo CD's components read their settings from the environment as well as from flags: a private TMPDIR
	// (the repo-server checks repositories out there), no GPG (it would need a keyring), and the socket through
	// which git asks `argocd` for credentials kept inside Dir.
	a.env = append(os.Environ(),
		"TMPDIR="+filepath.Join(opts.Dir, "tmp"),
		"ARGOCD_GPG_ENABLED=false",
		"ARGOCD_ASK_PASS_SOCK="+filepath.Join(opts.Dir, "tmp", "askpass.sock"),
		"KUBECONFIG="+opts.Kubeconfig,
		// The controller's in-cluster destination (https://kubernetes.default.svc) is the kubeconfig's server.
		"ARGOCD_FAKE_IN_CLUSTER=true",
	)
	steps := []struct {
		name string
		addr string
		args []string
	}{
		{"redis", a.redisAddr, []string{"redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(redis),
			"--save", "", "--appendonly", "no"}},
		{"git-daemon", fmt.Sprintf("127.0.0.1:%d", git), []string{"git", "daemon", "--reuseaddr", "--export-all",
			"--listen=127.0.0.1", "--port=" + strconv.Itoa(git), "--base-path=" + filepath.Join(opts.Dir, "git"),
			filepath.Join(opts.Dir, "git")}},
		{"repo-server", a.repoAddr, []string{"argocd-repo-server", "--address", "127.0.0.1", "--port", strconv.Itoa(repo),
			"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(repoMetrics), "--disable-tls",
			"--redis", a.redisAddr, "--loglevel", "info"}},
	}
	for _, s := range steps {
		if err := a.run(ctx, s.name, s.addr, s.args); err != nil {
			a.Stop()
			return nil, err
		}
	}
	return a, nil
}

// StartController waits until Argo CD's settings (the argocd-cm ConfigMap) are in its namespace, then starts
// the application controller, which watches that namespace's Applications and deploys them to the kubeconfig's
// cluster, and returns once it serves its metrics. ctx bounds the wait.
func (a *ArgoCD) StartController(ctx context.Context) error {
	if err := a.awaitConfigMap(ctx, "argocd-cm"); err != nil {
		return err
	}
	return a.run(ctx, "application-controller", fmt.Sprintf("127.0.0.1:%d", a.controllerMetrics), []string{
		"argocd-application-controller", "--kubeconfig", a.opts.Kubeconfig, "--namespace", a.opts.Namespace,
		"--repo-server", a.repoAddr, "--repo-server-plaintext", "--redis", a.redisAddr,
		"--metrics-port", strconv.Itoa(a.controllerMetrics), "--loglevel", "info",
		// Resync every 30 s instead of 3 min: commits are still picked up at once by a refresh.
		"--app-resync", "30"})
}

// StartNotifications waits until the notifications controller's settings (argocd-notifications-cm) are in Argo
// CD's namespace, then starts the controller, which sends the Applications' events where those settings say,
// and returns once it serves its metrics. ctx bounds the wait.
func (a *ArgoCD) StartNotifications(ctx context.Context) error {
	if err := a.awaitConfigMap(ctx, "argocd-notifications-cm"); err != nil {
		return err
	}
	return a.run(ctx, "notifications-controller", fmt.Sprintf("127.0.0.1:%d", a.notificationMetrics), []string{
		"argocd-notifications", "--kubeconfig", a.opts.Kubeconfig, "--namespace", a.opts.Namespace,
		"--argocd-repo-server", a.repoAddr, "--argocd-repo-server-plaintext",
		"--metrics-port", strconv.Itoa(a.notificationMetrics), "--loglevel", "info"})
}

// awaitConfigMap waits until the ConfigMap is in Argo CD's namespace, as a pod mounting it would.
func (a *ArgoCD) awaitConfigMap(ctx context.Context, name string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", a.opts.Kubeconfig)
	if err != nil {
		return fmt.Errorf("localargocd: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("localargocd: %w", err)
	}
	for {
		_, err := client.CoreV1().ConfigMaps(a.opts.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localargocd: Argo CD's settings (ConfigMap %s/%s) never appeared: %w", a.opts.Namespace, name, err)
		case <-time.After(time.Second):
		}
	}
}

// run starts a component and waits until it listens on addr.
func (a *ArgoCD) run(ctx context.Context, name, addr string, args []string) error {
	p, err := a.start(name, args)
	if err != nil {
		return err
	}
	return p.awaitListening(ctx, addr, time.Minute)
}

func (a *ArgoCD) start(name string, args []string) (*process, error) {
	logPath := filepath.Join(a.Dir, "logs", name+".log")
	logFile, err := os.Create(logPath) // #nosec G304 -- in the loop's own folder (Dir), under a name of this package
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...) // #nosec G204 -- one of Argo CD's components, named by this package, passed as argv
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = a.env, a.Dir, logFile, logFile
	// Its own process group, so Stop ends what it starts as well (the repo-server's git and helm).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("localargocd: starting %s: %w", name, err), logFile.Close())
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = errors.Join(cmd.Wait(), logFile.Close()); close(p.done) }()
	a.procs = append(a.procs, p)
	return p, nil
}

// awaitListening waits until addr accepts a connection, failing early if the process ends.
func (p *process) awaitListening(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-p.done:
			return fmt.Errorf("localargocd: %s exited (%v) before listening on %s:\n%s", p.name, p.err, addr, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localargocd: %s not listening on %s after %s:\n%s", p.name, addr, timeout, p.tail())
		}
	}
}

// tail is the end of the process's log, for an error message.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}

// Logs is the end of each component's log, for a failing test's report.
func (a *ArgoCD) Logs() string {
	var b strings.Builder
	for _, p := range a.procs {
		fmt.Fprintf(&b, "--- %s (%s)\n%s\n", p.name, p.log, p.tail())
	}
	return b.String()
}

// PIDs are the process IDs of the running components (each leads its own process group), for a caller that
// leaves them running after it exits and stops them later (cmd/local-argocd).
func (a *ArgoCD) PIDs() []int {
	var pids []int
	for _, p := range a.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// Exited reports a component that has ended although Stop was not called, with the end of its log.
func (a *ArgoCD) Exited() error {
	for _, p := range a.procs {
		select {
		case <-p.done:
			return fmt.Errorf("localargocd: %s exited (%v):\n%s", p.name, p.err, p.tail())
		default:
		}
	}
	return nil
}

// Stop ends every component, the last started first, and waits for each.
func (a *ArgoCD) Stop() {
	for i := len(a.procs) - 1; i >= 0; i-- {
		p := a.procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	a.procs = nil
}

// FreePort returns a loopback port nobody listens on now.
func FreePort() (int, error) {
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// freePorts returns n loopback ports nobody listens on, held open together so that they differ.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close() // only held to keep the ports apart; nothing was sent
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
