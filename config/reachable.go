package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ReachTimeout bounds the attach-mode reachability check: an API server that does not accept a connection
// within it is reported as unreachable.
const ReachTimeout = 5 * time.Second

// kubeconfigFile is the part of a kubeconfig the reachability check reads: which server the context points at.
type kubeconfigFile struct {
	CurrentContext string `yaml:"current-context"`
	Contexts       []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
		} `yaml:"context"`
	} `yaml:"contexts"`
	Clusters []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server string `yaml:"server"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
}

// CheckReachable makes sure an attach-mode cluster's API server accepts connections before the program
// registers anything. Without it, a kubeconfig pointing nowhere gets as far as the kubernetes provider, which
// fails each object with "configured Kubernetes cluster is unreachable" after the stack's components have been
// recorded in the state, without naming the kubeconfig. A TCP connection is enough: it is what "pointing
// nowhere" breaks (closed port, unknown host), it needs no credentials, and it takes milliseconds. Other modes
// have nothing to check here. The problem names the key, the server and what to do; a secret kubeconfig's
// content is never shown, only its server.
func CheckReachable(c Cluster, timeout time.Duration) error {
	if c.Mode != Attach {
		return nil
	}
	key, shown, content := "kubeconfig", "(secret, not shown)", []byte(c.Kubeconfig)
	if c.KubeconfigPath != "" {
		key, shown = "kubeconfigPath", c.KubeconfigPath
		b, err := os.ReadFile(c.KubeconfigPath)
		if err != nil {
			return &Error{Problems: []Problem{{key, shown, "a readable kubeconfig file (" + err.Error() + ")"}}}
		}
		content = b
	}
	server, err := serverOf(content, c.KubeContext)
	if err != nil {
		return &Error{Problems: []Problem{{key, shown, "a kubeconfig naming the cluster's API server: " + err.Error()}}}
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return &Error{Problems: []Problem{{key, shown, fmt.Sprintf("a kubeconfig whose server is a URL such as https://host:6443 (it has %q)", server)}}}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80"}[u.Scheme]
	}
	if port == "" {
		port = "443"
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(u.Hostname(), port), timeout)
	if err != nil {
		return &Error{Problems: []Problem{{key, shown, fmt.Sprintf(
			"a kubeconfig whose API server answers; %s does not (%v). Start the cluster (locally: scripts/cluster up) "+
				"or point %s (and kubeContext) at a running one, then check with kubectl --kubeconfig FILE get --raw /readyz",
			server, err, key)}}}
	}
	return conn.Close()
}

// yamlLine is where a YAML error places its problem.
var yamlLine = regexp.MustCompile(`line \d+`)

// yamlLines are the places a YAML error names, without what it quotes.
func yamlLines(err error) string {
	lines := slices.Compact(yamlLine.FindAllString(err.Error(), -1))
	if len(lines) == 0 {
		return "a place YAML does not name"
	}
	return strings.Join(lines, ", ")
}

// serverOf returns the API server of the kubeconfig's context: context if given, else its current context.
func serverOf(content []byte, context string) (string, error) {
	var kc kubeconfigFile
	if err := yaml.Unmarshal(content, &kc); err != nil {
		// YAML's errors quote what they could not read, and that may be a credential (a token pasted into the
		// wrong key, a file's user entry): only where the problem is, is said.
		var typeErr *yaml.TypeError
		if errors.As(err, &typeErr) {
			return "", fmt.Errorf("it is not a YAML mapping of a kubeconfig's fields (wrong types at %s)", yamlLines(err))
		}
		return "", fmt.Errorf("it is not YAML (at %s)", yamlLines(err))
	}
	if context == "" {
		context = kc.CurrentContext
	}
	if context == "" {
		return "", fmt.Errorf("it has no current-context and kubeContext is not set")
	}
	cluster := ""
	found := false
	for _, c := range kc.Contexts {
		if c.Name == context {
			cluster, found = c.Context.Cluster, true
		}
	}
	if !found {
		return "", fmt.Errorf("it has no context %q (set kubeContext to one of its contexts)", context)
	}
	for _, c := range kc.Clusters {
		if c.Name == cluster && c.Cluster.Server != "" {
			return c.Cluster.Server, nil
		}
	}
	return "", fmt.Errorf("context %q names cluster %q, which has no server", context, cluster)
}
