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
{{- include "asana-exporter.checkOrganizations" . -}}
{{- if .Values.organizations -}}
{{- /* Each organisation's credentials are in the config file: the
     exporter refuses the credential flags beside it. */ -}}
{{- else if .Values.demo -}}
{{- $args = append $args "--demo" -}}
{{- else if .Values.oauth.enabled -}}
{{- $args = append $args (printf "--asana.oauth.client-id=%s" (required "oauth.clientID is required" .Values.oauth.clientID)) -}}
{{- $args = append $args "--asana.oauth.client-secret-file=/etc/asana_exporter/oauth/client-secret" -}}
{{- $args = append $args "--asana.oauth.refresh-token-file=/etc/asana_exporter/oauth/refresh-token" -}}
{{- else -}}
{{- $args = append $args "--asana.token-file=/etc/asana_exporter/token/token" -}}
{{- end -}}
{{- if and (not .Values.organizations) (or .Values.auditLog.existingSecret .Values.auditLog.value) -}}
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
{{- include "asana-exporter.checkOrganizations" . -}}
{{- if or (and (not .Values.demo) (not .Values.oauth.enabled) (not .Values.token.existingSecret) (not .Values.organizations)) (and .Values.oauth.enabled (not .Values.oauth.existingSecret)) .Values.auditLog.value -}}
true
{{- end -}}
{{- end -}}

{{/* Where the organisations' Secrets are mounted: NAME/token and
     NAME/audit-token under it. */}}
{{- define "asana-exporter.organizationsDir" -}}
/etc/asana_exporter/organizations
{{- end -}}

{{/* Fails, naming the values, when organizations is given beside what
     it replaces: the exporter would refuse the pod's flags or config at
     start, in a crash loop. Nothing without organizations. */}}
{{- define "asana-exporter.checkOrganizations" -}}
{{- $v := .Values -}}
{{- if $v.organizations -}}
{{- range $value, $set := dict "token.existingSecret" $v.token.existingSecret "token.value" $v.token.value "oauth.enabled" $v.oauth.enabled "auditLog.existingSecret" $v.auditLog.existingSecret "auditLog.value" $v.auditLog.value "demo" $v.demo -}}
{{- if $set -}}
{{- fail (printf "organizations and %s exclude each other: each organisation's credentials are organizations[].token and organizations[].auditLog; unset %s" $value $value) -}}
{{- end -}}
{{- end -}}
{{- if hasKey $v.config "organizations" -}}
{{- fail "organizations and config.organizations exclude each other: list the organisations under organizations alone, whose Secrets the chart mounts and from which it writes config.organizations" -}}
{{- end -}}
{{- range $key := list "workspaces" "only_listed_workspaces" "exclude_workspaces" "requests_per_minute" -}}
{{- if hasKey $v.config $key -}}
{{- fail (printf "organizations and config.%s exclude each other: give it for each organisation, as organizations[].config.%s" $key $key) -}}
{{- end -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $v.organizations -}}
{{- if hasKey $seen .name -}}
{{- fail (printf "organizations: the name %s is given twice: each organisation needs its own" .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The config file: config, with organizations[] written into
     config.organizations, each with its name, its token_file and
     audit_token_file where its Secrets are mounted, and its config. */}}
{{- define "asana-exporter.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $dir := include "asana-exporter.organizationsDir" . -}}
{{- with .Values.organizations -}}
{{- $orgs := list -}}
{{- range . -}}
{{- $org := deepCopy (.config | default dict) -}}
{{- $_ := set $org "name" .name -}}
{{- $_ = set $org "token_file" (printf "%s/%s/token" $dir .name) -}}
{{- if .auditLog -}}
{{- $_ = set $org "audit_token_file" (printf "%s/%s/audit-token" $dir .name) -}}
{{- end -}}
{{- $orgs = append $orgs $org -}}
{{- end -}}
{{- $_ := set $config "organizations" $orgs -}}
{{- end -}}
{{- if $config -}}
{{- toYaml $config -}}
{{- end -}}
{{- end -}}
