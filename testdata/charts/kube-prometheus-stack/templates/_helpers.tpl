{{/*
Names follow the rules of the upstream chart and its subcharts: kube-prometheus-stack
truncates its full name to 26 characters; grafana, kube-state-metrics and
prometheus-node-exporter each use "<release>-<chart>" unless the release name holds the
chart name.
*/}}
{{- define "kps.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "kps.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kps.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.Version | quote }}
app.kubernetes.io/part-of: {{ include "kps.name" . }}
chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
{{- end -}}

{{/* The full name a subchart called $chart would get in this release. */}}
{{- define "kps.subchartFullname" -}}
{{- $chart := index . 0 -}}
{{- $root := index . 1 -}}
{{- if contains $chart $root.Release.Name -}}
{{- $root.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" $root.Release.Name $chart | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kps.prometheusName" -}}{{ include "kps.fullname" . }}-prometheus{{- end -}}
{{- define "kps.alertmanagerName" -}}{{ include "kps.fullname" . }}-alertmanager{{- end -}}
{{- define "kps.grafanaName" -}}{{ include "kps.subchartFullname" (list "grafana" .) }}{{- end -}}
{{- define "kps.ksmName" -}}{{ include "kps.subchartFullname" (list "kube-state-metrics" .) }}{{- end -}}
{{- define "kps.nodeExporterName" -}}{{ include "kps.subchartFullname" (list "prometheus-node-exporter" .) }}{{- end -}}
