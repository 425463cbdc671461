{{/* Everything one service needs, each object behind its own switch. A service chart's only
template is `{{ include "agyn-service.workload" . }}`. */}}
{{- define "agyn-service.workload" -}}
{{- include "agyn-service.metricsChecks" . }}
{{- include "agyn-service.serviceAccount" . }}
{{ include "agyn-service.deployment" . }}
{{ include "agyn-service.service" . }}
{{- if .Values.podDisruptionBudget.enabled }}
{{ include "agyn-service.podDisruptionBudget" . }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{ include "agyn-service.autoscaler" . }}
{{- end }}
{{- if .Values.networkPolicy.enabled }}
{{ include "agyn-service.networkPolicy" . }}
{{- end }}
{{- if and .Values.global.mesh.enabled .Values.authorizationPolicy.enabled }}
{{ include "agyn-service.authorizationPolicy" . }}
{{- end }}
{{- if and .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled }}
{{ include "agyn-service.serviceMonitor" . }}
{{- end }}
{{- if and .Values.metrics.enabled .Values.metrics.scraper.plaintext .Values.global.mesh.enabled }}
{{ include "agyn-service.metricsPeerAuthentication" . }}
{{- end }}
{{- if and .Values.database.enabled .Values.migrations.job.enabled }}
{{ include "agyn-service.migrationJob" . }}
{{- end }}
{{- end -}}

{{- define "agyn-service.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
---
{{- end -}}

{{- define "agyn-service.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "agyn-service.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "agyn-service.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- $annotations := .Values.podAnnotations }}
      {{- if .Values.global.mesh.enabled }}
      {{- /* The service connects to PostgreSQL and NATS at once: through a ready proxy. And the
      proxy outlives the service's stop: Istio kills it 5 s after SIGTERM by default, cutting
      the calls still finishing and their database connections. */}}
      {{- $proxy := printf "holdApplicationUntilProxyStarts: true\nterminationDrainDuration: %ss" (include "agyn-service.terminationGracePeriodSeconds" .) }}
      {{- $annotations = mergeOverwrite (dict "proxy.istio.io/config" $proxy) $annotations }}
      {{- end }}
      {{- if and .Values.metrics.enabled .Values.metrics.scrapeAnnotations }}
      {{- $annotations = mergeOverwrite (include "agyn-service.scrapeAnnotations" . | fromYaml) $annotations }}
      {{- end }}
      {{- with $annotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "agyn-service.name" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- include "agyn-service.podSecurity" . | nindent 6 }}
      # Longer than the service's stop: its lame duck and grace period (values: shutdown).
      terminationGracePeriodSeconds: {{ include "agyn-service.terminationGracePeriodSeconds" . }}
      containers:
        - name: {{ include "agyn-service.name" . }}
          {{- include "agyn-service.runtime" . | nindent 10 }}
          args: ["serve"]
          ports:
            - name: {{ .Values.portName }}
              containerPort: {{ .Values.port }}
              protocol: TCP
            {{- range .Values.httpPorts }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
            {{- if .Values.metrics.enabled }}
            - name: metrics
              containerPort: {{ .Values.metrics.port }}
              protocol: TCP
            {{- end }}
          # Native gRPC probes on the standard health service: readiness follows the
          # database and NATS, and is NOT_SERVING from the start of the stop; liveness asks for
          # the `liveness` entry, which follows neither.
          startupProbe:
            grpc:
              port: {{ .Values.port }}
              service: liveness
            {{- toYaml .Values.probes.startup | nindent 12 }}
          livenessProbe:
            grpc:
              port: {{ .Values.port }}
              service: liveness
            {{- toYaml .Values.probes.liveness | nindent 12 }}
          readinessProbe:
            grpc:
              port: {{ .Values.port }}
            {{- toYaml .Values.probes.readiness | nindent 12 }}
          volumeMounts:
            # The root filesystem is read-only; Python and tools still want a /tmp.
            - name: tmp
              mountPath: /tmp
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
---
{{- end -}}

{{- define "agyn-service.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "agyn-service.selectorLabels" . | nindent 4 }}
  ports:
    # The name (and appProtocol) tell Istio the protocol: gRPC paths can then be matched.
    - name: {{ .Values.portName }}
      port: {{ .Values.port }}
      targetPort: {{ .Values.portName }}
      appProtocol: {{ .Values.portName }}
      protocol: TCP
    {{- range .Values.httpPorts }}
    # Plain HTTP beside the RPC port (OTLP/HTTP for tracing).
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      appProtocol: http
      protocol: TCP
    {{- end }}
    {{- if .Values.metrics.enabled }}
    # Prometheus's plain HTTP/1.1, on a port of its own.
    - name: metrics
      port: {{ .Values.metrics.port }}
      targetPort: metrics
      appProtocol: http
      protocol: TCP
    {{- end }}
---
{{- end -}}

{{- define "agyn-service.podDisruptionBudget" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
spec:
  {{- if hasKey .Values.podDisruptionBudget "maxUnavailable" }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  {{- else }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "agyn-service.selectorLabels" . | nindent 6 }}
---
{{- end -}}

{{- define "agyn-service.autoscaler" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "agyn-service.name" . }}
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "agyn-service.name" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
---
{{- end -}}
