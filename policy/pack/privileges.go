package pack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

var systemNamespaces = stringsSetting{
	Key: "systemNamespaces", Default: []string{"kube-system", "ingress-nginx", "monitoring"},
	Description: "Namespaces of platform components that legitimately need privileged containers or host namespaces " +
		"(CNI, node exporters, the ingress controller).",
}

// hostNamespaceFlags are the pod-spec switches that share a node namespace with the pod.
var hostNamespaceFlags = []string{"hostNetwork", "hostPID", "hostIPC"}

// privilegePolicy: a privileged container or a pod in the node's network, PID or IPC namespace can see and
// change the node, and through it every other tenant's pods; only system components may.
func privilegePolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.Privileged, policyx.ResourceValidationPolicyArgs{
		Description:      "No privileged container and no hostNetwork, hostPID or hostIPC outside the system namespaces.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(systemNamespaces),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			spec, ok := podSpec(args.Resource)
			if !ok {
				return nil
			}
			exempt, err := systemNamespaces.from(args.Config)
			if err != nil {
				return fmt.Errorf("no-privileged-outside-system: %w", err)
			}
			ns, ok := namespaceOf(args.Resource)
			if !ok || slices.Contains(exempt, ns) {
				return nil
			}
			var problems []string
			for _, flag := range hostNamespaceFlags {
				if truthy(at(spec, flag)) {
					problems = append(problems, "sets "+flag+": true")
				}
			}
			for _, c := range containers(spec) {
				if truthy(c.get("securityContext", "privileged")) {
					problems = append(problems, c.label+" is privileged")
				}
			}
			if len(problems) > 0 {
				violation(args.Manager, "", describe(args.Resource),
					fmt.Sprintf("%s in namespace %q, which is not a system namespace (%s)", strings.Join(problems, "; "), ns, strings.Join(exempt, ", ")),
					"drop securityContext.privileged and the host namespaces; grant the specific capability the container "+
						"needs instead, or run the component in a system namespace if it is part of the platform")
			}
			return nil
		},
	})
}
