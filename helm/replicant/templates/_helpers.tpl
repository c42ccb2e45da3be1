{{/* Names, labels, the Secret, and the one pod template every tier shares. */}}

{{- define "replicant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "replicant.fullname" -}}
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
<fullname>-<tier>, the name of a tier's workload and Service (or "gateway-admin": the admin
Service): a DNS label, at most 63 characters, and at most 52 for the StatefulSets (fanout, dev),
whose pods' controller-revision-hash label is the name plus '-' and a hash of up to 10 characters
(a longer StatefulSet is accepted and never creates a pod).
*/}}
{{- define "replicant.tierName" -}}
{{- $max := ternary 52 63 (has .tier (list "fanout" "dev")) }}
{{- printf "%s-%s" (include "replicant.fullname" .root | trunc (int (sub $max (add1 (len .tier)))) | trimSuffix "-") .tier }}
{{- end }}

{{- define "replicant.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "replicant.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* selector labels of one tier: dict "root" $ "tier" "gateway" */}}
{{- define "replicant.selectorLabels" -}}
app.kubernetes.io/name: {{ include "replicant.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .tier }}
{{- end }}

{{- define "replicant.tierLabels" -}}
{{ include "replicant.labels" .root }}
app.kubernetes.io/component: {{ .tier }}
{{- end }}

{{- define "replicant.secretName" -}}
{{- printf "%s-secrets" (include "replicant.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "replicant.authSecretName" -}}
{{- default (include "replicant.secretName" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "replicant.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "replicant.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "replicant.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* the Service DNS name of a tier: dict "root" $ "tier" "origin" */}}
{{- define "replicant.serviceHost" -}}
{{- printf "%s.%s.svc.%s" (include "replicant.tierName" .) .root.Release.Namespace .root.Values.clusterDomain }}
{{- end }}

{{/* ORIGIN_URL of the gateways: origin's Service */}}
{{- define "replicant.originUrl" -}}
{{- printf "%s://%s:%d" (ternary "https" "http" .Values.tls.enabled) (include "replicant.serviceHost" (dict "root" . "tier" "origin")) (int .Values.origin.service.port) }}
{{- end }}

{{/*
An env value as a string. YAML numbers arrive as float64, and toString would print 67108864 as
6.7108864e+07: whole numbers are printed as integers.
*/}}
{{- define "replicant.envString" -}}
{{- if kindIs "float64" . }}
{{- if eq (float64 (int64 .)) . }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if kindIs "invalid" . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{- define "replicant.secretRef" -}}
valueFrom:
  secretKeyRef:
    name: {{ .name }}
    key: {{ .key }}
    {{- if .optional }}
    optional: true
    {{- end }}
{{- end }}

{{/*
The settings one tier's process gets, as a dict of env name -> EnvVar body (value or valueFrom),
computed from the typed values. Called with dict "root" $ "role" "gateway|origin|fanout|dev".
*/}}
{{- define "replicant.computedEnv" -}}
{{- $ := .root }}
{{- $v := $.Values }}
{{- $role := .role }}
{{- $tier := index $v $role }}
{{- $secret := include "replicant.secretName" $ }}
{{- $auth := include "replicant.authSecretName" $ }}
{{- $e := dict }}
{{- $_ := set $e "HOST" (dict "value" $v.listenHost) }}
{{- $_ := set $e "PORT" (dict "value" (toString (int $tier.port))) }}
{{- $_ := set $e "ADMIN_PORT" (dict "value" (toString (int $tier.adminPort))) }}
{{- $_ := set $e "NODE_ID" (dict "value" "$(POD_NAME)") }}
{{- $clientAuth := has $role (list "dev" "origin" "gateway") }}
{{- if ne $role "dev" }}
  {{- $_ := set $e "KAFKA_TOPIC" (dict "value" $v.kafka.topic) }}
  {{- if $v.redis.existingSecret }}
  {{- $_ := set $e "REDIS_URL" (include "replicant.secretRef" (dict "name" $v.redis.existingSecret "key" $v.redis.existingSecretKey) | fromYaml) }}
  {{- else }}
  {{- $_ := set $e "REDIS_URL" (include "replicant.secretRef" (dict "name" $secret "key" "redis-url") | fromYaml) }}
  {{- end }}
  {{- $_ := set $e "CLUSTER_SECRET" (include "replicant.secretRef" (dict "name" $auth "key" $v.auth.secretKeys.clusterSecret) | fromYaml) }}
  {{- if $v.auth.disabled }}
  {{- $_ := set $e "AUTH_DISABLED" (dict "value" "true") }}
  {{- end }}
{{- end }}
{{- if has $role (list "origin" "fanout") }}
  {{- if $v.kafka.existingSecret }}
  {{- $_ := set $e "KAFKA_BROKERS" (include "replicant.secretRef" (dict "name" $v.kafka.existingSecret "key" $v.kafka.existingSecretKey) | fromYaml) }}
  {{- else }}
  {{- $_ := set $e "KAFKA_BROKERS" (dict "value" (join "," $v.kafka.brokers)) }}
  {{- end }}
  {{- $_ := set $e "KAFKA_COMPRESSION" (dict "value" $v.kafka.compression) }}
  {{- if $v.kafka.tls.enabled }}
  {{- $_ := set $e "KAFKA_SSL" (dict "value" "true") }}
  {{- if $v.kafka.tls.caSecret }}
  {{- $_ := set $e "KAFKA_SSL_CA_FILE" (dict "value" (printf "/etc/replicant/kafka-ca/%s" $v.kafka.tls.caKey)) }}
  {{- end }}
  {{- if $v.kafka.tls.clientCertSecret }}
  {{- $_ := set $e "KAFKA_SSL_CERT_FILE" (dict "value" "/etc/replicant/kafka-client/tls.crt") }}
  {{- $_ := set $e "KAFKA_SSL_KEY_FILE" (dict "value" "/etc/replicant/kafka-client/tls.key") }}
  {{- end }}
  {{- end }}
  {{- if $v.kafka.sasl.mechanism }}
  {{- $_ := set $e "KAFKA_SASL_MECHANISM" (dict "value" $v.kafka.sasl.mechanism) }}
  {{- $_ := set $e "KAFKA_SASL_USERNAME" (dict "value" $v.kafka.sasl.username) }}
  {{- $_ := set $e "KAFKA_SASL_PASSWORD" (include "replicant.secretRef" (dict "name" $v.kafka.sasl.existingSecret "key" $v.kafka.sasl.passwordKey) | fromYaml) }}
  {{- end }}
{{- end }}
{{- if ne $role "dev" }}
  {{- if $v.redis.tlsCaSecret }}
  {{- $_ := set $e "REDIS_TLS_CA_FILE" (dict "value" (printf "/etc/replicant/redis-ca/%s" $v.redis.tlsCaKey)) }}
  {{- end }}
  {{- if $v.redis.sentinels }}
  {{- $_ := set $e "REDIS_SENTINELS" (dict "value" (join "," $v.redis.sentinels)) }}
  {{- $_ := set $e "REDIS_SENTINEL_MASTER" (dict "value" $v.redis.sentinelMaster) }}
  {{- end }}
  {{- if $v.redis.cluster }}
  {{- $_ := set $e "REDIS_CLUSTER" (dict "value" "true") }}
  {{- end }}
{{- end }}
{{- if has $role (list "origin" "dev") }}
  {{- $_ := set $e "PARTITIONS" (dict "value" (toString (int $v.kafka.partitions))) }}
{{- end }}
{{- if and (has $role (list "origin" "dev")) $v.ingest.topics }}
  {{- $_ := set $e "INGEST_TOPICS" (dict "value" (join "," $v.ingest.topics)) }}
  {{- if $v.ingest.brokers }}{{ $_ := set $e "INGEST_BROKERS" (dict "value" (join "," $v.ingest.brokers)) }}{{ end }}
{{- end }}
{{- if and (eq $role "origin") (not (kindIs "invalid" $v.kafka.minInsyncReplicas)) }}
  {{- $_ := set $e "KAFKA_MIN_INSYNC_REPLICAS" (dict "value" (toString (int $v.kafka.minInsyncReplicas))) }}
{{- end }}
{{- if and $clientAuth (not $v.auth.disabled) }}
  {{- $_ := set $e "AUTH_JWT_SECRET" (include "replicant.secretRef" (dict "name" $auth "key" $v.auth.secretKeys.jwtSecret "optional" true) | fromYaml) }}
  {{- if $v.auth.jwtPublicKey }}{{ $_ := set $e "AUTH_JWT_PUBLIC_KEY" (dict "value" $v.auth.jwtPublicKey) }}{{ end }}
  {{- if $v.auth.jwksUrl }}{{ $_ := set $e "AUTH_JWKS_URL" (dict "value" $v.auth.jwksUrl) }}{{ end }}
  {{- if $v.auth.issuer }}{{ $_ := set $e "AUTH_ISSUER" (dict "value" $v.auth.issuer) }}{{ end }}
  {{- if $v.auth.audience }}{{ $_ := set $e "AUTH_AUDIENCE" (dict "value" $v.auth.audience) }}{{ end }}
  {{- $_ := set $e "AUTH_CLOCK_SKEW_S" (dict "value" (toString (int $v.auth.clockSkewSeconds))) }}
  {{- if has $role (list "origin" "dev") }}
  {{- $_ := set $e "API_KEYS" (include "replicant.secretRef" (dict "name" $auth "key" $v.auth.secretKeys.apiKeys "optional" true) | fromYaml) }}
  {{- end }}
{{- end }}
{{- if and $v.tls.enabled $clientAuth }}
  {{- $_ := set $e "TLS_CERT_FILE" (dict "value" "/etc/replicant/tls/tls.crt") }}
  {{- $_ := set $e "TLS_KEY_FILE" (dict "value" "/etc/replicant/tls/tls.key") }}
{{- end }}
{{- if has $role (list "gateway" "dev") }}
  {{- $_ := set $e "DRAIN_SPREAD_MS" (dict "value" (toString (int $v.gateway.drain.spreadMs))) }}
  {{- $_ := set $e "DRAIN_GRACE_MS" (dict "value" (toString (int $v.gateway.drain.graceMs))) }}
{{- end }}
{{- if eq $role "gateway" }}
  {{- $_ := set $e "ORIGIN_URL" (dict "value" (include "replicant.originUrl" $)) }}
  {{- if and $v.tls.enabled $v.tls.caKey }}
  {{- $_ := set $e "NODE_EXTRA_CA_CERTS" (dict "value" (printf "/etc/replicant/tls/%s" $v.tls.caKey)) }}
  {{- end }}
{{- end }}
{{- if eq $role "fanout" }}
  {{- $_ := set $e "REPLICA_INDEX" (dict "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.labels['apps.kubernetes.io/pod-index']"))) }}
  {{- $_ := set $e "REPLICA_COUNT" (dict "value" (toString (int $v.fanout.replicas))) }}
  {{- $_ := set $e "REPLICATION" (dict "value" (toString (int $v.fanout.replication))) }}
  {{- if eq $v.fanout.advertise "podIP" }}
  {{- $_ := set $e "ADVERTISE_ADDRESS" (dict "value" (printf "$(POD_IP):%d" (int $v.fanout.port))) }}
  {{- else }}
  {{- $_ := set $e "ADVERTISE_ADDRESS" (dict "value" (printf "$(POD_NAME).%s:%d" (include "replicant.serviceHost" (dict "root" $ "tier" "fanout")) (int $v.fanout.port))) }}
  {{- end }}
{{- end }}
{{- if eq $role "dev" }}
  {{- $_ := set $e "DATA_DIR" (dict "value" "/data") }}
{{- end }}
{{- toYaml $e }}
{{- end }}

{{/*
The container env of one tier: the pod's own name, namespace and IP first (the settings may use
them as $(POD_NAME) etc.), then every setting once, sorted by name: computed from the typed
values, overridden by `env`, then by `<tier>.env`; then `extraEnv` and `<tier>.extraEnv` as given.
*/}}
{{- define "replicant.env" -}}
{{- $ := .root }}
{{- $tier := index $.Values .role }}
{{- $e := include "replicant.computedEnv" . | fromYaml }}
{{- range $k, $val := $.Values.env }}{{ $_ := set $e $k (dict "value" (include "replicant.envString" $val)) }}{{ end }}
{{- range $k, $val := $tier.env }}{{ $_ := set $e $k (dict "value" (include "replicant.envString" $val)) }}{{ end }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- range $k, $body := $e }}
- name: {{ $k }}
  {{- toYaml $body | nindent 2 }}
{{- end }}
{{- with $.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with $tier.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* topology spread of one tier: its own constraints, else the chart-wide default */}}
{{- define "replicant.topologySpread" -}}
{{- $ := .root }}
{{- $tierName := .tier }}
{{- $tier := index $.Values .tier }}
{{- if $tier.topologySpreadConstraints }}
{{- toYaml $tier.topologySpreadConstraints }}
{{- else if $.Values.topologySpread.enabled }}
{{- range $.Values.topologySpread.topologyKeys }}
- maxSkew: {{ $.Values.topologySpread.maxSkew }}
  topologyKey: {{ . }}
  whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "replicant.selectorLabels" (dict "root" $ "tier" $tierName) | nindent 6 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The pod template of one tier: dict "root" $ "tier" "gateway" "role" "gateway" "ports" (list of
containerPort dicts) "preStopSleep" N "terminationGrace" N "volumes" (list) "mounts" (list).
*/}}
{{- define "replicant.podTemplate" -}}
{{- $ := .root }}
{{- $v := $.Values }}
{{- $tier := index $v .role }}
metadata:
  labels:
    {{- include "replicant.selectorLabels" (dict "root" $ "tier" .tier) | nindent 4 }}
    {{- with $tier.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- /* the inputs of the Secret, not its rendering: generated values are random on a first install */}}
    checksum/secret: {{ list $v.auth $v.redis.url $v.kafka.brokers | toJson | sha256sum }}
    {{- with $tier.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "replicant.serviceAccountName" $ }}
  automountServiceAccountToken: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ .terminationGrace }}
  {{- $spread := include "replicant.topologySpread" (dict "root" $ "tier" .role) }}
  {{- if $spread }}
  topologySpreadConstraints:
    {{- $spread | trim | nindent 4 }}
  {{- end }}
  {{- with $tier.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $tier.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $tier.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .role }}
      image: {{ include "replicant.image" $ }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args: [{{ .role | quote }}]
      ports:
        {{- toYaml .ports | nindent 8 }}
      env:
        {{- include "replicant.env" (dict "root" $ "role" .role) | trim | nindent 8 }}
      startupProbe:
        httpGet: { path: /healthz, port: admin }
        periodSeconds: {{ $v.probes.startup.periodSeconds }}
        failureThreshold: {{ $v.probes.startup.failureThreshold }}
      livenessProbe:
        httpGet: { path: /healthz, port: admin }
        periodSeconds: {{ $v.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ $v.probes.liveness.failureThreshold }}
      readinessProbe:
        httpGet: { path: /readyz, port: admin }
        periodSeconds: {{ $v.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ $v.probes.readiness.failureThreshold }}
      {{- if .preStopSleep }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ .preStopSleep }}
      {{- end }}
      resources:
        {{- toYaml $tier.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if and $v.tls.enabled (has .role (list "dev" "origin" "gateway")) }}
        - name: tls
          mountPath: /etc/replicant/tls
          readOnly: true
        {{- end }}
        {{- $kafkaRole := has .role (list "origin" "fanout") }}
        {{- if and $kafkaRole $v.kafka.tls.enabled $v.kafka.tls.caSecret }}
        - name: kafka-ca
          mountPath: /etc/replicant/kafka-ca
          readOnly: true
        {{- end }}
        {{- if and $kafkaRole $v.kafka.tls.enabled $v.kafka.tls.clientCertSecret }}
        - name: kafka-client
          mountPath: /etc/replicant/kafka-client
          readOnly: true
        {{- end }}
        {{- if and (ne .role "dev") $v.redis.tlsCaSecret }}
        - name: redis-ca
          mountPath: /etc/replicant/redis-ca
          readOnly: true
        {{- end }}
        {{- with .mounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if and $v.tls.enabled (has .role (list "dev" "origin" "gateway")) }}
    - name: tls
      secret:
        secretName: {{ $v.tls.secretName }}
    {{- end }}
    {{- if and (has .role (list "origin" "fanout")) $v.kafka.tls.enabled $v.kafka.tls.caSecret }}
    - name: kafka-ca
      secret:
        secretName: {{ $v.kafka.tls.caSecret }}
    {{- end }}
    {{- if and (has .role (list "origin" "fanout")) $v.kafka.tls.enabled $v.kafka.tls.clientCertSecret }}
    - name: kafka-client
      secret:
        secretName: {{ $v.kafka.tls.clientCertSecret }}
    {{- end }}
    {{- if and (ne .role "dev") $v.redis.tlsCaSecret }}
    - name: redis-ca
      secret:
        secretName: {{ $v.redis.tlsCaSecret }}
    {{- end }}
    {{- with .volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* the containerPorts of a tier: main port named by `mainName`, plus `admin` */}}
{{- define "replicant.ports" -}}
- name: {{ .mainName }}
  containerPort: {{ int .tier.port }}
  protocol: TCP
- name: admin
  containerPort: {{ int .tier.adminPort }}
  protocol: TCP
{{- end }}
