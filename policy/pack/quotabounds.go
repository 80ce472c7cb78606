package pack

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
)

// QuotaBounds are the most a namespace's ResourceQuota may grant, by hard-limit key ("pods", "requests.cpu").
type QuotaBounds map[string]resource.Quantity

// quotaAliases are the older spellings Kubernetes accepts for the same limit.
var quotaAliases = map[string]string{"requests.cpu": "cpu", "requests.memory": "memory"}

// CheckQuota compares a ResourceQuota's hard limits with the bounds and returns one problem per bounded key
// that is missing (a missing key means no limit at all), not a quantity, or above its bound. Problems come in
// key order so messages are stable.
func CheckQuota(hard map[string]string, bounds QuotaBounds) []string {
	keys := make([]string, 0, len(bounds))
	for k := range bounds {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var problems []string
	for _, key := range keys {
		bound := bounds[key]
		raw, ok := hard[key]
		if !ok {
			raw, ok = hard[quotaAliases[key]]
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is not limited (want at most %s)", key, bound.String()))
			continue
		}
		got, err := resource.ParseQuantity(raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s = %q is not a Kubernetes quantity", key, raw))
			continue
		}
		if got.Cmp(bound) > 0 {
			problems = append(problems, fmt.Sprintf("%s = %s exceeds the bound %s", key, raw, bound.String()))
		}
	}
	return problems
}
