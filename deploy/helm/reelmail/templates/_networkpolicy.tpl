{{/*
The TCP ports of a comma-separated "host:port" list (Kafka's bootstrap servers), once
each, as a JSON array of NetworkPolicyPort objects. IPv6 hosts are written "[addr]:port".
Call with (dict "addresses" "a:9092,b:9093" "value" "kafka.bootstrapServers").
*/}}
{{- define "reelmail.addressPorts" -}}
{{- $ports := list }}
{{- range $address := splitList "," .addresses }}
{{- $address = trim $address }}
{{- if not (regexMatch "^.+:[0-9]+$" $address) }}
{{- fail (printf "%s: %q is not host:port, so the NetworkPolicy cannot tell which port to open" $.value $address) }}
{{- end }}
{{- $ports = append $ports (regexFind "[0-9]+$" $address | int) }}
{{- end }}
{{- $rules := list }}
{{- range $port := uniq $ports }}
{{- $rules = append $rules (dict "port" $port "protocol" "TCP") }}
{{- end }}
{{- toJson $rules }}
{{- end }}

{{/* One TCP port as a JSON array of NetworkPolicyPort objects. */}}
{{- define "reelmail.tcpPort" -}}
{{- list (dict "port" (int .) "protocol" "TCP") | toJson }}
{{- end }}

{{/*
The ports of one egress destination: networkPolicy.egress.<name>.ports when given,
else what the chart knows the service is configured to call. JSON array.
*/}}
{{- define "reelmail.egressPorts" -}}
{{- $v := .root.Values }}
{{- $given := (get $v.networkPolicy.egress .name).ports }}
{{- if $given }}
{{- toJson $given }}
{{- else if eq .name "kafka" }}
{{- include "reelmail.addressPorts" (dict "addresses" ($v.kafka.bootstrapServers | default "127.0.0.1:9092") "value" "kafka.bootstrapServers") }}
{{- else if eq .name "smtp" }}
{{- include "reelmail.tcpPort" $v.smtp.port }}
{{- else if eq .name "database" }}
{{- include "reelmail.tcpPort" (include "reelmail.database.port" .root) }}
{{- else if eq .name "otlp" }}
{{- include "reelmail.tcpPort" (include "reelmail.otlp.port" .root) }}
{{- else }}
{{- fail (printf "networkPolicy.egress.%s.ports is empty and the chart cannot derive them" .name) }}
{{- end }}
{{- end }}

{{/* The database's port: database.port with host, else the one in database.url, else 5432. */}}
{{- define "reelmail.database.port" -}}
{{- if .Values.database.host }}
{{- .Values.database.port }}
{{- else }}
{{- $host := (urlParse (.Values.database.url | default "postgresql://localhost")).host }}
{{- regexFind "[0-9]+$" (regexFind ":[0-9]+$" $host) | default "5432" }}
{{- end }}
{{- end }}

{{/* The OTLP collector's port: the one in otel.endpoint, else the protocol's default. */}}
{{- define "reelmail.otlp.port" -}}
{{- $host := (urlParse (.Values.otel.endpoint | default "http://localhost")).host }}
{{- $default := ternary "4317" "4318" (eq .Values.otel.protocol "grpc") }}
{{- regexFind "[0-9]+$" (regexFind ":[0-9]+$" $host) | default $default }}
{{- end }}
