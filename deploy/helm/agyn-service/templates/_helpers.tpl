{{/* The service's name: its Deployment, Service and ServiceAccount all carry it, so other
services reach it as `<name>:<port>` and the mesh knows it as `.../sa/<name>`. */}}
{{- define "agyn-service.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agyn-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agyn-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agyn-service.labels" -}}
{{ include "agyn-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: agyn
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "agyn-service.image" -}}
{{- $image := .Values.image -}}
{{- $registry := .Values.global.image.registry -}}
{{- $repository := ternary $image.repository (printf "%s/%s" $registry $image.repository) (empty $registry) -}}
{{- printf "%s:%s" $repository ($image.tag | default .Values.global.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The principal Istio gives a workload running as ServiceAccount `sa` in this namespace. */}}
{{- define "agyn-service.principal" -}}
{{- printf "%s/ns/%s/sa/%s" .root.Values.global.mesh.trustDomain .root.Release.Namespace .serviceAccount -}}
{{- end -}}

{{/* The access declaration generated from the service's code (absent for the Gateway). */}}
{{- define "agyn-service.access" -}}
{{- .Files.Get "access.yaml" | default "rules: []" -}}
{{- end -}}

{{/* The environment of the service container and of its migration Job. */}}
{{- define "agyn-service.env" -}}
- name: AGYN_ACCESS_MODE
  value: {{ ternary "mesh" "network" .Values.global.mesh.enabled }}
- name: AGYN_MESH_NAMESPACE
  value: {{ .Release.Namespace | quote }}
- name: GRPC_HOST
  value: "0.0.0.0"
- name: GRPC_PORT
  value: {{ .Values.port | quote }}
{{- range .Values.httpPorts }}
- name: {{ .setting }}
  value: {{ .port | quote }}
{{- end }}
- name: METRICS_PORT
  value: {{ ternary .Values.metrics.port 0 .Values.metrics.enabled | quote }}
- name: NATS_URL
  value: {{ .Values.global.natsUrl | quote }}
- name: SHUTDOWN_LAME_DUCK_SECONDS
  value: {{ .Values.shutdown.lameDuckSeconds | quote }}
- name: SHUTDOWN_GRACE_SECONDS
  value: {{ .Values.shutdown.graceSeconds | quote }}
{{- if .Values.database.enabled }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret | default .Values.global.databaseSecret }}
      key: {{ .Values.database.key | default (include "agyn-service.name" .) }}
- name: MIGRATE_ON_START
  value: {{ (not .Values.migrations.job.enabled) | quote }}
{{- end }}
{{- if .Values.objectStore.enabled }}
{{- with .Values.global.objectStore }}
- name: S3_ENDPOINT
  value: {{ .endpoint | quote }}
- name: S3_PUBLIC_ENDPOINT
  value: {{ .publicEndpoint | quote }}
- name: S3_BUCKET
  value: {{ .bucket | quote }}
- name: S3_REGION
  value: {{ .region | quote }}
- name: S3_USE_SSL
  value: {{ .useSSL | quote }}
- name: S3_VIRTUAL_HOSTED_STYLE
  value: {{ .virtualHostedStyle | quote }}
- name: S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .credentials.existingSecret }}
      key: {{ .credentials.accessKeyKey }}
- name: S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .credentials.existingSecret }}
      key: {{ .credentials.secretKeyKey }}
{{- end }}
{{- end }}
{{- range $name, $address := .Values.addresses }}
- name: {{ printf "%s_ADDRESS" ($name | upper | replace "-" "_") }}
  value: {{ $address | quote }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ include "agyn-service.name" . }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "k8s.namespace.name=%s,service.namespace=agyn" .Release.Namespace | quote }}
{{- with .Values.global.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- /* Tracing knows the service as a platform producer by its mesh identity, and without the
mesh by this header. */}}
{{- if not (hasKey $.Values.global.otel.env "OTEL_EXPORTER_OTLP_HEADERS") }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  value: {{ printf "x-agyn-caller=%s" (include "agyn-service.name" $) | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.global.otel.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- range $name, $value := .Values.settings }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- range $name, $ref := .Values.secretSettings }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
      {{- if hasKey $ref "optional" }}
      optional: {{ $ref.optional }}
      {{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* What the service container and the migration container share: the image, the
environment, resources and the container security context. */}}
{{- define "agyn-service.runtime" -}}
image: {{ include "agyn-service.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy | default .Values.global.image.pullPolicy }}
env:
  {{- include "agyn-service.env" . | nindent 2 }}
{{- with .Values.extraEnvFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "agyn-service.podSecurity" -}}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.Values.imagePullSecrets | default .Values.global.imagePullSecrets) }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* How long the service's stop may take (lame duck + grace), and the pod's
terminationGracePeriodSeconds: as set, or that plus 5 s; refused when it is not longer. */}}
{{- define "agyn-service.stopSeconds" -}}
{{- add .Values.shutdown.lameDuckSeconds .Values.shutdown.graceSeconds -}}
{{- end -}}

{{- define "agyn-service.terminationGracePeriodSeconds" -}}
{{- $stop := include "agyn-service.stopSeconds" . | int -}}
{{- $termination := .Values.terminationGracePeriodSeconds | default (add $stop 5) | int -}}
{{- if le $termination $stop -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be longer than shutdown.lameDuckSeconds + shutdown.graceSeconds (%d): the pod would be killed before its stop ends" $termination $stop) -}}
{{- end -}}
{{- $termination -}}
{{- end -}}

{{/* The port of the object store (global.objectStore.endpoint, host[:port] or a URL) for the
NetworkPolicy: the endpoint's own, else 443 over https (a https:// URL, useSSL without a
scheme, or AWS S3 when the endpoint is empty), else 80. */}}
{{- define "agyn-service.objectStorePort" -}}
{{- $store := .Values.global.objectStore -}}
{{- $endpoint := $store.endpoint -}}
{{- $https := or (not $endpoint) (hasPrefix "https://" $endpoint) (and (not (contains "://" $endpoint)) $store.useSSL) -}}
{{- $host := regexReplaceAll "/.*$" (regexReplaceAll "^[a-zA-Z][-a-zA-Z0-9+.]*://" $endpoint "") "" -}}
{{- if regexMatch ":[0-9]+$" $host -}}
{{- regexFind "[0-9]+$" $host -}}
{{- else -}}
{{- ternary 443 80 $https -}}
{{- end -}}
{{- end -}}

{{/* The port of the OTLP endpoint (global.otel.endpoint, a URL) for the NetworkPolicy, when
the URL names one (otherwise networkPolicy.egressPorts has OTLP's 4317). */}}
{{- define "agyn-service.otelPort" -}}
{{- $host := regexReplaceAll "/.*$" (regexReplaceAll "^[a-zA-Z][-a-zA-Z0-9+.]*://" .Values.global.otel.endpoint "") "" -}}
{{- if regexMatch ":[0-9]+$" $host -}}
{{- regexFind "[0-9]+$" $host -}}
{{- end -}}
{{- end -}}
