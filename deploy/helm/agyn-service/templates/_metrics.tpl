{{/* The metrics port's own objects and checks; the port itself is in the Deployment and the
Service, its NetworkPolicy and AuthorizationPolicy rules with the others (_policies.tpl). */}}

{{/* Refused: metrics on the RPC port; principals with plain text, which carries none; pod
labels without namespaces, which the NetworkPolicy rule would silently leave out. */}}
{{- define "agyn-service.metricsChecks" -}}
{{- $metrics := .Values.metrics -}}
{{- if $metrics.enabled -}}
{{- if eq (int $metrics.port) (int .Values.port) -}}
{{- fail (printf "metrics.port (%d) must differ from port: metrics are never served on the RPC port" (int $metrics.port)) -}}
{{- end -}}
{{- if and $metrics.scraper.principals $metrics.scraper.plaintext -}}
{{- fail "metrics.scraper.principals admit only callers that present mesh certificates, never plain text: set metrics.scraper.plaintext to false with them" -}}
{{- end -}}
{{- if and $metrics.scraper.podLabels (not $metrics.scraper.namespaces) -}}
{{- fail "metrics.scraper.podLabels narrow metrics.scraper.namespaces: list the scraper's namespaces too" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agyn-service.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | toString | quote }}
prometheus.io/path: /metrics
{{- end -}}

{{/* For the Prometheus Operator, which names the job after the Service: the service's name,
as the dashboard's `service` variable lists it. */}}
{{- define "agyn-service.serviceMonitor" -}}
{{- $labels := mergeOverwrite (include "agyn-service.labels" . | fromYaml) .Values.metrics.serviceMonitor.labels -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- toYaml $labels | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "agyn-service.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      scheme: http
      {{- with .Values.metrics.serviceMonitor.interval }}
      interval: {{ . }}
      {{- end }}
---
{{- end -}}

{{/* Plain text on the metrics port alone, for a scraper outside the mesh; the other ports
keep the namespace's mode (no `mtls` here: inherited). */}}
{{- define "agyn-service.metricsPeerAuthentication" -}}
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: {{ include "agyn-service.name" . }}-metrics
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "agyn-service.selectorLabels" . | nindent 6 }}
  portLevelMtls:
    {{ .Values.metrics.port | toString | quote }}:
      mode: PERMISSIVE
---
{{- end -}}
