{{/* Names, labels and the pieces every Weft pod shares. */}}

{{- define "weft.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-weft, or the release name alone when it already says weft. */}}
{{- define "weft.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "weft.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "weft.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "weft.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weft.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "weft.labels" -}}
{{ include "weft.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "weft.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "weft.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding DATABASE_URL, JWT_SECRET, WEFT_SECRETS_KEY(S) and TEMPORAL_API_KEY. */}}
{{- define "weft.secretName" -}}
{{- default (printf "%s-secrets" (include "weft.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* image: repository:tag, the tag defaulting to the chart's appVersion. Call with (list $root .Values.images.x). */}}
{{- define "weft.image" -}}
{{- $img := index . 1 -}}
{{- printf "%s:%s" $img.repository (default (index . 0).Chart.AppVersion $img.tag) -}}
{{- end -}}

{{/* env entries from the Secret; TEMPORAL_API_KEY is optional there. */}}
{{- define "weft.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: DATABASE_URL
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: TEMPORAL_API_KEY
      optional: true
- name: WEFT_SECRETS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: WEFT_SECRETS_KEY
- name: WEFT_PAYLOAD_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: WEFT_PAYLOAD_KEY
- name: WEFT_SECRETS_OLD_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: WEFT_SECRETS_OLD_KEYS
      optional: true
- name: WEFT_DB_CONNECTIONS
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: WEFT_DB_CONNECTIONS
      optional: true
- name: WEFT_SANDBOX_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.secretName" . }}
      key: WEFT_SANDBOX_DATABASE_URL
      optional: true
{{- end -}}

{{/* Mounts every container has: a writable /tmp and, when set, Temporal's TLS files. */}}
{{- define "weft.commonMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: {{ .Values.temporal.tls.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "weft.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .tmpSize | default "256Mi" }}
{{- if .root.Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .root.Values.temporal.tls.existingSecret }}
{{- end }}
{{- end -}}

{{/* The Temporal UI's in-cluster Service name (temporal-ui.yaml). */}}
{{- define "weft.temporalUiName" -}}
{{- printf "%s-temporal-ui" (include "weft.fullname" .) -}}
{{- end -}}

{{/* The Weft API's public base URL (temporalUi.publicUrl, or the API Ingress's host): the UI's codec endpoint and
run links hang off it, on the API's origin. */}}
{{- define "weft.publicUrl" -}}
{{- if .Values.temporalUi.publicUrl -}}
{{- .Values.temporalUi.publicUrl -}}
{{- else if .Values.api.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (ne .Values.api.ingress.tlsSecretName "")) .Values.api.ingress.host -}}
{{- else -}}
{{- fail "temporalUi.enabled needs api.ingress.enabled or temporalUi.publicUrl (the Weft API's public base URL)" -}}
{{- end -}}
{{- end -}}
