{{/* The chart's name, at most 63 characters. */}}
{{- define "orca.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the prefix of every object's name. */}}
{{- define "orca.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "orca.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orca.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orca.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "orca.labels" -}}
helm.sh/chart: {{ include "orca.chart" . }}
{{ include "orca.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "orca.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "orca.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "orca.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding the kubelet API's serving certificate, when ORCA does not make its own. */}}
{{- define "orca.kubeletTLSSecret" -}}
{{- $c := .Values.kubeletServingCert }}
{{- if eq $c.source "secret" }}
{{- required "kubeletServingCert.secretName is required when kubeletServingCert.source is secret" $c.secretName }}
{{- else if eq $c.source "certManager" }}
{{- default (printf "%s-kubelet-serving" (include "orca.fullname" .)) $c.secretName }}
{{- end }}
{{- end }}

{{- define "orca.opsPort" -}}
{{- $ops := .Values.config.ops | default dict }}
{{- $ops.port | default 8080 | int }}
{{- end }}

{{- define "orca.kubeletPort" -}}
{{- .Values.config.node.kubeletPort | default 10250 | int }}
{{- end }}

{{/* config.yaml: .Values.config with what the chart decides filled in (mounted paths, the ops port). */}}
{{/* Where the ledger ConfigMap of the config's own budgets lives: config.budgets.ledgerNamespace, else the release namespace. */}}
{{- define "orca.ledgerNamespace" -}}
{{- $b := .Values.config.budgets | default dict }}
{{- $b.ledgerNamespace | default .Release.Namespace }}
{{- end }}

{{- define "orca.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $budgets := $cfg.budgets | default dict }}
{{- $_ := set $budgets "ledgerNamespace" (include "orca.ledgerNamespace" .) }}
{{- $_ := set $cfg "budgets" $budgets }}
{{- $ops := merge (dict "port" (include "orca.opsPort" . | int)) ($cfg.ops | default dict) }}
{{- $_ := set $cfg "ops" $ops }}
{{- $kubelet := $cfg.kubeletApi | default dict }}
{{- if include "orca.kubeletTLSSecret" . }}
{{- $_ := set $kubelet "tlsCertFile" "/etc/orca/tls/tls.crt" }}
{{- $_ := set $kubelet "tlsKeyFile" "/etc/orca/tls/tls.key" }}
{{- end }}
{{- with .Values.kubeletServingCert.clientCA }}
{{- if .configMapName }}
{{- $_ := set $kubelet "clientCAFile" (printf "/etc/orca/client-ca/%s" .key) }}
{{- end }}
{{- end }}
{{- if $kubelet }}
{{- $_ := set $cfg "kubeletApi" $kubelet }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
