{{- define "agyn.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: agyn
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The platform's services (generated from the service table): name, database. */}}
{{- define "agyn.services" -}}
{{- (.Files.Get "services.yaml" | fromYaml).services | toJson -}}
{{- end -}}

{{/* Dev dependencies run outside the mesh: no sidecar, plain TCP from the services'. */}}
{{- define "agyn.devPodSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .uid }}
  runAsGroup: {{ .uid }}
  fsGroup: {{ .uid }}
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "agyn.devContainerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{- define "agyn.devStorage" -}}
{{- if .storage }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: {{ .storage }}
{{- end }}
{{- end -}}
