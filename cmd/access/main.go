// Command access lists a stack's access packages and issues the kubeconfig of one (docs/access-control.md).
// scripts/access runs it.
//
//	access list  [-dir DIR] STACK
//	access issue [-dir DIR] [-kubeconfig FILE] STACK PACKAGE [OUT]
//
// issue asks the stack's cluster for a TokenRequest token of the package's ServiceAccount (what `kubectl create
// token --duration` does) that expires when the package does, 24 hours from now at the latest: the API server
// enforces that expiry. It writes a kubeconfig with that token to OUT (default <stack>-<package>.kubeconfig),
// mode 0600, and prints when it expires, never the token. The credential that asks is the operator's: the file
// the stack attaches with (its output "kubeconfig", a path), else -kubeconfig FILE or $KUBECONFIG. No stack
// exports a cluster-admin kubeconfig: whoever reads the outputs would hold the cluster.
//
// Go rather than a shell script: the kubeconfig is built as data, the token never appears on a command line
// (kubectl hands it over on a pipe), and the API server's own expiry comes back with it to be checked.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"
)

const (
	// maxLifetime is the spec's bound on an access package, and the policy pack's default.
	maxLifetime = 24 * time.Hour
	// minLifetime is the shortest token the API server issues (TokenRequest refuses less than 10 minutes).
	minLifetime = 10 * time.Minute
	// margin keeps the token's expiry before the package's despite the time the request takes.
	margin = time.Minute
	// requestChannel is where packages are asked for.
	requestChannel = "#platform-access"
)

const usage = `usage:
  access list  [-dir DIR] STACK                   the stack's packages, their expiry and state
  access issue [-dir DIR] [-kubeconfig FILE] STACK PACKAGE [OUT]
                                                  write PACKAGE's kubeconfig to OUT (default STACK-PACKAGE.kubeconfig)
-dir is the Pulumi project directory (default: the working directory, as for pulumi). -kubeconfig is an
operator's kubeconfig for the stack's cluster (default $KUBECONFIG), for a stack that does not attach with a file.`

// errUsage is run's answer to arguments that name no command; main prints the usage after it.
var errUsage = errors.New("no such command, or not its arguments")

func main() {
	if err := run(os.Args[1:], os.Stdout, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "access:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, usage)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		return errUsage
	}
	flags := flag.NewFlagSet("access "+args[0], flag.ContinueOnError)
	dir := flags.String("dir", ".", "the Pulumi project directory")
	kubeconfig := flags.String("kubeconfig", os.Getenv("KUBECONFIG"), "an operator's kubeconfig for the stack's cluster")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	rest := flags.Args()
	p := project{dir: *dir, kubeconfig: *kubeconfig}
	switch {
	case args[0] == "list" && len(rest) == 1:
		return p.list(rest[0], stdout, now())
	case args[0] == "issue" && (len(rest) == 2 || len(rest) == 3):
		out := rest[0] + "-" + rest[1] + ".kubeconfig"
		if len(rest) == 3 {
			out = rest[2]
		}
		return p.issue(rest[0], rest[1], out, stdout, now)
	}
	return errUsage
}

// issued is one package in force, as the stack output "accessPackages" records it (components/access).
type issued struct {
	ServiceAccount string   `json:"serviceAccount"`
	Namespace      string   `json:"namespace"`
	Subject        string   `json:"subject"`
	Role           string   `json:"role"`
	Namespaces     []string `json:"namespaces"`
	ExpiresAt      string   `json:"expiresAt"`
	Request        string   `json:"request"`
}

// requested is one package as the stack's config lists it (config.AccessPackage's JSON form).
type requested struct {
	Name       string   `json:"name"`
	Subject    string   `json:"subject"`
	Role       string   `json:"role"`
	Namespaces []string `json:"namespaces"`
	ExpiresAt  string   `json:"expiresAt"`
}

// project runs pulumi in a project directory, with the environment this command has (backend, passphrase).
// kubeconfig is the operator's, for a stack that exports none (-kubeconfig, $KUBECONFIG).
type project struct{ dir, kubeconfig string }

