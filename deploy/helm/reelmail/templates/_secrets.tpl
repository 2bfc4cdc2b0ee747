{{/*
The secrets the chart can generate, all in the auth group: each variable, the auth.*
value that gives it inline, and the auth.* value naming its key in auth.existingSecret.
A new generated secret is one more entry here (the Secret and the env follow). A
"keyring" is generated as one 32-byte key named auth.mailSealActiveKey.
*/}}
{{- define "reelmail.generatedSecretKeys" -}}
OTP_HMAC_SECRET:
  value: otpHmacSecret
  existingKey: otpHmacSecretKey
JWT_SECRET:
  value: jwtSecret
  existingKey: jwtSecretKey
MAIL_SEAL_KEYS:
  value: mailSealKeys
  existingKey: mailSealKeysKey
  keyring: true
{{- end }}

{{/*
Whether Helm is talking to the cluster (install, upgrade, --dry-run=server), rather
than rendering offline (helm template, helm lint, Argo CD). Listing the release
namespace's Secrets is what Helm's own release storage does, so the installer may.
*/}}
{{- define "reelmail.clusterReachable" -}}
{{- if lookup "v1" "Secret" (include "reelmail.namespace" .) "" }}true{{ end }}
{{- end }}

{{/*
The generated keys of the chart's Secret, as YAML: each one's inline value, else the
value in the live Secret (so an upgrade keeps sessions and codes in flight), else a new
random one when Helm can see the cluster. Offline, a random value would change on every
render, roll the pods through checksum/secret and sign everyone out, so the render
fails instead and says what to set.
*/}}
{{- define "reelmail.generatedSecrets" -}}
{{- $auth := .Values.auth }}
{{- if not $auth.existingSecret }}
{{- $live := lookup "v1" "Secret" (include "reelmail.namespace" .) (include "reelmail.secretName" .) | default dict }}
{{- $reachable := include "reelmail.clusterReachable" . }}
{{- $missing := list }}
{{- range $name, $key := include "reelmail.generatedSecretKeys" . | fromYaml }}
{{- $value := get $auth $key.value | default (dig "data" $name "" $live | b64dec) }}
{{- if and (not $value) $reachable }}
{{- $value = ternary (printf "%s:%s" $auth.mailSealActiveKey (randBytes 32)) (randAlphaNum 64) (hasKey $key "keyring") }}
{{- end }}
{{- if $value }}
{{ $name }}: {{ $value | quote }}
{{- else }}
{{- $missing = append $missing (printf "%s (auth.%s)" $name $key.value) }}
{{- end }}
{{- end }}
{{- if $missing }}
{{- fail (printf "\n\n%s: not given, not in a live Secret, and no cluster to keep a generated value in. An offline render (helm template, helm lint, GitOps such as Argo CD) would be regenerated on every render, rolling the pods and signing every user out. Set auth.existingSecret to a Secret you manage (the GitOps path: a SealedSecret or an ExternalSecret), or set auth.otpHmacSecret, auth.jwtSecret and auth.mailSealKeys, or run helm install/upgrade against the cluster, which generates them once and keeps them." (join ", " $missing)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
One generated variable's env entry, read from auth.existingSecret or the chart's Secret.
Call with (dict "root" $ "name" "JWT_SECRET").
*/}}
{{- define "reelmail.env.generatedSecret" -}}
{{- $auth := .root.Values.auth }}
{{- $key := get (include "reelmail.generatedSecretKeys" .root | fromYaml) .name }}
{{- if $auth.existingSecret }}
{{- include "reelmail.secretEnv" (dict "name" .name "secret" $auth.existingSecret "key" (get $auth $key.existingKey)) }}
{{- else }}
{{- include "reelmail.secretEnv" (dict "name" .name "secret" (include "reelmail.secretName" .root) "key" .name) }}
{{- end }}
{{- end }}
