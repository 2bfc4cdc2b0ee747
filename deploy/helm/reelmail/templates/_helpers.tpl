{{/*
Names. Kubernetes names are limited to 63 characters (DNS-1123 labels), so every
name is truncated, and a component suffix is kept whole by truncating what precedes it.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "reelmail.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A fully qualified app name: the release name, followed by the chart name unless the
release name already contains it.
*/}}
{{- define "reelmail.fullname" -}}
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

{{/*
The name of one component's objects: "<fullname>-<component>", within 63 characters.
Call with (dict "root" $ "component" "movies").
*/}}
{{- define "reelmail.componentName" -}}
{{- $suffix := printf "-%s" .component }}
{{- $base := include "reelmail.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s%s" $base $suffix }}
{{- end }}

{{/* The namespace every object goes to. */}}
{{- define "reelmail.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Chart name and version, as used by the helm.sh/chart label. */}}
{{- define "reelmail.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of a release. They never carry the chart or app
version, because a Deployment's selector cannot change after it is created.
*/}}
{{- define "reelmail.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reelmail.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "reelmail.labels" -}}
helm.sh/chart: {{ include "reelmail.chart" . }}
{{ include "reelmail.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "reelmail.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "movies"). */}}
{{- define "reelmail.componentSelectorLabels" -}}
{{ include "reelmail.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of one component's objects. Call with (dict "root" $ "component" "movies"). */}}
{{- define "reelmail.componentLabels" -}}
{{ include "reelmail.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The service account the workloads run as. */}}
{{- define "reelmail.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "reelmail.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository, then the tag (default appVersion) or a digest. */}}
{{- define "reelmail.image" -}}
{{- $repository := .Values.image.repository }}
{{- if .Values.image.registry }}
{{- $repository = printf "%s/%s" .Values.image.registry .Values.image.repository }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Secrets. Each group (database, auth, smtp, Kafka SASL) comes either from the Secret
this chart creates or from an existing Secret the operator names; these helpers say
which Secret and key a variable is read from.
*/}}

{{/* The Secret this chart creates for every group that has no existingSecret. */}}
{{- define "reelmail.secretName" -}}
{{- include "reelmail.fullname" . }}
{{- end }}

{{/* Whether the SMTP relay needs AUTH, i.e. SMTP_USERNAME and SMTP_PASSWORD are set. */}}
{{- define "reelmail.smtp.auth" -}}
{{- if or .Values.smtp.existingSecret .Values.smtp.username }}true{{ end }}
{{- end }}

{{/* Whether Kafka is reached over SASL. */}}
{{- define "reelmail.kafka.sasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}

{{/* Whether Kafka is reached over TLS. */}}
{{- define "reelmail.kafka.tls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end }}
{{- end }}

{{/* Where the Kafka CA bundle is mounted in the containers. */}}
{{- define "reelmail.kafka.caDir" -}}
/etc/reelmail/kafka-ca
{{- end }}

{{/* Where the Kafka client certificate and key are mounted. */}}
{{- define "reelmail.kafka.clientCertDir" -}}
/etc/reelmail/kafka-client
{{- end }}

{{/* Whether the movie service has a database configured, rather than the SQLite fallback. */}}
{{- define "reelmail.database.configured" -}}
{{- if or .Values.database.existingSecret .Values.database.url .Values.database.host }}true{{ end }}
{{- end }}

{{/* movies.replicaCount, or when null 2 with a database and 1 on the SQLite fallback. */}}
{{- define "reelmail.movies.replicas" -}}
{{- $count := .Values.movies.replicaCount }}
{{- if kindIs "invalid" $count }}
{{- $count = ternary 2 1 (eq (include "reelmail.database.configured" .) "true") }}
{{- end }}
{{- $count }}
{{- end }}

{{/* The DATABASE_URL built from database.host and the other parts; it has no password. */}}
{{- define "reelmail.database.partsUrl" -}}
{{- $d := .Values.database }}
{{- $query := list }}
{{- range $key, $value := $d.parameters }}
{{- $query = append $query (printf "%s=%s" (urlquery $key) (urlquery (toString $value))) }}
{{- end }}
{{- printf "postgresql+asyncpg://%s@%s:%d/%s" (urlquery $d.user) $d.host (int $d.port) (urlquery $d.name) }}
{{- with $query }}?{{ join "&" . }}{{ end }}
{{- end }}

{{/*
One env entry read from a Secret.
Call with (dict "name" "DATABASE_URL" "secret" "my-secret" "key" "url").
*/}}
{{- define "reelmail.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end }}

{{/*
DATABASE_URL (and DATABASE_PASSWORD, for a URL built from parts), for the movie service
and the migrations. Inline values are read from the Secret named "inline": the chart's,
or the migrations' hook Secret. Call with (dict "root" $ "inline" "<secret name>").
*/}}
{{- define "reelmail.env.database" -}}
{{- $d := .root.Values.database }}
{{- if $d.host }}
- name: DATABASE_URL
  value: {{ include "reelmail.database.partsUrl" .root | quote }}
{{- if $d.existingSecret }}
{{ include "reelmail.secretEnv" (dict "name" "DATABASE_PASSWORD" "secret" $d.existingSecret "key" $d.passwordKey) }}
{{- else if $d.password }}
{{ include "reelmail.secretEnv" (dict "name" "DATABASE_PASSWORD" "secret" .inline "key" "DATABASE_PASSWORD") }}
{{- end }}
{{- else if $d.existingSecret }}
{{ include "reelmail.secretEnv" (dict "name" "DATABASE_URL" "secret" $d.existingSecret "key" $d.existingSecretKey) }}
{{- else }}
{{ include "reelmail.secretEnv" (dict "name" "DATABASE_URL" "secret" .inline "key" "DATABASE_URL") }}
{{- end }}
{{- end }}

{{/* The secret data the database needs inline: the URL, or the password of the parts. */}}
{{- define "reelmail.database.inlineSecret" -}}
{{- $d := .Values.database }}
{{- if not $d.existingSecret }}
{{- if $d.host }}
{{- with $d.password }}
DATABASE_PASSWORD: {{ . | quote }}
{{- end }}
{{- else }}
DATABASE_URL: {{ $d.url | default "sqlite+aiosqlite:////tmp/reelmail-movies.db" | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* OTP_HMAC_SECRET, JWT_SECRET and the mail keyring, for the movie service. */}}
{{- define "reelmail.env.auth" -}}
{{ include "reelmail.env.generatedSecret" (dict "root" . "name" "OTP_HMAC_SECRET") }}
{{ include "reelmail.env.generatedSecret" (dict "root" . "name" "JWT_SECRET") }}
{{ include "reelmail.env.mailSeal" . }}
{{- end }}

{{/* MAIL_SEAL_KEYS, the keyring movies seals codes with and the mailer opens them with. */}}
{{- define "reelmail.env.mailSeal" -}}
{{ include "reelmail.env.generatedSecret" (dict "root" . "name" "MAIL_SEAL_KEYS") }}
{{- end }}

{{/* SMTP_USERNAME and SMTP_PASSWORD, for the mailer, when the relay needs AUTH. */}}
{{- define "reelmail.env.smtp" -}}
{{- $s := .Values.smtp }}
{{- if include "reelmail.smtp.auth" . }}
{{- $secret := $s.existingSecret | default (include "reelmail.secretName" .) }}
{{ include "reelmail.secretEnv" (dict "name" "SMTP_USERNAME" "secret" $secret "key" (ternary $s.usernameKey "SMTP_USERNAME" (not (empty $s.existingSecret)))) }}
{{ include "reelmail.secretEnv" (dict "name" "SMTP_PASSWORD" "secret" $secret "key" (ternary $s.passwordKey "SMTP_PASSWORD" (not (empty $s.existingSecret)))) }}
{{- end }}
{{- end }}

{{/* KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, for both services, over SASL. */}}
{{- define "reelmail.env.kafkaSasl" -}}
{{- $s := .Values.kafka.sasl }}
{{- if include "reelmail.kafka.sasl" . }}
{{- $secret := $s.existingSecret | default (include "reelmail.secretName" .) }}
{{ include "reelmail.secretEnv" (dict "name" "KAFKA_SASL_USERNAME" "secret" $secret "key" (ternary $s.usernameKey "KAFKA_SASL_USERNAME" (not (empty $s.existingSecret)))) }}
{{ include "reelmail.secretEnv" (dict "name" "KAFKA_SASL_PASSWORD" "secret" $secret "key" (ternary $s.passwordKey "KAFKA_SASL_PASSWORD" (not (empty $s.existingSecret)))) }}
{{- end }}
{{- end }}

{{/*
Downward-API variables and OTEL_RESOURCE_ATTRIBUTES, which refers to them; these live
in `env` (not the ConfigMap) because only `env` expands $(VAR) references.
Call with (dict "root" $ "component" "movies").
*/}}
{{- define "reelmail.env.otelResource" -}}
{{- $root := .root }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- $attrs := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" (printf "k8s.deployment.name=%s" (include "reelmail.componentName" .)) (printf "service.version=%s" ($root.Values.image.tag | default $root.Chart.AppVersion)) }}
{{- range $key, $value := $root.Values.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $key (toString $value)) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- end }}

{{/*
Settings both services share, as ConfigMap data: Kafka, logging and tracing.
Call with (dict "root" $ "component" "movies").
*/}}
{{- define "reelmail.sharedConfig" -}}
{{- $v := .root.Values -}}
KAFKA_BOOTSTRAP_SERVERS: {{ $v.kafka.bootstrapServers | quote }}
KAFKA_SECURITY_PROTOCOL: {{ $v.kafka.securityProtocol | quote }}
{{- if include "reelmail.kafka.sasl" .root }}
KAFKA_SASL_MECHANISM: {{ $v.kafka.sasl.mechanism | quote }}
{{- end }}
{{- if and (include "reelmail.kafka.tls" .root) $v.kafka.tls.caSecret }}
KAFKA_SSL_CAFILE: {{ printf "%s/%s" (include "reelmail.kafka.caDir" .root) $v.kafka.tls.caKey | quote }}
{{- end }}
{{- if and (include "reelmail.kafka.tls" .root) $v.kafka.tls.clientCertSecret }}
KAFKA_SSL_CERTFILE: {{ printf "%s/%s" (include "reelmail.kafka.clientCertDir" .root) $v.kafka.tls.certKey | quote }}
KAFKA_SSL_KEYFILE: {{ printf "%s/%s" (include "reelmail.kafka.clientCertDir" .root) $v.kafka.tls.keyKey | quote }}
{{- end }}
MAIL_TOPIC: {{ $v.kafka.topic | quote }}
MAIL_SEAL_ACTIVE_KEY: {{ $v.auth.mailSealActiveKey | quote }}
{{- with $v.auth.mailSealRetiredKeys }}
MAIL_SEAL_RETIRED_KEYS: {{ . | quote }}
{{- end }}
LOG_LEVEL: {{ $v.logging.level | quote }}
LOG_FORMAT: {{ $v.logging.format | quote }}
OTEL_SERVICE_NAME: {{ .component | quote }}
{{- if $v.otel.enabled }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ $v.otel.endpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ $v.otel.protocol | quote }}
OTEL_TRACES_SAMPLER: {{ $v.otel.sampler | quote }}
{{- if $v.otel.samplerArg }}
OTEL_TRACES_SAMPLER_ARG: {{ $v.otel.samplerArg | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Kafka TLS volumes, when Kafka is reached over TLS: the private CA bundle
(kafka.tls.caSecret) and the client certificate for mutual TLS (kafka.tls.clientCertSecret).
*/}}
{{- define "reelmail.kafka.caVolume" -}}
{{- $t := .Values.kafka.tls }}
{{- if include "reelmail.kafka.tls" . }}
{{- if $t.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $t.caSecret }}
    items:
      - key: {{ $t.caKey }}
        path: {{ $t.caKey }}
{{- end }}
{{- if $t.clientCertSecret }}
- name: kafka-client-cert
  secret:
    secretName: {{ $t.clientCertSecret }}
    items:
      - key: {{ $t.certKey }}
        path: {{ $t.certKey }}
      - key: {{ $t.keyKey }}
        path: {{ $t.keyKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* The matching mounts. */}}
{{- define "reelmail.kafka.caVolumeMount" -}}
{{- if include "reelmail.kafka.tls" . }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: {{ include "reelmail.kafka.caDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret }}
- name: kafka-client-cert
  mountPath: {{ include "reelmail.kafka.clientCertDir" . }}
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{/* The writable scratch space a read-only root filesystem leaves the process. */}}
{{- define "reelmail.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolumeSizeLimit }}
{{- end }}

{{/*
Checks that span several values, which values.schema.json cannot express. A failed
check stops the render with a message that names the values to change.
*/}}
{{- define "reelmail.validateValues" -}}
{{- $v := .Values }}
{{- if and $v.mailer.keda.enabled $v.mailer.autoscaling.enabled }}
{{- fail "mailer.keda.enabled and mailer.autoscaling.enabled both create an HPA for the mailer: enable one of them" }}
{{- end }}
{{- $drain := int $v.mailer.drainSeconds }}
{{- $needed := add $drain (int $v.mailer.preStopSleepSeconds) }}
{{- if le (int $v.mailer.terminationGracePeriodSeconds) $needed }}
{{- fail (printf "mailer.terminationGracePeriodSeconds (%d) must exceed mailer.drainSeconds plus mailer.preStopSleepSeconds (%d), or the kubelet kills the mailer mid-drain" (int $v.mailer.terminationGracePeriodSeconds) $needed) }}
{{- end }}
{{- if le (int $v.movies.terminationGracePeriodSeconds) (int $v.movies.preStopSleepSeconds) }}
{{- fail "movies.terminationGracePeriodSeconds must exceed movies.preStopSleepSeconds" }}
{{- end }}
{{- if and $v.metrics.serviceMonitor.enabled $v.metrics.podMonitor.enabled }}
{{- fail "metrics.serviceMonitor.enabled and metrics.podMonitor.enabled would scrape every pod twice: enable one of them" }}
{{- end }}
{{- if and $v.kafka.tls.clientCertSecret (not (include "reelmail.kafka.tls" .)) }}
{{- fail (printf "kafka.tls.clientCertSecret is set but kafka.securityProtocol is %s: use SSL or SASL_SSL for mutual TLS" $v.kafka.securityProtocol) }}
{{- end }}
{{- if and $v.database.url $v.database.host }}
{{- fail "database.url and database.host both describe the database: set the URL, or host and its parts, not both" }}
{{- end }}
{{- if and $v.otel.enabled (not $v.otel.endpoint) }}
{{- fail "otel.enabled needs otel.endpoint (the OTLP endpoint, e.g. http://otel-collector:4318)" }}
{{- end }}
{{- if and (not $v.smtp.existingSecret) (ne (empty $v.smtp.username) (empty $v.smtp.password)) }}
{{- fail "smtp.username and smtp.password must be set together (or use smtp.existingSecret)" }}
{{- end }}
{{- if include "reelmail.kafka.sasl" . }}
{{- if not $v.kafka.sasl.mechanism }}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.mechanism" $v.kafka.securityProtocol) }}
{{- end }}
{{- if not (or $v.kafka.sasl.existingSecret (and $v.kafka.sasl.username $v.kafka.sasl.password)) }}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.username and kafka.sasl.password, or kafka.sasl.existingSecret" $v.kafka.securityProtocol) }}
{{- end }}
{{- else if $v.kafka.sasl.mechanism }}
{{- fail (printf "kafka.sasl.mechanism is set but kafka.securityProtocol is %s: use SASL_PLAINTEXT or SASL_SSL" $v.kafka.securityProtocol) }}
{{- end }}
{{- end }}

{{/*
A component's affinity: .values.affinity when set, else the podAntiAffinityPreset rule
that spreads its replicas over nodes (soft: preferred, hard: required).
Call with (dict "root" $ "component" "movies" "values" .Values.movies).
*/}}
{{- define "reelmail.affinity" -}}
{{- $c := .values }}
{{- if $c.affinity }}
{{- toYaml $c.affinity }}
{{- else if $c.podAntiAffinityPreset }}
{{- $selector := include "reelmail.componentSelectorLabels" (dict "root" .root "component" .component) | fromYaml }}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" $selector) }}
podAntiAffinity:
  {{- if eq $c.podAntiAffinityPreset "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- list $term | toYaml | nindent 4 }}
  {{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    {{- list (dict "weight" 100 "podAffinityTerm" $term) | toYaml | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
A component's topology spread constraints, each without a labelSelector given this
component's pod labels. Call with (dict "root" $ "component" "movies" "values" ...).
*/}}
{{- define "reelmail.topologySpreadConstraints" -}}
{{- $selector := include "reelmail.componentSelectorLabels" (dict "root" .root "component" .component) | fromYaml }}
{{- $constraints := list }}
{{- range .values.topologySpreadConstraints }}
{{- $constraints = append $constraints (merge (deepCopy .) (dict "labelSelector" (dict "matchLabels" $selector))) }}
{{- end }}
{{- with $constraints }}
{{- toYaml . }}
{{- end }}
{{- end }}
