//go:build integration

package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultCluster is the control plane the fault tests break: their own, so that stopping its API server never
// disturbs the shared one (TestMain's).
const faultCluster = "lke-platform-faults"

// Services of the fault stack: enough that an up takes some seconds (3 objects each), few enough to stay cheap.
const (
	faultServices      = 8  // the first up, interrupted by the API server
	faultServicesKill  = 12 // the update killed mid-way adds services
	faultServicesLocks = 14 // so do the concurrent ups
)

// TestFaults injects faults into updates of the capacity program (tests/capacity: a namespace plus N
// Deployment/Service/HPA placeholders) on a control plane of its own, one after the other on one stack: the
// API server dies mid-up, the CLI is killed mid-update, objects are deleted behind the program's back, and two
// ups of the stack race. After each, the documented recovery (docs/runbooks/interrupted-update.md) brings the
// stack back to exactly the objects the program declares, with a valid state and nothing left to change.
func TestFaults(t *testing.T) {
	needsCluster(t)
	parallel(t)
	cp := startControlPlane(t, faultCluster)
	c := newCLI(t, "tests/capacity")
	fs := &faultStack{c: c, cp: cp, name: "faults", backend: c.backend()}
	c.must("stack", "init", fs.name)
	c.must("config", "set", "-s", fs.name, "--plaintext", "capacity:kubeconfigPath", cp.kubeconfig)
	fs.setServices(faultServices)
	c.must("preview", "-s", fs.name) // builds the program once: later commands reuse the build cache

	for _, step := range []struct {
		name string
		run  func(*testing.T, *faultStack)
	}{
		{"api server stopped mid-up", apiServerStoppedMidUp},
		{"process killed mid-update", processKilledMidUpdate},
		{"object deleted behind the program", objectDeletedBehindProgram},
		{"concurrent up", concurrentUp},
	} {
		// Each step starts from the state the previous one converged to: stop at the first that fails.
		if !t.Run(step.name, func(t *testing.T) { c.t = t; step.run(t, fs) }) {
			return
		}
	}
}

// apiServerStoppedMidUp kills the API server in the middle of the first up: as soon as the namespace is created,
// while its guard rails are being created and before any placeholder (which waits for all of them), so that no
// object is left being awaited (a Service created just before the stop is awaited 10 s more). The trigger is read
// from the up's own output (kubectl polling is too slow). The API server stays down until the up has ended on its
// own: the calls in flight fail with the connection reset, any later one with the connection refused (on a quiet
// machine every guard rail's call is in flight, so there is no later one). The up fails naming the API server, the
// state stays valid with nothing pending, and once the API server is back a plain up converges: no refresh or
// state edit is needed, because the provider reports each failed call and the engine records it.
func apiServerStoppedMidUp(t *testing.T, fs *faultStack) {
	up := fs.start(t)
	up.waitFor(t, "Namespace "+capacityNamespace+" created", 2*time.Minute)
	fs.cp.stopAPIServer(t)
	out, err := up.wait(t, 3*time.Minute)
	require.Error(t, err, "the up must fail when the API server stops:\n%s", out)
	// Which error a call sees depends on where the kill finds it: reading, writing, or dialling anew.
	assert.Regexp(t, `"https://`+regexp.QuoteMeta(fs.cp.server)+`/[^"]+": ((read|write) tcp [^ ]+: (read|write): connection reset by peer|dial tcp [^ ]+: connect: connection refused)`,
		out, "a call fails with the connection error, naming the API server")
	assert.Contains(t, out, "was not successfully created by the Kubernetes API server")

	st := fs.state(t) // the diy backend needs no API server
	assert.Empty(t, st.pending, "a failed call leaves nothing pending")
	fs.importState(t)

	fs.cp.restart(t)
	fs.mustConverge(t, faultServices)
}

