{{/* Labels of every object: the environment's common labels and the chart's name (which wins). */}}
{{- define "sample-service.labels" -}}
{{- toYaml (merge (dict "app.kubernetes.io/name" .Chart.Name) (deepCopy (.Values.labels | default dict))) }}
{{- end }}

{{/* The pod selector: this one label only, because a Deployment's selector is immutable and the environment's
labels could change. */}}
{{- define "sample-service.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end }}