// pulumiJSON runs pulumi and decodes its JSON output. Its output is never part of an error (a config may hold
// secret values), only pulumi's standard error is.
func (p project) pulumiJSON(into any, args ...string) error {
	cmd := exec.Command("pulumi", append(args, "--non-interactive")...) // #nosec G204 G702 -- a fixed program; the arguments are the operator's own (stack, package), passed as argv, not to a shell
	cmd.Dir = p.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pulumi %s (in %s): %w: %s", args[0]+" "+args[1], p.dir, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), into); err != nil {
		return fmt.Errorf("pulumi %s printed something other than JSON: %w", args[0]+" "+args[1], err)
	}
	return nil
}

// outputs are the stack outputs this command reads.
type outputs struct {
	Kubeconfig     string            `json:"kubeconfig"`
	AccessPackages map[string]issued `json:"accessPackages"`
}

func (p project) outputs(stack string) (outputs, error) {
	var o outputs
	return o, p.pulumiJSON(&o, "stack", "output", "--json", "-s", stack)
}

// config reads the stack's accessPackages and kubeContext (whatever the project's name: the keys are
// "<project>:<key>").
func (p project) config(stack string) (packages []requested, kubeContext string, err error) {
	var all map[string]struct {
		Value string `json:"value"`
	}
	if err := p.pulumiJSON(&all, "config", "--json", "-s", stack); err != nil {
		return nil, "", err
	}
	for key, v := range all {
		switch {
		case strings.HasSuffix(key, ":accessPackages") && v.Value != "":
			if err := json.Unmarshal([]byte(v.Value), &packages); err != nil {
				return nil, "", fmt.Errorf("%s of stack %s is not a JSON array of packages: %w", key, stack, err)
			}
		case strings.HasSuffix(key, ":kubeContext"):
			kubeContext = v.Value
		}
	}
	return packages, kubeContext, nil
}

func (p project) list(stack string, stdout io.Writer, now time.Time) error {
	o, err := p.outputs(stack)
	if err != nil {
		return err
	}
	packages, _, err := p.config(stack)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSUBJECT\tROLE\tNAMESPACES\tEXPIRES AT\tSTATE")
	listed := map[string]bool{}
	for _, r := range packages {
		listed[r.Name] = true
		i, deployed := o.AccessPackages[r.Name]
		namespaces := r.Namespaces
		if deployed {
			namespaces = i.Namespaces
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Subject, r.Role, strings.Join(namespaces, ","), r.ExpiresAt,
			state(r.ExpiresAt, deployed, now))
	}
	for _, name := range slices.Sorted(maps.Keys(o.AccessPackages)) {
		if !listed[name] {
			i := o.AccessPackages[name]
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", name, i.Subject, i.Role, strings.Join(i.Namespaces, ","), i.ExpiresAt,
				"removed from the config, still granted: run pulumi up to revoke")
		}
	}
	return w.Flush()
}

// state says where a package stands: in force, waiting for an update, or gone.
func state(expiresAt string, deployed bool, now time.Time) string {
	t, err := time.Parse(time.RFC3339, expiresAt)
	expired := err == nil && !t.After(now)
	switch {
	case err != nil:
		return "invalid expiresAt: the next preview says why"
	case deployed && !expired:
		return "in force, " + t.Sub(now).Round(time.Minute).String() + " left"
	case deployed:
		return "expired (its tokens too): run pulumi up to remove its grants"
	case expired:
		return "expired, removed: remove it from the config"
	}
	return "not deployed yet: run pulumi up"
}