// processKilledMidUpdate SIGKILLs every process of an up (CLI, language host, program, provider), as losing
// the runner would, while it adds services. The diy backend's lock stays behind and refuses the next update,
// naming the dead process; the state holds the interrupted creates as pending operations. The recovery is
// `pulumi cancel` (on a diy backend it deletes the stack's lock files), then `pulumi refresh
// --clear-pending-creates`, then up: the objects whose creates were dropped are created again by server-side
// apply, which adopts those that exist, so the counts prove nothing is lost or duplicated.
func processKilledMidUpdate(t *testing.T, fs *faultStack) {
	fs.setServices(faultServicesKill)
	up := fs.start(t)
	fs.waitForDeployments(t, faultServices+1) // new creates are in flight
	pid := up.kill(t)

	locks := fs.locks()
	require.Len(t, locks, 1, "the killed update's lock stays behind")
	lock, err := os.ReadFile(locks[0])
	require.NoError(t, err)
	var holder struct{ Pid int }
	require.NoError(t, json.Unmarshal(lock, &holder))
	assert.Equal(t, pid, holder.Pid, "the lock names the killed CLI")

	out, err := fs.c.run(nil, "up", "-s", fs.name, "--yes", "--skip-preview")
	require.Error(t, err, "an update must be refused while the lock stays:\n%s", out)
	assert.Contains(t, out, "the stack is currently locked by 1 lock(s)")
	assert.Contains(t, out, "pulumi cancel")
	assert.Contains(t, out, fmt.Sprintf("(pid %d)", pid))

	st := fs.state(t)
	require.NotEmpty(t, st.pending, "the update was killed with creates in flight")
	for _, op := range st.pending {
		assert.Equal(t, "creating", op.Type, op.Resource.URN)
	}
	t.Logf("pending operations after the kill: %d", len(st.pending))

	// The documented recovery, in order.
	fs.c.must("cancel", "-s", fs.name, "--yes")
	assert.Empty(t, fs.locks(), "pulumi cancel deletes the lock on a diy backend")
	fs.c.must("refresh", "-s", fs.name, "--yes", "--clear-pending-creates")
	assert.Empty(t, fs.state(t).pending, "refresh --clear-pending-creates clears them")

	fs.mustConverge(t, faultServicesKill)
}

// objectDeletedBehindProgram deletes one placeholder's Deployment and Service with kubectl. A preview compares
// the program with the state only and sees nothing; a refresh reads the cluster and drops both; the next up
// recreates them.
func objectDeletedBehindProgram(t *testing.T, fs *faultStack) {
	const victim = "placeholder-003"
	for _, kind := range []string{"deployment", "service"} {
		_, err := fs.kubectl(t, "delete", kind, victim, "-n", capacityNamespace, "--wait=true")
		require.NoError(t, err)
	}

	fs.c.must("preview", "-s", fs.name, "--expect-no-changes") // the state is stale: no change seen

	out := fs.c.must("refresh", "-s", fs.name, "--yes")
	for _, kind := range []string{"kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service"} {
		assert.Regexp(t, `-\s+`+kind+` `+victim+` deleted`, out, "refresh names the deleted %s", kind)
	}
	st := fs.state(t)
	for _, r := range st.resources {
		assert.False(t, strings.HasSuffix(r.URN, "::"+victim) && r.Type != "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
			"refresh left %s in the state", r.URN)
	}

	out = fs.c.must("up", "-s", fs.name, "--yes", "--skip-preview")
	assert.Contains(t, out, "+ 2 created", out)
	fs.mustHold(t, faultServicesKill)
}

// concurrentUp starts a second up of the stack while a first one runs. The diy backend's lock refuses the
// second before it changes anything; the first completes. The second starts once the first holds the lock:
// started at the very same instant, both could see the other's lock and back off (the lock is
// check-write-check), which is just as safe but would make the outcome a coin toss.
func concurrentUp(t *testing.T, fs *faultStack) {
	fs.setServices(faultServicesLocks)
	first := fs.start(t)
	first.until(t, func() bool { return len(fs.locks()) == 1 }, "took the lock", time.Minute)
	second, err := fs.c.run(nil, "up", "-s", fs.name, "--yes", "--skip-preview")
	require.Error(t, err, "a second up of a locked stack must be refused:\n%s", second)
	assert.Contains(t, second, "the stack is currently locked by 1 lock(s)")
	assert.Contains(t, second, fmt.Sprintf("(pid %d)", first.cmd.Process.Pid), "the message names the first up")
	assert.NotContains(t, second, "Updating (", "the refused up never started")

	out, err := first.wait(t, 3*time.Minute)
	require.NoError(t, err, "the first up completes:\n%s", out)
	assert.Empty(t, fs.locks(), "the lock is released")
	fs.mustHold(t, faultServicesLocks)
}

// faultStack is the capacity stack the fault tests share, on the fault control plane.
type faultStack struct {
	c       *cli
	cp      *controlPlane
	name    string
	backend string // the diy backend's folder
}

func (fs *faultStack) setServices(n int) {
	fs.c.must("config", "set", "-s", fs.name, "capacity:services", strconv.Itoa(n))
}

func (fs *faultStack) kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", fs.cp.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// count is how many objects of kind the capacity namespace holds.
func (fs *faultStack) count(t *testing.T, kind string) int {
	t.Helper()
	out, err := fs.kubectl(t, "get", kind, "-n", capacityNamespace, "-o", "name")
	require.NoError(t, err, out)
	return len(strings.Fields(out))
}

