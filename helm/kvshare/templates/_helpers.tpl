{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "kvshare.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release name, plus the chart name unless the release already contains it. */}}
{{- define "kvshare.fullname" -}}
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

{{- define "kvshare.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Kubernetes recommended labels (app.kubernetes.io/*) every object carries, less name/instance/component. */}}
{{- define "kvshare.metaLabels" -}}
helm.sh/chart: {{ include "kvshare.chart" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kvshare
{{- end }}

{{/* Name and instance: the part of the selector shared by every component of the release. */}}
{{- define "kvshare.instanceLabels" -}}
app.kubernetes.io/name: {{ include "kvshare.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The kvshare server pods. */}}
{{- define "kvshare.selectorLabels" -}}
{{ include "kvshare.instanceLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "kvshare.labels" -}}
{{ include "kvshare.metaLabels" . }}
{{ include "kvshare.selectorLabels" . }}
{{- end }}

{{/* The headless metrics Service of the ServiceMonitor. */}}
{{- define "kvshare.metrics.selectorLabels" -}}
{{ include "kvshare.instanceLabels" . }}
app.kubernetes.io/component: metrics
{{- end }}

{{- define "kvshare.metrics.labels" -}}
{{ include "kvshare.metaLabels" . }}
{{ include "kvshare.metrics.selectorLabels" . }}
{{- end }}

{{/* The in-chart Redis. */}}
{{- define "kvshare.redis.fullname" -}}
{{- printf "%s-redis" (include "kvshare.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kvshare.redis.selectorLabels" -}}
{{ include "kvshare.instanceLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "kvshare.redis.labels" -}}
{{ include "kvshare.metaLabels" . }}
{{ include "kvshare.redis.selectorLabels" . }}
{{- end }}

{{- define "kvshare.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kvshare.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The application image: the GPU build when gpu.enabled. */}}
{{- define "kvshare.image" -}}
{{- $tag := default .Chart.AppVersion (toString (.Values.image.tag | default "")) }}
{{- if .Values.gpu.enabled }}
{{- $repository := default .Values.image.repository .Values.gpu.image.repository }}
{{- printf "%s:%s" $repository (default (printf "%s-gpu" $tag) (toString (.Values.gpu.image.tag | default ""))) }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Whether the prompt cache uses Redis: an external host, or the in-chart one. */}}
{{- define "kvshare.redis.enabled" -}}
{{- if and .Values.promptCache.enabled (or .Values.redis.host .Values.redis.inChart.enabled) }}true{{- end }}
{{- end }}

{{- define "kvshare.redis.host" -}}
{{- if .Values.redis.inChart.enabled }}
{{- include "kvshare.redis.fullname" . }}
{{- else }}
{{- .Values.redis.host }}
{{- end }}
{{- end }}

{{/* The Secret holding the chart-managed credentials. */}}
{{- define "kvshare.secretName" -}}
{{- include "kvshare.fullname" . }}
{{- end }}

{{/* The Secret holding the prompt cache's keys (HMAC or encryption). */}}
{{- define "kvshare.promptCacheKeys.secretName" -}}
{{- default (include "kvshare.secretName" .) .Values.promptCache.existingSecret }}
{{- end }}

{{- define "kvshare.hmacKey.secretKey" -}}
{{- if .Values.promptCache.existingSecret }}{{ .Values.promptCache.existingSecretKey }}{{ else }}hmac-key{{ end }}
{{- end }}

{{- define "kvshare.redisPassword.secretName" -}}
{{- default (include "kvshare.secretName" .) .Values.redis.existingSecret }}
{{- end }}

{{- define "kvshare.redisPassword.secretKey" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretPasswordKey }}{{ else }}redis-password{{ end }}
{{- end }}

{{- define "kvshare.encryptionKey.secretKey" -}}
{{- if .Values.promptCache.existingSecret }}{{ .Values.promptCache.existingSecretKeys.encryptionKey }}{{ else }}encryption-key{{ end }}
{{- end }}

{{- define "kvshare.decryptionKeys.secretKey" -}}
{{- if .Values.promptCache.existingSecret }}{{ .Values.promptCache.existingSecretKeys.decryptionKeys }}{{ else }}decryption-keys{{ end }}
{{- end }}

{{/* Frames in Redis are encrypted (AES-256-GCM) when asked to or when a key is given; the key is the given one, an
     existing Secret's, or one the chart generates. */}}
{{- define "kvshare.encryptionKey.set" -}}
{{- if or .Values.promptCache.encryptAtRest .Values.promptCache.encryptionKey }}true{{- end }}
{{- end }}

{{/* Otherwise frames in Redis are always signed: with the given key, an existing Secret's, or one the chart
     generates. The service ignores an HMAC key beside an encryption key (GCM authenticates), so none is passed. */}}
{{- define "kvshare.hmacKey.set" -}}
{{- if and (not (include "kvshare.encryptionKey.set" .)) (or .Values.promptCache.hmacKey .Values.promptCache.existingSecret (include "kvshare.redis.enabled" .)) }}true{{- end }}
{{- end }}

{{- define "kvshare.redisPassword.set" -}}
{{- if or .Values.redis.password .Values.redis.existingSecret }}true{{- end }}
{{- end }}

{{- define "kvshare.tenants.secretName" -}}
{{- default (printf "%s-tenants" (include "kvshare.fullname" .)) .Values.promptCache.tenantsExistingSecret }}
{{- end }}

{{- define "kvshare.tenants.set" -}}
{{- if or .Values.promptCache.tenants .Values.promptCache.tenantsExistingSecret }}true{{- end }}
{{- end }}

{{/* The model directory inside the container, when the model comes from a volume. */}}
{{- define "kvshare.model.fromVolume" -}}
{{- if or .Values.model.existingClaim .Values.model.image.repository }}true{{- end }}
{{- end }}

{{- define "kvshare.terminationGracePeriodSeconds" -}}
{{- add .Values.shutdown.preStopSleepSeconds .Values.shutdown.timeoutSeconds .Values.shutdown.extraGraceSeconds }}
{{- end }}

{{/* The model id the service serves (kvshare.model.name, else the model directory's name, else the bundled model). */}}
{{- define "kvshare.modelName" -}}
{{- if .Values.model.name }}
{{- .Values.model.name }}
{{- else if include "kvshare.model.fromVolume" . }}
{{- base .Values.model.mountPath }}
{{- else }}
{{- "kvshare-support-tiny" }}
{{- end }}
{{- end }}

{{/* PromQL label matchers for this release's pods, as Prometheus labels scraped targets (namespace, pod). */}}
{{- define "kvshare.podMatchers" -}}
namespace="{{ .Release.Namespace }}", pod=~"{{ include "kvshare.fullname" . }}-[a-z0-9]+-[a-z0-9]+"
{{- end }}
