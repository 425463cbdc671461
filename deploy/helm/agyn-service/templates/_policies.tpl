{{/* The mesh's ALLOW list for this service, built from its access declaration (access.yaml,
generated from the code that the in-process check also reads): one rule per group of
callers, gRPC paths in `paths` (never in `methods`), and the caller's identity header
required where the declaration requires an end user. Anything not listed is denied. */}}
{{- define "agyn-service.authorizationPolicy" -}}
{{- $access := include "agyn-service.access" . | fromYaml -}}
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "agyn-service.selectorLabels" . | nindent 6 }}
  action: ALLOW
  rules:
    {{- with $access.openPaths }}
    # Health, reflection and the methods open to any workload (OTLP Export).
    - to:
        - operation:
            methods: ["POST"]
            paths:
              {{- toYaml . | nindent 14 }}
    {{- end }}
    {{- if and .Values.httpPorts $access.openHttpPaths }}
    # The open paths of the HTTP ports (OTLP/HTTP): any caller, whom the service authenticates.
    - to:
        - operation:
            ports:
              {{- range .Values.httpPorts }}
              - {{ .port | toString | quote }}
              {{- end }}
            methods: ["POST"]
            paths:
              {{- toYaml $access.openHttpPaths | nindent 14 }}
    {{- end }}
    {{- range $access.rules }}
    - from:
        - source:
            principals:
              {{- range .callers }}
              - {{ include "agyn-service.principal" (dict "root" $ "serviceAccount" .) }}
              {{- end }}
      to:
        - operation:
            methods: ["POST"]
            paths:
              {{- toYaml .paths | nindent 14 }}
      {{- if eq .identity "required" }}
      when:
        - key: request.headers[x-identity-id]
          values: ["*"]
      {{- end }}
    {{- end }}
    {{- if .Values.metrics.enabled }}
    # Metrics, by port: a scraper outside the mesh has no principal (values: metrics.scraper).
    - to:
        - operation:
            ports: [{{ .Values.metrics.port | toString | quote }}]
      {{- with .Values.metrics.scraper.principals }}
      from:
        - source:
            principals:
              {{- toYaml . | nindent 14 }}
      {{- end }}
    {{- end }}
    {{- with .Values.authorizationPolicy.extraRules }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
---
{{- end -}}

{{/* Who may open connections to this service and where it may connect: its declared
callers and the metrics scraper in, and out only DNS, the services it calls, NATS,
PostgreSQL, the collector, the object store (if it uses one) and (in the mesh) istiod. */}}
{{- define "agyn-service.networkPolicy" -}}
{{- $access := include "agyn-service.access" . | fromYaml -}}
{{- $callers := list -}}
{{- range $access.rules }}{{ $callers = concat $callers .callers }}{{ end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "agyn-service.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress", "Egress"]
  ingress:
    {{- if $callers }}
    - from:
        - podSelector:
            matchExpressions:
              - key: app.kubernetes.io/name
                operator: In
                values:
                  {{- toYaml ($callers | uniq | sortAlpha) | nindent 18 }}
      ports:
        - port: {{ .Values.port }}
          protocol: TCP
    {{- end }}
    {{- if and .Values.metrics.enabled .Values.metrics.scraper.namespaces }}
    # The scraper (values: metrics.scraper), on the metrics port only.
    - from:
        - namespaceSelector:
            matchExpressions:
              - key: kubernetes.io/metadata.name
                operator: In
                values:
                  {{- toYaml .Values.metrics.scraper.namespaces | nindent 18 }}
          {{- with .Values.metrics.scraper.podLabels }}
          podSelector:
            matchLabels:
              {{- toYaml . | nindent 14 }}
          {{- end }}
      ports:
        - port: {{ .Values.metrics.port }}
          protocol: TCP
        {{- if and .Values.global.mesh.enabled .Values.metrics.scrapeAnnotations }}
        # Istio's agent, where the rewritten annotations send the scraper.
        - port: 15020
          protocol: TCP
        {{- end }}
    {{- end }}
    {{- with .Values.httpPorts }}
    # The HTTP ports: any pod (the service authenticates the caller).
    - ports:
        {{- range . }}
        - port: {{ .port }}
          protocol: TCP
        {{- end }}
    {{- end }}
    {{- with .Values.networkPolicy.extraIngress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  egress:
    - to:
        - namespaceSelector: {}
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- range $name, $address := .Values.addresses }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ $name }}
      ports:
        - port: {{ regexReplaceAll ".*:" $address "" | int }}
          protocol: TCP
    {{- end }}
    {{- with .Values.networkPolicy.egressPorts }}
    # NATS, PostgreSQL and the collector may live outside the cluster: by port.
    - ports:
        {{- range . }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
    {{- end }}
    {{- with include "agyn-service.otelPort" . }}
    # Where the spans go (global.otel.endpoint), in the cluster or not: by port.
    - ports:
        - port: {{ . }}
          protocol: TCP
    {{- end }}
    {{- if .Values.objectStore.enabled }}
    # The object store, in the cluster or not: by port.
    - ports:
        - port: {{ include "agyn-service.objectStorePort" . }}
          protocol: TCP
    {{- end }}
    {{- if .Values.global.mesh.enabled }}
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ .Values.global.mesh.controlPlaneNamespace }}
      ports:
        - port: 15012
          protocol: TCP
    {{- end }}
    {{- with .Values.networkPolicy.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
---
{{- end -}}
