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

{{/* The flags that say what the exporter reads from Asana, and how: the
     config file, the audit log's state, the credentials. The Deployment
     runs with them, and NOTES.txt gives them to the seats and reclaim
     commands run in the pod. A YAML list, for fromYamlArray. */}}
{{- define "asana-exporter.asanaArgs" -}}
{{- $args := list -}}
{{- if or (not .Values.demo) .Values.config -}}
{{- /* The demo brings its own config unless one is given. */ -}}
{{- $args = append $args "--config.file=/etc/asana_exporter/config/config.yml" -}}
{{- end -}}
{{- $args = append $args "--storage.path=/var/lib/asana_exporter" -}}
{{- if .Values.demo -}}
{{- $args = append $args "--demo" -}}
{{- else if .Values.oauth.enabled -}}
{{- $args = append $args (printf "--asana.oauth.client-id=%s" (required "oauth.clientID is required" .Values.oauth.clientID)) -}}
{{- $args = append $args "--asana.oauth.client-secret-file=/etc/asana_exporter/oauth/client-secret" -}}
{{- $args = append $args "--asana.oauth.refresh-token-file=/etc/asana_exporter/oauth/refresh-token" -}}
{{- else -}}
{{- $args = append $args "--asana.token-file=/etc/asana_exporter/token/token" -}}
{{- end -}}
{{- if or .Values.auditLog.existingSecret .Values.auditLog.value -}}
{{- $args = append $args "--asana.audit-token-file=/etc/asana_exporter/audit/token" -}}
{{- end -}}
{{- toYaml $args -}}
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
