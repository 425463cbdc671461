{{/* Migrations as a Helm hook, for installs that migrate before rolling out rather than at
start. The pod gets no sidecar: an injected proxy would keep it running after the
migration exits. Its database Secret must exist before the hook runs. */}}
{{- define "agyn-service.migrationJob" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "agyn-service.name" . }}-migrate
  labels:
    {{- include "agyn-service.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: {{ .Values.migrations.job.hook }}
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .Values.migrations.job.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migrations.job.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "agyn-service.labels" . | nindent 8 }}
      annotations:
        sidecar.istio.io/inject: "false"
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- include "agyn-service.podSecurity" . | nindent 6 }}
      containers:
        - name: migrate
          {{- include "agyn-service.runtime" . | nindent 10 }}
          args: ["migrate"]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
---
{{- end -}}
