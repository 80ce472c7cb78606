// Command kubeconfig-secrets writes the GitHub Actions secrets the spec's automation reads for one environment's
// cluster (availability probes, scripted applies): <PREFIX>_KUBECONFIG_B64, the cluster's kubeconfig from the
// Linode API, base64, and <PREFIX>_KUBE_CONTEXT, its context, named as the inventory names it (lke<id>-ctx). Each
// goes into a file named after the secret, mode 0600, in a private folder; the command prints the secrets'
// names and the `gh secret set` commands that read those files, never a credential (docs/linode-access.md,
// "Kubeconfigs for automation").
//
//	LINODE_TOKEN=… go run ./cmd/kubeconfig-secrets -stack development -out "$(mktemp -d)"
//
// The cluster is the stack's importClusterId (development 531921, production 531922), or -cluster ID for a
// cluster the stack created (`pulumi stack output clusterId`). LINODE_URL points it elsewhere (the tests' Linode
// API stand-in).
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/linode/linodego"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-eng/lke-platform/config"
)

// Prefixes are the secrets' prefixes per environment, as the spec's inventory names development's and
// production's.
var Prefixes = map[string]string{
	config.Development: "DEV", config.Staging: "STAGING", config.Production: "PROD", config.System: "SYSTEM",
}

// Context is the inventory's name of a cluster's kubeconfig context.
func Context(clusterID int) string { return fmt.Sprintf("lke%d-ctx", clusterID) }

func main() {
	stack := flag.String("stack", "", "the environment's stack: development, staging, production or system")
	cluster := flag.Int("cluster", 0, "the LKE cluster's ID (default: the stack's importClusterId)")
	out := flag.String("out", "", "a private folder to write the secrets' files into (made if need be, mode 0700)")
	project := flag.String("project", ".", "the folder of Pulumi.yaml and the stack files")
	flag.Parse()
	if err := run(os.Stdout, *project, *stack, *cluster, *out, os.Getenv("LINODE_TOKEN")); err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig-secrets:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, project, stack string, clusterID int, out, token string) error {
	prefix, ok := Prefixes[stack]
	if !ok {
		return fmt.Errorf("-stack %q: want one of development, staging, production, system", stack)
	}
	if out == "" {
		return fmt.Errorf("-out: want a folder for the secrets' files, e.g. \"$(mktemp -d)\"")
	}
	if token == "" {
		return fmt.Errorf("LINODE_TOKEN is not set: want a token with lke:read_only (docs/linode-access.md)")
	}
	if clusterID == 0 {
		values, err := config.StackValues(project, stack)
		if err != nil {
			return err
		}
		if clusterID, err = strconv.Atoi(values["importClusterId"]); err != nil || clusterID <= 0 {
			return fmt.Errorf("stack %s adopts no cluster (importClusterId %q): give the cluster it created with -cluster "+
				"(pulumi stack output clusterId -s %s)", stack, values["importClusterId"], stack)
		}
	}
	client := linodego.NewClient(nil) // LINODE_URL, if set, is the API's base URL
	client.SetToken(token)
	kc, err := client.GetLKEClusterKubeconfig(context.Background(), clusterID)
	if err != nil {
		return fmt.Errorf("the kubeconfig of LKE cluster %d: %w", clusterID, err)
	}
	raw, err := base64.StdEncoding.DecodeString(kc.KubeConfig)
	if err != nil {
		return fmt.Errorf("the kubeconfig of LKE cluster %d is not base64 (%v)", clusterID, err)
	}
	renamed, err := renameContext(raw, Context(clusterID))
	if err != nil {
		return fmt.Errorf("the kubeconfig of LKE cluster %d: %w", clusterID, err)
	}

	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(out, 0o700); err != nil { // #nosec G302 -- a directory: 0700 is owner-only, as for the files in it
		return err
	}
	secrets := []struct{ name, value string }{
		{prefix + "_KUBECONFIG_B64", base64.StdEncoding.EncodeToString(renamed)},
		{prefix + "_KUBE_CONTEXT", Context(clusterID)},
	}
	fmt.Fprintf(w, "LKE cluster %d (stack %s): the secrets' values are in %s; set them with\n", clusterID, stack, out)
	for _, s := range secrets {
		file := filepath.Join(out, s.name)
		if err := os.WriteFile(file, []byte(s.value), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(w, "  gh secret set %s < %s\n", s.name, file)
	}
	fmt.Fprintf(w, "then keep the kubeconfig in 1Password (docs/linode-access.md) and remove %s\n", out)
	return nil
}

// renameContext makes name the kubeconfig's only and current context, keeping the cluster and user it pointed
// at (LKE names it lke<id>-ctx already; a cluster made by another tool may not).
func renameContext(raw []byte, name string) ([]byte, error) {
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return nil, fmt.Errorf("it is not a kubeconfig client-go can read") // its error may quote a credential
	}
	current, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("its current context %q is not among its contexts", cfg.CurrentContext)
	}
	for n := range cfg.Contexts {
		delete(cfg.Contexts, n)
	}
	cfg.Contexts[name] = current
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}
