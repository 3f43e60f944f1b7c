{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "asana-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "asana-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "asana-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
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