func (p project) issue(stack, name, out string, stdout io.Writer, now func() time.Time) error {
	o, err := p.outputs(stack)
	if err != nil {
		return err
	}
	pkg, ok := o.AccessPackages[name]
	if !ok {
		return notInForce(p, stack, name, o, now())
	}
	expiresAt, err := time.Parse(time.RFC3339, pkg.ExpiresAt)
	if err != nil {
		return fmt.Errorf("package %s: the stack output's expiresAt %q is not RFC 3339", name, pkg.ExpiresAt)
	}
	lifetime := min(expiresAt.Sub(now())-margin, maxLifetime).Truncate(time.Second)
	if lifetime < minLifetime {
		return fmt.Errorf("package %s expires at %s, in %s: too soon for a token (the API server issues them for %s at least); "+
			"ask for a new expiresAt in %s", name, pkg.ExpiresAt, expiresAt.Sub(now()).Round(time.Second), minLifetime, requestChannel)
	}

	_, kubeContext, err := p.config(stack)
	if err != nil {
		return err
	}
	admin, err := adminKubeconfig(o.Kubeconfig, p.kubeconfig, p.dir)
	if err != nil {
		return fmt.Errorf("stack %s: %w", stack, err)
	}
	k := kubectl{kubeconfig: admin, context: kubeContext}

	// The cluster as the stack's kubeconfig reaches it: server and CA only, nothing of its credentials.
	var view kubeconfigFile
	if err := k.json(&view, "config", "view", "--raw", "--minify", "--flatten", "-o", "json"); err != nil {
		return fmt.Errorf("stack %s: reading its kubeconfig: %w", stack, err)
	}
	if len(view.Clusters) != 1 {
		return fmt.Errorf("stack %s: its kubeconfig's context names no cluster", stack)
	}
	cluster := view.Clusters[0].Cluster

	var tr struct {
		Status struct {
			Token               string    `json:"token"`
			ExpirationTimestamp time.Time `json:"expirationTimestamp"`
		} `json:"status"`
	}
	seconds := strconv.FormatInt(int64(lifetime/time.Second), 10) + "s"
	if err := k.json(&tr, "create", "token", pkg.ServiceAccount, "-n", pkg.Namespace, "--duration", seconds, "-o", "json"); err != nil {
		return fmt.Errorf("requesting a %s token for ServiceAccount %s/%s: %w", lifetime, pkg.Namespace, pkg.ServiceAccount, err)
	}
	tokenExpires := tr.Status.ExpirationTimestamp
	if tr.Status.Token == "" || tokenExpires.IsZero() {
		return errors.New("kubectl create token returned no token or no expiry; nothing was written")
	}
	if tokenExpires.After(expiresAt) {
		// The API server's clock is ahead of this machine's: a token that outlives its package is not issued.
		return fmt.Errorf("the API server made a token that expires at %s, after the package (%s): check this machine's clock; nothing was written",
			tokenExpires.UTC().Format(time.RFC3339), pkg.ExpiresAt)
	}

	kubeconfig, err := packageKubeconfig(cluster, stack, name, pkg, tr.Status.Token)
	if err != nil {
		return err
	}
	if err := writePrivate(out, kubeconfig); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (mode 0600): access package %s for %s, %s on %s, as system:serviceaccount:%s:%s\n",
		out, name, pkg.Subject, pkg.Role, strings.Join(pkg.Namespaces, ", "), pkg.Namespace, pkg.ServiceAccount)
	fmt.Fprintf(stdout, "its token expires at %s (in %s); the package at %s\n",
		tokenExpires.UTC().Format(time.RFC3339), tokenExpires.Sub(now()).Round(time.Second), pkg.ExpiresAt)
	fmt.Fprintf(stdout, "use it: kubectl --kubeconfig %s get pods\n", out)
	return nil
}

// notInForce explains why a package cannot be issued.
func notInForce(p project, stack, name string, o outputs, now time.Time) error {
	packages, _, err := p.config(stack)
	if err != nil {
		return err
	}
	for _, r := range packages {
		if r.Name == name {
			return fmt.Errorf("package %s of stack %s is not in force: %s", name, stack, state(r.ExpiresAt, false, now))
		}
	}
	inForce := slices.Sorted(maps.Keys(o.AccessPackages))
	if len(inForce) == 0 {
		inForce = []string{"none"}
	}
	return fmt.Errorf("stack %s has no access package %s (in force: %s); packages are added to its accessPackages config (docs/access-control.md)",
		stack, name, strings.Join(inForce, ", "))
}

// kubectl runs kubectl with the stack's own kubeconfig.
type kubectl struct{ kubeconfig, context string }

