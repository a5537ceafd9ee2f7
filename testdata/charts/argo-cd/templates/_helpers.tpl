{{/*
Naming and labels as the upstream chart gives them: the full name is the release name when
it holds "argocd" (the nameOverride), else <release>-argocd; every component is
<fullname>-<component name> and is labelled app.kubernetes.io/name: argocd-<component name>.
*/}}
{{- define "argo-cd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "argo-cd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "argo-cd.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* (dict "context" . "name" <component name>) */}}
{{- define "argo-cd.component" -}}
{{- printf "%s-%s" (include "argo-cd.fullname" .context) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "argo-cd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "argo-cd.name" .context }}-{{ .name }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
{{- end -}}

{{- define "argo-cd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .context.Chart.Name .context.Chart.Version }}
{{ include "argo-cd.selectorLabels" . }}
app.kubernetes.io/component: {{ .name }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
app.kubernetes.io/part-of: argocd
{{- end -}}

{{/*
A Deployment or StatefulSet of one component, whose pods run one container.
(dict "context" . "kind" "Deployment" "component" .Values.server "args" (list ...))
*/}}
{{- define "argo-cd.workload" -}}
{{- $ctx := .context -}}
{{- $c := .component -}}
{{- $args := dict "context" $ctx "name" $c.name -}}
apiVersion: apps/v1
kind: {{ .kind }}
metadata:
  name: {{ include "argo-cd.component" $args }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "argo-cd.labels" $args | nindent 4 }}
spec:
  {{- if eq .kind "StatefulSet" }}
  serviceName: {{ include "argo-cd.component" $args }}
  {{- end }}
  replicas: {{ default 1 $c.replicas }}
  {{- with $c.deploymentStrategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "argo-cd.selectorLabels" $args | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "argo-cd.labels" $args | nindent 8 }}
    spec:
      {{- with .initContainer }}
      initContainers:
        - name: {{ .name }}
          image: {{ $.image }}
          resources:
            {{- toYaml .resources | nindent 12 }}
      {{- end }}
      containers:
        - name: {{ $c.name }}
          image: {{ .image }}
          args:
            {{- toYaml .args | nindent 12 }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
{{- end -}}
