package pack

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/platform-eng/lke-platform/internal/rules"
)

const lkeNodePoolType = "linode:index/lkeNodePool:LkeNodePool"

var (
	gpuEnvironments = environmentsSetting("Environments allowed to run GPU node pools.", system)
	gpuTypePrefix   = stringSetting{Key: "gpuTypePrefix", Default: "g1-gpu-", Description: "Prefix of the Linode node types that carry GPUs."}
	gpuTaintKey     = stringSetting{Key: "taintKey", Default: "nvidia.com/gpu", Description: "Taint key of the GPU nodes (components/gpupool)."}
	gpuResource     = stringSetting{Key: "resourceName", Default: "nvidia.com/gpu", Description: "Extended resource a GPU workload requests."}
)

// gpuPoolPolicy: RTX 6000 nodes are the platform's most expensive capacity and exist once, on the system
// stack, for vLLM; a GPU pool anywhere else is a costly mistake.
func gpuPoolPolicy(stack Stack) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.GPUPoolsOnSystem, policyx.ResourceValidationPolicyArgs{
		Description:      "GPU node pools (Linode g1-gpu-* types) exist only on the system environment.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(gpuEnvironments, gpuTypePrefix),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			var types []string
			switch r.Type {
			case lkeNodePoolType:
				types = []string{text(field(r.Properties, "type"))}
			case lkeClusterType:
				for _, p := range list(field(r.Properties, "pools")) {
					types = append(types, text(at(p, "type")))
				}
			default:
				return nil
			}
			envs, err := gpuEnvironments.from(args.Config)
			if err != nil {
				return fmt.Errorf("gpu-pools-on-system-only: %w", err)
			}
			prefix, err := gpuTypePrefix.from(args.Config)
			if err != nil {
				return fmt.Errorf("gpu-pools-on-system-only: %w", err)
			}
			if stack.in(envs) {
				return nil
			}
			for _, t := range types {
				if strings.HasPrefix(t, prefix) {
					violation(args.Manager, "", describe(r),
						fmt.Sprintf("has GPU node type %q on environment %q; GPU pools belong to %s only", t, stack.Environment, strings.Join(envs, ", ")),
						"remove the pool (set lke-platform:gpuPool.enabled to false on this stack) and schedule GPU work on the system stack")
				}
			}
			return nil
		},
	})
}

// gpuTolerationPolicy: a pod that tolerates the GPU taint but asks for no GPU can land on a GPU node and hold it
// without using it, keeping vLLM off. Advisory: a node-level agent may tolerate the taint on purpose.
func gpuTolerationPolicy() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.GPUTolerationsRequests, policyx.ResourceValidationPolicyArgs{
		Description:      "A workload that tolerates the GPU taint requests GPUs (nvidia.com/gpu).",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ConfigSchema:     configSchema(gpuTaintKey, gpuResource),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			spec, ok := podSpec(args.Resource)
			if !ok || !known(spec) {
				return nil
			}
			taint, err := gpuTaintKey.from(args.Config)
			if err != nil {
				return fmt.Errorf("gpu-tolerations-request-gpus: %w", err)
			}
			name, err := gpuResource.from(args.Config)
			if err != nil {
				return fmt.Errorf("gpu-tolerations-request-gpus: %w", err)
			}
			tolerates := false
			for _, t := range list(at(spec, "tolerations")) {
				if text(at(t, "key")) == taint {
					tolerates = true
				}
			}
			if !tolerates {
				return nil
			}
			for _, c := range containers(spec) {
				for _, kind := range []string{"limits", "requests"} {
					if q, err := resource.ParseQuantity(text(c.get("resources", kind, name))); err == nil && q.Sign() > 0 {
						return nil
					}
				}
			}
			violation(args.Manager, "", describe(args.Resource),
				fmt.Sprintf("tolerates the %q taint but no container requests %s", taint, name),
				fmt.Sprintf("set resources.limits[%q] on the container that uses the GPU, or drop the toleration", name))
			return nil
		},
	})
}
