{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "sec-digester.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Room for the longest component suffix ("-analyze-NN" pod names, "-bootstrap"). */}}
{{- define "sec-digester.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sec-digester.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels: call with (dict "ctx" $ "component" "ingest"). */}}
{{- define "sec-digester.labels" -}}
helm.sh/chart: {{ include "sec-digester.chart" .ctx }}
{{ include "sec-digester.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: sec-digester
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "sec-digester.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sec-digester.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "sec-digester.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sec-digester.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sec-digester.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Checks that fail the render with a message naming the value ---------------------------- */}}

{{- define "sec-digester.validate" -}}
{{- $protocol := .Values.kafka.securityProtocol }}
{{- if not (has $protocol (list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL")) }}
{{- fail (printf "kafka.securityProtocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got %q" $protocol) }}
{{- end }}
{{- if hasPrefix "SASL_" $protocol }}
{{- if not (has .Values.kafka.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512")) }}
{{- fail "kafka.securityProtocol is SASL_*: set kafka.sasl.mechanism to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" }}
{{- end }}
{{- if not .Values.kafka.sasl.existingSecret }}
{{- fail "kafka.securityProtocol is SASL_*: set kafka.sasl.existingSecret to the Secret holding the SASL password" }}
{{- end }}
{{- end }}
{{- if not .Values.kafka.bootstrapServers }}
{{- fail "kafka.bootstrapServers is required (the chart installs no Kafka)" }}
{{- end }}
{{- if not .Values.schemaRegistry.url }}
{{- fail "schemaRegistry.url is required (the chart installs no registry)" }}
{{- end }}
{{- $replicas := int .Values.analyze.replicas }}
{{- if lt $replicas 1 }}
{{- fail "analyze.replicas must be at least 1" }}
{{- end }}
{{- if gt $replicas (int .Values.topics.partitions) }}
{{- fail (printf "analyze.replicas (%d) is more than topics.partitions (%d): the extra replicas would hold no partition but still take a share of the SEC request rate" $replicas (int .Values.topics.partitions)) }}
{{- end }}
{{- if and .Values.gateway.autoscaling.enabled (gt (int .Values.gateway.autoscaling.minReplicas) (int .Values.gateway.autoscaling.maxReplicas)) }}
{{- fail "gateway.autoscaling.minReplicas is more than gateway.autoscaling.maxReplicas" }}
{{- end }}
{{- range $component := list "ingest" "analyze" "gateway" }}
{{- $budget := (index $.Values $component).podDisruptionBudget }}
{{- if and $budget.enabled (not (kindIs "string" $budget.maxUnavailable)) (lt (int $budget.maxUnavailable) 1) }}
{{- fail (printf "%s.podDisruptionBudget.maxUnavailable must be at least 1: 0 blocks every node drain and rolling node restart" $component) }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.extraEnv }}
{{- if has $name (list "KAFKA_SASL_PASSWORD" "SCHEMA_REGISTRY_BASIC_AUTH" "GATEWAY_API_KEYS" "ANALYZE_INSTANCE_ID" "ANALYZE_REPLICAS") }}
{{- fail (printf "extraEnv.%s: set it through the chart's own value (secrets come from existingSecret values; ANALYZE_* per pod from analyze.replicas)" $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Settings ---------------------------------------------------------------------------------
The non-secret settings of every process, as a YAML map of README variables: the ConfigMap's
data, and the env of the hook Job (which runs before the ConfigMap exists). Unset values are
left out rather than set to "" (an empty LLM_MODEL is not "no model"). */}}

{{- define "sec-digester.settings" -}}
{{- $settings := include "sec-digester.chartSettings" . | fromYaml }}
{{- range $name, $value := .Values.extraEnv }}
{{- $_ := set $settings $name (toString $value) }}
{{- end }}
{{- toYaml $settings }}
{{- end }}

{{/* What the chart's own values set; extraEnv is merged over it (so it may override them). */}}
{{- define "sec-digester.chartSettings" -}}
KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
{{- with .Values.kafka.sasl.username }}
KAFKA_SASL_USERNAME: {{ . | quote }}
{{- end }}
{{- end }}
{{- if .Values.kafka.tls.caSecret }}
KAFKA_SSL_CA_LOCATION: {{ printf "/etc/sec-digester/kafka-ca/%s" .Values.kafka.tls.caKey | quote }}
{{- end }}
KAFKA_OUTAGE_TOLERANCE_S: {{ .Values.kafka.outageToleranceS | toString | quote }}
SCHEMA_REGISTRY_URL: {{ .Values.schemaRegistry.url | quote }}
SCHEMA_COMPATIBILITY: {{ .Values.schemaRegistry.compatibility | quote }}
TOPIC_RAW: {{ .Values.topics.raw | quote }}
TOPIC_ANALYZED: {{ .Values.topics.analyzed | quote }}
TOPIC_DLQ: {{ .Values.topics.dlq | quote }}
TOPIC_TEXT: {{ .Values.topics.text | quote }}
TOPIC_LLM_CACHE: {{ .Values.topics.llmCache | quote }}
TOPIC_INGEST_CONTROL: {{ .Values.topics.ingestControl | quote }}
TOPIC_PARTITIONS: {{ .Values.topics.partitions | toString | quote }}
TOPIC_REPLICATION_FACTOR: {{ .Values.topics.replicationFactor | toString | quote }}
TOPIC_RETENTION_MS: {{ .Values.topics.retentionMs | int64 | toString | quote }}
TOPIC_DLQ_RETENTION_MS: {{ .Values.topics.dlqRetentionMs | int64 | toString | quote }}
EDGAR_BASE_URL: {{ .Values.edgar.baseUrl | quote }}
EDGAR_DATA_URL: {{ .Values.edgar.dataUrl | quote }}
{{- with .Values.edgar.userAgent }}
EDGAR_USER_AGENT: {{ . | quote }}
{{- end }}
INGEST_SOURCE: {{ .Values.ingest.source | quote }}
INGEST_POLL_INTERVAL_S: {{ .Values.ingest.pollIntervalS | toString | quote }}
INGEST_MAX_PAGES: {{ .Values.ingest.maxPages | toString | quote }}
INGEST_MAX_REQUESTS_PER_SECOND: {{ .Values.ingest.maxRequestsPerSecond | toString | quote }}
INGEST_TRANSACTIONAL_ID: {{ .Values.ingest.transactionalId | default (printf "%s-ingest" (include "sec-digester.fullname" .)) | quote }}
INGEST_HEALTH_PORT: {{ .Values.ingest.healthPort | toString | quote }}
ANALYZE_GROUP_ID: {{ .Values.analyze.groupId | default (printf "%s-analyze" (include "sec-digester.fullname" .)) | quote }}
ANALYZE_MAX_REQUESTS_PER_SECOND: {{ .Values.analyze.maxRequestsPerSecond | toString | quote }}
{{- with .Values.analyze.fetchForms }}
ANALYZE_FETCH_FORMS: {{ . | quote }}
{{- end }}
ANALYZE_HEALTH_PORT: {{ .Values.analyze.healthPort | toString | quote }}
{{- with .Values.llm.model }}
LLM_MODEL: {{ . | quote }}
{{- end }}
{{- with .Values.llm.apiBase }}
LLM_API_BASE: {{ . | quote }}
{{- end }}
LLM_TIMEOUT_S: {{ .Values.llm.timeoutS | toString | quote }}
LLM_MAX_ATTEMPTS: {{ .Values.llm.maxAttempts | toString | quote }}
LLM_MAX_CONCURRENCY: {{ .Values.llm.maxConcurrency | toString | quote }}
GATEWAY_HOST: "0.0.0.0"
GATEWAY_PORT: {{ .Values.gateway.port | toString | quote }}
GATEWAY_MAX_CONNECTIONS_PER_KEY: {{ .Values.gateway.maxConnectionsPerKey | toString | quote }}
GATEWAY_MAX_REPLAYS_PER_KEY: {{ .Values.gateway.maxReplaysPerKey | toString | quote }}
GATEWAY_MAX_MCP_REQUESTS_PER_KEY: {{ .Values.gateway.maxMcpRequestsPerKey | toString | quote }}
GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY: {{ .Values.gateway.replayRecordsPerSPerKey | toString | quote }}
{{- with .Values.gateway.corsOrigins }}
GATEWAY_CORS_ORIGINS: {{ . | quote }}
{{- end }}
GATEWAY_CLIENT_QUEUE: {{ .Values.gateway.clientQueue | toString | quote }}
GATEWAY_MAX_FRAME_BYTES: {{ .Values.gateway.maxFrameBytes | toString | quote }}
STORE_PATH: {{ .Values.gateway.store.path | quote }}
GATEWAY_REPLAY_PROCESSES: {{ .Values.gateway.replayProcesses | toString | quote }}
LOG_LEVEL: {{ .Values.logging.level | quote }}
LOG_FORMAT: {{ .Values.logging.format | quote }}
HOME: "/tmp"
PYTHONDONTWRITEBYTECODE: "1"
{{- end }}

{{/* Secret settings: env entries that reference existing Secrets (never their values). */}}
{{- define "sec-digester.secretEnv" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
{{- if not .Values.kafka.sasl.username }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret | quote }}
      key: {{ .Values.kafka.sasl.usernameKey | quote }}
{{- end }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret | quote }}
      key: {{ .Values.kafka.sasl.passwordKey | quote }}
{{- end }}
{{- if .Values.schemaRegistry.basicAuth.existingSecret }}
- name: SCHEMA_REGISTRY_BASIC_AUTH
  valueFrom:
    secretKeyRef:
      name: {{ .Values.schemaRegistry.basicAuth.existingSecret | quote }}
      key: {{ .Values.schemaRegistry.basicAuth.key | quote }}
{{- end }}
{{- end }}

{{/* Volumes every pod has: /tmp (read-only root filesystem) and the Kafka CA when set. */}}
{{- define "sec-digester.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret | quote }}
    items:
      - key: {{ .Values.kafka.tls.caKey | quote }}
        path: {{ .Values.kafka.tls.caKey | quote }}
{{- end }}
{{- end }}

{{- define "sec-digester.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/sec-digester/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Probes on a named container port: call with (dict "ctx" $ "port" "http"). */}}
{{- define "sec-digester.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.startup | nindent 2 }}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.readiness | nindent 2 }}
{{- end }}

{{/* Pod annotations: config checksum (a settings change rolls the pods), scraping, extras.
Call with (dict "ctx" $ "port" 8001 "extra" .Values.ingest.podAnnotations). */}}
{{- define "sec-digester.podAnnotations" -}}
checksum/config: {{ include "sec-digester.settings" .ctx | sha256sum }}
{{- if .ctx.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | toString | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .ctx.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The parts of a pod spec every workload shares. */}}
{{- define "sec-digester.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (include "sec-digester.serviceAccountName" .) }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* The hook Job's env: the settings that `topics create` and `schemas register` read, inlined
(the ConfigMap does not exist yet during pre-install), then the secret references. */}}
{{- define "sec-digester.bootstrapEnv" -}}
{{- range $name, $value := (include "sec-digester.settings" . | fromYaml) }}
{{- if or (regexMatch "^(KAFKA|SCHEMA|TOPIC|LOG)_" $name) (has $name (list "HOME" "PYTHONDONTWRITEBYTECODE")) }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- with (include "sec-digester.secretEnv" .) }}
{{ . | trim }}
{{- end }}
{{- end }}
