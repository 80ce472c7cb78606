// Command local-argocd runs Argo CD's reconciliation loop for the local control plane (scripts/local): Redis,
// the repo-server and the application controller as local processes (internal/localargocd), and a git daemon on
// loopback serving a mirror of this clone. It plays the part Argo CD's pods play on LKE: the program installs Argo
// CD's settings and declares the Applications, and these processes sync them from the repository.
//
//	local-argocd url   -dir D              the repository's URL for gitopsRepoUrl (the port is kept in D)
//	local-argocd start -dir D -kubeconfig K -repo R
//	                                       mirror R's current commit as main, (re)start the processes, leave them running
//	local-argocd stop  -dir D              stop them
//
// Argo CD syncs what is committed: start mirrors the clone's current commit again, so a new commit is picked up.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/platform-eng/lke-platform/internal/localargocd"
	"github.com/platform-eng/lke-platform/platform"
)

// repoName is the mirror's name under the daemon's base path: git://127.0.0.1:PORT/lke-platform.git.
const repoName = "lke-platform.git"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "the loop's folder: ports, pids, logs, the repository mirror")
	kubeconfig := fs.String("kubeconfig", "", "the control plane's kubeconfig (start)")
	repo := fs.String("repo", ".", "the clone to mirror (start)")
	_ = fs.Parse(os.Args[2:])
	if *dir == "" {
		fail(errors.New("-dir is required"))
	}
	var err error
	switch os.Args[1] {
	case "url":
		var port int
		if port, err = gitPort(*dir); err == nil {
			fmt.Println(repoURL(port))
		}
	case "start":
		err = start(*dir, *kubeconfig, *repo)
	case "stop":
		err = stop(*dir)
	default:
		usage()
	}
	if err != nil {
		fail(err)
	}
}

func repoURL(port int) string { return fmt.Sprintf("git://127.0.0.1:%d/%s", port, repoName) }

// gitPort is the daemon's port, chosen once per folder and kept, so the stack's gitopsRepoUrl stays the same
// from one start to the next.
func gitPort(dir string) (int, error) {
	path := filepath.Join(dir, "git-port")
	// #nosec G304 G703 -- dir is the operator's own state folder (-dir), on this machine
	if b, err := os.ReadFile(path); err == nil {
		return strconv.Atoi(strings.TrimSpace(string(b)))
	}
	port, err := localargocd.FreePort()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil { // #nosec G703 -- the operator's own state folder (-dir)
		return 0, err
	}
	return port, os.WriteFile(path, []byte(strconv.Itoa(port)+"\n"), 0o600) // #nosec G703 -- in the operator's state folder (-dir)
}

func start(dir, kubeconfig, repo string) error {
	if kubeconfig == "" {
		return errors.New("start: -kubeconfig is required")
	}
	if err := stop(dir); err != nil {
		return err
	}
	port, err := gitPort(dir)
	if err != nil {
		return err
	}
	if err := mirror(repo, filepath.Join(dir, "git", repoName)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argo, err := localargocd.Start(ctx, localargocd.Options{
		Kubeconfig: kubeconfig, Namespace: platform.ArgoCDNamespace, Dir: dir, GitPort: port,
	})
	if err != nil {
		return err
	}
	if err := argo.StartController(ctx); err != nil {
		argo.Stop()
		return err
	}
	var pids []string
	for _, pid := range argo.PIDs() {
		pids = append(pids, strconv.Itoa(pid))
	}
	// #nosec G703 -- in the operator's own state folder (-dir)
	if err := os.WriteFile(filepath.Join(dir, "pids"), []byte(strings.Join(pids, "\n")+"\n"), 0o600); err != nil {
		argo.Stop()
		return err
	}
	fmt.Printf("Argo CD runs for %s, syncing %s (logs in %s)\n", kubeconfig, repoURL(port), filepath.Join(dir, "logs"))
	return nil
}

// mirror makes dst a bare repository whose branch main is the commit checked out in the clone at src (whatever
// its branch), so Applications that follow main (the stacks' gitopsRevision) sync what the developer has
// committed there.
func mirror(src, dst string) error {
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) { // #nosec G703 -- the mirror in the operator's state folder
		if err := git("", "init", "--quiet", "--bare", "--initial-branch=main", dst); err != nil {
			return err
		}
	}
	src, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	return git(dst, "fetch", "--quiet", "--force", src, "+HEAD:refs/heads/main")
}

func git(dir string, args ...string) error {
	cmd := exec.Command("git", args...) // #nosec G204 G702 -- a fixed program; the arguments are this command's own, passed as argv, not to a shell
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// stop ends the process groups a previous start left running; nothing if none did.
func stop(dir string) error {
	path := filepath.Join(dir, "pids")
	b, err := os.ReadFile(path) // #nosec G304 G703 -- the pids file in the operator's own state folder (-dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, field := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			return fmt.Errorf("%s: %q is not a process ID", path, field)
		}
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	return os.Remove(path) // #nosec G703 -- the pids file in the operator's own state folder (-dir)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: local-argocd url|start|stop -dir DIR [-kubeconfig FILE] [-repo CLONE]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "local-argocd:", err)
	os.Exit(1)
}
