package gitops

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/platform-eng/lke-platform/upstream"
)

// SettingsConfigMap is Argo CD's own settings (argocd-cm), part of the vendored install.
const SettingsConfigMap = "argocd-cm"

// statefulSetDiffKey is the argocd-cm key of what Argo CD leaves out when it compares a StatefulSet.
const statefulSetDiffKey = "resource.customizations.ignoreDifferences.apps_StatefulSet"

// statefulSetIgnored: the API server writes apiVersion and kind into every volumeClaimTemplate, and a chart whose
// templates leave them out (Tempo's) is then OutOfSync for ever, however often Argo CD syncs it. Only those two
// fields are ignored; any other change to a claim template still shows.
var statefulSetIgnored = struct {
	JQPathExpressions []string `json:"jqPathExpressions"`
}{[]string{".spec.volumeClaimTemplates[]?.apiVersion", ".spec.volumeClaimTemplates[]?.kind"}}

// setUpSettings adds the platform's diff settings to the install's argocd-cm, keeping upstream's.
func setUpSettings(objs []upstream.Object) error {
	cm, err := findObject(objs, "ConfigMap", SettingsConfigMap)
	if err != nil {
		return err
	}
	ignored, err := yaml.Marshal(statefulSetIgnored)
	if err != nil {
		return err
	}
	data, _ := cm["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	if _, ok := data[statefulSetDiffKey]; ok {
		return fmt.Errorf("gitops: the vendored %s already sets %s: merge it with the platform's", SettingsConfigMap, statefulSetDiffKey)
	}
	data[statefulSetDiffKey] = string(ignored)
	cm["data"] = data
	return nil
}