// json runs kubectl and decodes its JSON output, which can hold credentials: it is never part of an error.
func (k kubectl) json(into any, args ...string) error {
	full := []string{"--kubeconfig", k.kubeconfig}
	if k.context != "" {
		full = append(full, "--context", k.context)
	}
	cmd := exec.Command("kubectl", append(full, args...)...) // #nosec G204 -- a fixed program; its arguments are passed as argv, not to a shell
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), into); err != nil {
		return fmt.Errorf("kubectl %s printed something other than JSON: %w", strings.Join(args[:2], " "), err)
	}
	return nil
}

// adminKubeconfig returns the kubeconfig that asks for the token: the file the stack attaches with (its output
// "kubeconfig", a path relative to the project), else the operator's (-kubeconfig, $KUBECONFIG).
func adminKubeconfig(output, operator, dir string) (string, error) {
	path := operator
	if output != "" {
		path = output
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
	}
	if path == "" {
		return "", errors.New("it exports no kubeconfig (a cluster-admin kubeconfig is never a stack output): pass -kubeconfig FILE " +
			"or set KUBECONFIG to an operator's kubeconfig for its cluster (an LKE cluster's: linode-cli lke kubeconfig-view " +
			"CLUSTER_ID, the stack output clusterId, decoded with base64 -d)")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("its kubeconfig: %w", err)
	}
	return path, nil
}

// kubeconfigFile is the part of a kubeconfig this command reads and writes.
type kubeconfigFile struct {
	APIVersion     string         `json:"apiVersion" yaml:"apiVersion"`
	Kind           string         `json:"kind" yaml:"kind"`
	Clusters       []namedCluster `json:"clusters" yaml:"clusters"`
	Users          []namedUser    `json:"users" yaml:"users"`
	Contexts       []namedContext `json:"contexts" yaml:"contexts"`
	CurrentContext string         `json:"current-context" yaml:"current-context"`
}

type namedCluster struct {
	Name    string  `json:"name" yaml:"name"`
	Cluster cluster `json:"cluster" yaml:"cluster"`
}

type cluster struct {
	Server                   string `json:"server" yaml:"server"`
	CertificateAuthorityData string `json:"certificate-authority-data,omitempty" yaml:"certificate-authority-data,omitempty"`
	TLSServerName            string `json:"tls-server-name,omitempty" yaml:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify,omitempty" yaml:"insecure-skip-tls-verify,omitempty"`
	ProxyURL                 string `json:"proxy-url,omitempty" yaml:"proxy-url,omitempty"`
}

type namedUser struct {
	Name string `yaml:"name"`
	User struct {
		Token string `yaml:"token"`
	} `yaml:"user"`
}

type namedContext struct {
	Name    string `yaml:"name"`
	Context struct {
		Cluster   string `yaml:"cluster"`
		User      string `yaml:"user"`
		Namespace string `yaml:"namespace"`
	} `yaml:"context"`
}

// packageKubeconfig is a kubeconfig with the stack's cluster and the package's token, its namespace the first
// one granted.
func packageKubeconfig(c cluster, stack, name string, pkg issued, token string) ([]byte, error) {
	id := stack + "-access-" + name
	user := namedUser{Name: id}
	user.User.Token = token
	ctx := namedContext{Name: id}
	ctx.Context.Cluster, ctx.Context.User, ctx.Context.Namespace = stack, id, pkg.Namespaces[0]
	return yaml.Marshal(kubeconfigFile{
		APIVersion: "v1", Kind: "Config", CurrentContext: id,
		Clusters: []namedCluster{{Name: stack, Cluster: c}}, Users: []namedUser{user}, Contexts: []namedContext{ctx},
	})
}

// writePrivate writes data to path with mode 0600, replacing any file there (whatever its mode) atomically.
func writePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if _, err := tmp.Write(data); err != nil {
		return errors.Join(fmt.Errorf("writing %s: %w", tmp.Name(), err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path) // #nosec G703 -- path is where the operator asked for the kubeconfig (OUT)
}
