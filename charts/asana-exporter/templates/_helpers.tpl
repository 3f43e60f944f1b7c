{{/* The chart's name: nameOverride, or the chart's. At most 63 characters,
     a label value's limit. */}}
{{- define "asana-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's name for its objects, as `helm create` makes it: the
     release name alone when it holds the chart's name ("asana-exporter",
     "asana-exporter-prod"), release-chart otherwise ("asana" gives
     "asana-asana-exporter"), or fullnameOverride. At most 63 characters,
     the limit of a DNS label, which a Service's name is. */}}
{{- define "asana-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "asana-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "asana-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "asana-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "asana-exporter.labels" -}}
helm.sh/chart: {{ include "asana-exporter.chart" . }}
{{ include "asana-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "asana-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "asana-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the token, the OAuth files or the audit token:
     the user's, or the chart's. */}}
{{- define "asana-exporter.secretName" -}}
{{- include "asana-exporter.fullname" . -}}
{{- end -}}

{{- define "asana-exporter.needsSecret" -}}
{{- if or (and (not .Values.demo) (not .Values.oauth.enabled) (not .Values.token.existingSecret)) (and .Values.oauth.enabled (not .Values.oauth.existingSecret)) .Values.auditLog.value -}}
true
{{- end -}}
{{- end -}}
