{{/*
Helpers for the online-boutique chart. Names and labels are truncated to 63
characters (the Kubernetes limit for names and label values).

Resources of a service are named after the service itself (frontend,
cartservice, ...): the services dial each other by these DNS names.
*/}}

{{/* Chart name, or nameOverride. */}}
{{- define "online-boutique.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* name-version, as used by the helm.sh/chart label. */}}
{{- define "online-boutique.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object of the release. */}}
{{- define "online-boutique.labels" -}}
helm.sh/chart: {{ include "online-boutique.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ .Values.partOf | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component. Call with (dict "ctx" $ "component" "frontend").
`app` matches upstream microservices-demo, so its tooling keeps working.
Selectors are immutable: never add a label here that can change between releases.
*/}}
{{- define "online-boutique.selectorLabels" -}}
app: {{ .component | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "online-boutique.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
All labels of one component: shared labels, selector labels, and the version
(the image tag, kept for people; the pod runs the digest). Call with
(dict "ctx" $ "component" "frontend" "image" $svc.image).
*/}}
{{- define "online-boutique.componentLabels" -}}
{{ include "online-boutique.labels" .ctx }}
{{ include "online-boutique.selectorLabels" . }}
{{- with .image }}
{{- with .tag }}
app.kubernetes.io/version: {{ regexReplaceAll "[^A-Za-z0-9._-]" (toString .) "_" | trunc 63 | trimSuffix "-" | trimSuffix "_" | trimSuffix "." | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Image reference. Call with (dict "name" "frontend" "image" $svc.image).
With a digest: repository@sha256:... (the tag stays in labels and annotations
only, for people). Without: repository:tag. `latest` is refused: deploys must
be reproducible.
*/}}
{{- define "online-boutique.image" -}}
{{- $img := required (printf "services.%s.image is required" .name) .image -}}
{{- $repo := required (printf "%s: image.repository is required" .name) $img.repository -}}
{{- $digest := $img.digest | default "" | toString -}}
{{- $tag := $img.tag | default "" | toString -}}
{{- if eq $tag "latest" }}{{ fail (printf "%s: image.tag \"latest\" is not allowed; pin a version or a digest" .name) }}{{ end -}}
{{- if $digest -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" $digest) }}{{ fail (printf "%s: image.digest %q is not sha256:<64 hex>" .name $digest) }}{{ end -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (required (printf "%s: image.tag is required when image.digest is empty" .name) $tag) -}}
{{- end -}}
{{- end }}

{{/* Annotations that record what the pod runs, for people and for baton. */}}
{{- define "online-boutique.imageAnnotations" -}}
online-boutique.baton/image-tag: {{ .image.tag | default "" | toString | quote }}
online-boutique.baton/image-digest: {{ .image.digest | default "" | toString | quote }}
{{- end }}

{{/* Address another service dials: "<name>:<servicePort>". Call with (dict "ctx" $ "target" "cartservice"). */}}
{{- define "online-boutique.addr" -}}
{{- $svc := index .ctx.Values.services .target -}}
{{- if not $svc }}{{ fail (printf "upstream %q is not a service of this chart" .target) }}{{ end -}}
{{- printf "%s:%v" .target (required (printf "services.%s.servicePort is required (it is an upstream)" .target) $svc.servicePort) -}}
{{- end }}

{{/* ServiceAccount name of a service. */}}
{{- define "online-boutique.serviceAccountName" -}}
{{- if .ctx.Values.serviceAccount.create }}{{ .component }}{{ else }}default{{ end -}}
{{- end }}

{{/*
A readiness or liveness probe. Call with
(dict "probes" $svc.probes "kind" "readiness" "port" $svc.containerPort).
grpc uses the kubelet's native gRPC health check (upstream replaced
grpc_health_probe with it); http uses httpGet on probes.path.
*/}}
{{- define "online-boutique.probe" -}}
{{- $p := index .probes .kind | default dict -}}
{{- if eq .probes.type "grpc" }}
grpc:
  port: {{ .port }}
{{- else if eq .probes.type "http" }}
httpGet:
  path: {{ required "probes.path is required for http probes" .probes.path }}
  port: {{ .port }}
  {{- with $p.httpHeaders }}
  httpHeaders:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- else }}
{{- fail (printf "probes.type %q must be grpc or http" .probes.type) }}
{{- end }}
{{- with (omit $p "httpHeaders") }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Effective autoscaling settings of a service: its own block over the global defaults. */}}
{{- define "online-boutique.autoscaling" -}}
{{- $own := .svc.autoscaling | default dict -}}
{{- toYaml (merge (deepCopy $own) (deepCopy .ctx.Values.autoscaling)) -}}
{{- end }}