// waitForDeployments waits until the namespace holds at least n Deployments: the up is well under way.
func (fs *faultStack) waitForDeployments(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, err := fs.kubectl(t, "get", "deployments", "-n", capacityNamespace, "-o", "name")
		return err == nil && len(strings.Fields(out)) >= n
	}, 2*time.Minute, 100*time.Millisecond, "fewer than %d Deployments appeared", n)
}

// mustConverge runs up and checks the stack then holds exactly n placeholders (mustHold).
func (fs *faultStack) mustConverge(t *testing.T, n int) {
	t.Helper()
	fs.c.must("up", "-s", fs.name, "--yes", "--skip-preview")
	fs.mustHold(t, n)
}

// mustHold checks the stack holds exactly n placeholders, in the cluster and in a valid state, with nothing
// left to change.
func (fs *faultStack) mustHold(t *testing.T, n int) {
	t.Helper()
	fs.c.must("preview", "-s", fs.name, "--expect-no-changes")
	st := fs.state(t)
	assert.Empty(t, st.pending)
	byType := map[string]int{}
	for _, r := range st.resources {
		byType[r.Type]++
	}
	for kind, typ := range map[string]string{
		"deployments": "kubernetes:apps/v1:Deployment",
		"services":    "kubernetes:core/v1:Service",
		"hpa":         "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
	} {
		assert.Equal(t, n, fs.count(t, kind), "%s in the cluster", kind)
		assert.Equal(t, n, byType[typ], "%s in the state", typ)
	}
}

