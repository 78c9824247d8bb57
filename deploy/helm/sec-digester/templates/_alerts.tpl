{{/*
The operator alert rules (Prometheus rule groups). Rendered into the PrometheusRule
(prometheusrule.yaml) and, with the default values, into deploy/prometheus/alerts.yaml for a
Prometheus without the operator: scripts/render-alert-rules.sh regenerates that file and
tests/unit/test_alert_rules.py fails when the two differ. Metric names are those the services
export (each service's metrics.py).
*/}}

{{/* A metric with the optional series selector added, e.g. (list "name" "stage=\"x\"" $). */}}
{{- define "sec-digester.series" -}}
{{- $name := index . 0 }}{{ $matchers := index . 1 }}{{ $ctx := index . 2 -}}
{{- $all := compact (list $matchers $ctx.Values.prometheusRule.seriesSelector) -}}
{{ $name }}{{ if $all }}{{ printf "{%s}" (join "," $all) }}{{ end }}
{{- end }}

{{/* True (a one-element vector) when it is EDGAR hours at every configured UTC offset, and
the window of the silence alert started after opening (06:00 + the window, until 22:00). */}}
{{- define "sec-digester.edgarHours" -}}
{{- $open := add (mul 6 60) .Values.prometheusRule.noFilingsMinutes }}
{{- range $i, $offset := .Values.prometheusRule.edgarUtcOffsetsHours }}
{{- $seconds := mul $offset 3600 | int }}
{{- $local := printf "vector(time() + %d)" $seconds }}
{{- if lt $seconds 0 }}{{ $local = printf "vector(time() - %d)" (mul -1 $seconds) }}{{ end }}
{{- if $i }}
and on() {{ end -}}
(hour({{ $local }}) * 60 + minute({{ $local }}) >= {{ $open }})
and on() (hour({{ $local }}) * 60 + minute({{ $local }}) < 1320)
and on() (day_of_week({{ $local }}) >= 1) and on() (day_of_week({{ $local }}) <= 5)
{{- end }}
{{- end }}

{{- define "sec-digester.alertLabels" -}}
severity: {{ .severity }}
{{- with .ctx.Values.prometheusRule.alertLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "sec-digester.alertRules" -}}
{{- $v := .Values.prometheusRule -}}
groups:
  - name: sec-digester
    rules:
      - alert: SecDigesterNoFilingsIngested
        expr: |
          (sum(increase({{ include "sec-digester.series" (list "ingest_filings_emitted_total" "" .) }}[{{ $v.noFilingsMinutes }}m])) or vector(0)) == 0
          and on() {{ include "sec-digester.edgarHours" . | nindent 10 | trim }}
        for: 1m
        labels:
          {{- include "sec-digester.alertLabels" (dict "severity" "critical" "ctx" .) | nindent 10 }}
        annotations:
          summary: No filing ingested for {{ $v.noFilingsMinutes }} minutes during EDGAR hours
          description: >-
            EDGAR accepts filings on weekdays from 06:00 to 22:00 US Eastern and ingest wrote
            none to the raw topic for {{ $v.noFilingsMinutes }} minutes (or is not scraped).
            Check ingest's log and ingest_polls_total{outcome} for failing polls.
      - alert: SecDigesterFeedMissedFilings
        expr: |
          sum(increase({{ include "sec-digester.series" (list "ingest_reconciled_filings_total" "" .) }}[1h])) > 0
        labels:
          {{- include "sec-digester.alertLabels" (dict "severity" "warning" "ctx" .) | nindent 10 }}
        annotations:
          summary: The live feed missed {{`{{ $value | humanize }}`}} filings in the last hour
          description: >-
            Reconciliation found filings in EDGAR's daily index that the live feed had not
            delivered, and added them (source daily_index, so they reached the stream late).
            Ingest was down, or a burst ran past the feed; see ingest_feed_gaps_total and the
            "daily index reconciled" lines in ingest's log.
      - alert: SecDigesterProcessingSlow
        expr: |
          histogram_quantile(0.95, sum by (le, stage) (rate({{ include "sec-digester.series" (list "analyze_stage_seconds_bucket" "stage=~\"fetch|analyze\"" .) }}[10m])))
          > {{ $v.processingLatencySeconds }}
        for: 10m
        labels:
          {{- include "sec-digester.alertLabels" (dict "severity" "warning" "ctx" .) | nindent 10 }}
        annotations:
          summary: Analyze's {{`{{ $labels.stage }}`}} stage takes {{`{{ $value | humanizeDuration }}`}} (p95)
          description: >-
            The 95th percentile of a filing's {{`{{ $labels.stage }}`}} stage has been above
            {{ $v.processingLatencySeconds }} s for 10 minutes: EDGAR or the LLM endpoint is slow.
      - alert: SecDigesterConsumerLagGrowing
        expr: |
          sum(max by (partition) ({{ include "sec-digester.series" (list "analyze_consumer_lag" "" .) }})) > {{ $v.consumerLagMin }}
          and on() deriv(sum(max by (partition) ({{ include "sec-digester.series" (list "analyze_consumer_lag" "" .) }}))[15m:1m]) > 0
        for: 15m
        labels:
          {{- include "sec-digester.alertLabels" (dict "severity" "warning" "ctx" .) | nindent 10 }}
        annotations:
          summary: Analyze is {{`{{ $value | humanize }}`}} records behind and falling further behind
          description: >-
            The raw topic grows faster than analyze consumes it. Add analyze replicas (up to
            the partition count) or raise LLM_MAX_CONCURRENCY.
      - alert: SecDigesterDeadLetters
        expr: |
          max({{ include "sec-digester.series" (list "analyze_dead_letter_topic_records" "" .) }}) > 0
        labels:
          {{- include "sec-digester.alertLabels" (dict "severity" "warning" "ctx" .) | nindent 10 }}
        annotations:
          summary: The dead-letter topic holds {{`{{ $value | humanize }}`}} records
          description: >-
            Analyze gave up on records (error_type and reason are in each record; read them
            with `sec-digester export --topic dlq`). The alert clears when the topic is empty
            again: after its retention, or once handled records are deleted.
      - alert: SecDigesterLlmCostOverBudget
        expr: |
          sum(increase({{ include "sec-digester.series" (list "analyze_llm_cost_usd_total" "" .) }}[1h])) > {{ $v.llmCostPerHourUsd }}
        labels:
          {{- include "sec-digester.alertLabels" (dict "severity" "warning" "ctx" .) | nindent 10 }}
        annotations:
          summary: LLM spending is {{`{{ $value | humanize }}`}} USD in the last hour
          description: >-
            Over the budget of {{ $v.llmCostPerHourUsd }} USD per hour. A backfill or a replay
            through analyze costs what it analyzes; check LLM_MODEL and the analyze cache.
{{- end }}
