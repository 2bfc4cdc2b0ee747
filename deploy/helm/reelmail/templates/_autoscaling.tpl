{{/*
A HorizontalPodAutoscaler for one component's Deployment.
Call with (dict "root" $ "component" "movies" "autoscaling" .Values.movies.autoscaling).
*/}}
{{- define "reelmail.hpa" -}}
{{- $a := .autoscaling }}
{{- $ctx := dict "root" .root "component" .component }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "reelmail.componentName" $ctx }}
  namespace: {{ include "reelmail.namespace" .root }}
  labels:
    {{- include "reelmail.componentLabels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "reelmail.componentName" $ctx }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if not (kindIs "invalid" $a.targetCPUUtilizationPercentage) }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- end }}
    {{- if not (kindIs "invalid" $a.targetMemoryUtilizationPercentage) }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.targetMemoryUtilizationPercentage }}
    {{- end }}
  {{- with $a.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
A PodDisruptionBudget for one component; minAvailable wins over maxUnavailable.
Call with (dict "root" $ "component" "movies" "pdb" .Values.movies.podDisruptionBudget).
*/}}
{{- define "reelmail.pdb" -}}
{{- $ctx := dict "root" .root "component" .component }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "reelmail.componentName" $ctx }}
  namespace: {{ include "reelmail.namespace" .root }}
  labels:
    {{- include "reelmail.componentLabels" $ctx | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .pdb.minAvailable) }}
  minAvailable: {{ .pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .pdb.maxUnavailable }}
  {{- end }}
  {{- with .pdb.unhealthyPodEvictionPolicy }}
  unhealthyPodEvictionPolicy: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "reelmail.componentSelectorLabels" $ctx | nindent 6 }}
{{- end }}