// stackState is what the fault tests read from `pulumi stack export`.
type stackState struct {
	raw       []byte
	resources []struct {
		URN  string `json:"urn"`
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	pending []struct {
		Type     string `json:"type"`
		Resource struct {
			URN string `json:"urn"`
		} `json:"resource"`
	}
}

// state exports the stack and checks it is not corrupt: valid JSON of a known version, every resource with a
// URN and a type, no URN twice.
func (fs *faultStack) state(t *testing.T) *stackState {
	t.Helper()
	raw := []byte(fs.c.stdout("stack", "export", "-s", fs.name))
	var doc struct {
		Version    int `json:"version"`
		Deployment struct {
			Resources         json.RawMessage `json:"resources"`
			PendingOperations json.RawMessage `json:"pending_operations"`
		} `json:"deployment"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc), "the export is not JSON")
	require.Equal(t, 3, doc.Version, "deployment version")
	st := &stackState{raw: raw}
	require.NoError(t, json.Unmarshal(doc.Deployment.Resources, &st.resources))
	if len(doc.Deployment.PendingOperations) > 0 {
		require.NoError(t, json.Unmarshal(doc.Deployment.PendingOperations, &st.pending))
	}
	seen := map[string]bool{}
	for _, r := range st.resources {
		require.NotEmpty(t, r.URN, "a resource without URN")
		require.NotEmpty(t, r.Type, r.URN)
		require.False(t, seen[r.URN], "%s is in the state twice", r.URN)
		seen[r.URN] = true
	}
	return st
}

// importState imports the stack's own export back: the CLI accepts it as a valid deployment.
func (fs *faultStack) importState(t *testing.T) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(file, fs.state(t).raw, 0o600))
	fs.c.must("stack", "import", "-s", fs.name, "--file", file)
}

// locks are the stack's lock files in the diy backend: .pulumi/locks/<org>/<project>/<stack>/<id>.json.
func (fs *faultStack) locks() []string {
	files, _ := filepath.Glob(filepath.Join(fs.backend, ".pulumi", "locks", "*", "capacity", fs.name, "*.json"))
	return files
}

// update is a `pulumi up` running in the background, in a process group of its own.
type update struct {
	cmd    *exec.Cmd
	out    syncBuffer // stdout and stderr, as the CLI writes them (harness_test.go)
	mu     sync.Mutex // guards exited
	exited bool
	done   chan error
}

func (u *update) output() string { return u.out.String() }

// waitFor waits until the update's output holds s.
func (u *update) waitFor(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	u.until(t, func() bool { return strings.Contains(u.output(), s) }, "printed "+strconv.Quote(s), timeout)
}

// until waits for cond while the update runs, and fails with the update's output as it is then (a message
// built before the wait would hold the output of its start).
func (u *update) until(t *testing.T, cond func() bool, what string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			require.FailNow(t, "the update never "+what, "after %s:\n%s", timeout, u.output())
		}
	}
}

func (fs *faultStack) start(t *testing.T) *update {
	t.Helper()
	u := &update{done: make(chan error, 1)}
	u.cmd = fs.c.command("up", "-s", fs.name, "--yes", "--skip-preview")
	u.cmd.Stdout, u.cmd.Stderr = &u.out, &u.out
	u.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, u.cmd.Start())
	go func() {
		err := u.cmd.Wait()
		u.mu.Lock()
		u.exited = true
		u.mu.Unlock()
		u.done <- err
	}()
	t.Cleanup(func() {
		// Never leave an update running past its test.
		u.mu.Lock()
		exited := u.exited
		u.mu.Unlock()
		if !exited {
			killTree(u.cmd.Process.Pid)
		}
	})
	return u
}

// wait waits for the update to end and returns its output.
func (u *update) wait(t *testing.T, timeout time.Duration) (string, error) {
	t.Helper()
	select {
	case err := <-u.done:
		return u.output(), err
	case <-time.After(timeout):
		require.FailNow(t, "the update did not end", "after %s:\n%s", timeout, u.output())
		return "", nil
	}
}

// kill SIGKILLs the update's process tree and returns the CLI's pid.
func (u *update) kill(t *testing.T) int {
	t.Helper()
	pid := u.cmd.Process.Pid
	killTree(pid)
	select {
	case <-u.done:
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the killed update did not end")
	}
	return pid
}

// restartedComponents are the components a stop of the API server takes down, in start order: the API server
// itself, and the controller-manager and scheduler, which exit on their own once they cannot renew their
// leader lease (about 10 s without an API server). kwokctl's binary runtime does not restart anything.
var restartedComponents = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// pid reads a component's pid file.
func (cp *controlPlane) pid(t *testing.T, component string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cp.dir, "pids", component+".pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

// stopAPIServer SIGKILLs the API server, nothing else. SIGKILL rather than SIGTERM: on SIGTERM the API server
// stops accepting connections but lingers for tens of seconds draining requests, a state no real fault needs;
// a crash is the sharp case. The components' command lines are recorded first, to restart them alike.
func (cp *controlPlane) stopAPIServer(t *testing.T) {
	t.Helper()
	cp.commands = map[string][]string{}
	for _, component := range restartedComponents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cp.pid(t, component)))
		require.NoError(t, err, "%s is not running", component)
		cp.commands[component] = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	}
	require.NoError(t, syscall.Kill(cp.pid(t, "kube-apiserver"), syscall.SIGKILL))
}

// restart brings the stopped components back as they were, as a kubelet or systemd would: the API server, and
// the controller-manager and scheduler whether or not they have exited yet (deterministic either way). Each
// new pid goes to kwokctl's pid file, so `scripts/cluster down` stops it.
func (cp *controlPlane) restart(t *testing.T) {
	t.Helper()
	for _, component := range restartedComponents {
		pid := cp.pid(t, component)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		// Its ports are free once it is gone (or a zombie nobody reaps).
		require.Eventually(t, func() bool { return gone(pid) }, 30*time.Second, 50*time.Millisecond, "%s (pid %d) does not end", component, pid)
		args := cp.commands[component]
		log, err := os.OpenFile(filepath.Join(cp.dir, "logs", component+".log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = cp.dir, log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, cmd.Start(), "restarting %s", component)
		log.Close()
		go func() { _ = cmd.Wait() }() // reap it when it ends
		require.NoError(t, os.WriteFile(filepath.Join(cp.dir, "pids", component+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644))
		if component == "kube-apiserver" {
			require.Eventually(t, func() bool {
				return exec.Command("kubectl", "--kubeconfig", cp.kubeconfig, "get", "--raw", "/readyz").Run() == nil
			}, time.Minute, 200*time.Millisecond, "the API server did not come back")
		}
	}
}

// killTree SIGKILLs the process group of pid and every process under pid, with their groups. Pulumi starts
// its plugins (the language host, which runs the program, and the providers) in process groups of their own:
// killing the CLI's group alone leaves them running, orphaned, which a lost runner would not.
func killTree(pid int) {
	tree := append(descendants(pid), pid)
	for _, p := range tree {
		_ = syscall.Kill(-p, syscall.SIGKILL)
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// descendants are the processes under pid, read from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the command name (in parentheses, possibly holding spaces and parentheses): state, then the
		// parent's pid.
		if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	var found []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		for _, c := range children[queue[0]] {
			found = append(found, c)
			queue = append(queue, c)
		}
	}
	return found
}

// gone reports whether a process has ended: no longer in /proc, or a zombie.
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses and may hold spaces and parentheses.
	return strings.HasPrefix(strings.TrimSpace(string(b[bytes.LastIndexByte(b, ')')+1:])), "Z")
}
