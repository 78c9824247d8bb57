"""The operator alert rules: the chart's PrometheusRule and deploy/prometheus/alerts.yaml.

promtool (Debian's, extracted by scripts/install-promtool.sh into ~/.cache/sec-digester/bin or
$PROMTOOL_BIN_DIR) checks the rules and runs them on synthetic series (`promtool test rules`),
so each alert is shown to fire when it should and to stay quiet when it should not. Without
promtool these tests fail; they are never skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import prometheus_client
import pytest
import yaml

import services.analyze.metrics
import services.gateway.metrics
import services.ingest.metrics
from tests.unit.test_helm_chart import KUBERNETES_VERSION, Manifest, _render

RULES_FILE = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yaml"
ENABLED = ("--set", "prometheusRule.enabled=true")
ALERTS = {
    "SecDigesterNoFilingsIngested",
    "SecDigesterFeedMissedFilings",
    "SecDigesterProcessingSlow",
    "SecDigesterConsumerLagGrowing",
    "SecDigesterDeadLetters",
    "SecDigesterLlmCostOverBudget",
}


@pytest.fixture(scope="module")
def promtool() -> Path:
    bin_dir = os.environ.get("PROMTOOL_BIN_DIR") or str(Path.home() / ".cache/sec-digester/bin")
    path = Path(bin_dir) / "promtool"
    if not os.access(path, os.X_OK):
        pytest.fail(f"promtool is not installed at {path}: run scripts/install-promtool.sh")
    return path


def _promtool(promtool: Path, *args: str) -> str:
    result = subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _prometheus_rule(manifests: list[Manifest]) -> Manifest:
    (rule,) = [m for m in manifests if m["kind"] == "PrometheusRule"]
    return rule


def _rules(groups: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in groups["groups"] for rule in group["rules"]]


def test_the_rules_file_is_valid(promtool: Path) -> None:
    assert "SUCCESS: 6 rules found" in _promtool(promtool, "check", "rules", str(RULES_FILE))
    assert {r["alert"] for r in _rules(yaml.safe_load(RULES_FILE.read_text()))} == ALERTS


def test_the_rules_file_is_the_charts_rules_with_default_values(helm: Path) -> None:
    rule = _prometheus_rule(_render(helm, *ENABLED))
    assert rule["spec"] == yaml.safe_load(RULES_FILE.read_text()), (
        "deploy/prometheus/alerts.yaml differs from the chart: run scripts/render-alert-rules.sh"
    )


def test_the_rule_is_off_by_default(helm: Path) -> None:
    assert not [m for m in _render(helm) if m["kind"] == "PrometheusRule"]


def test_configured_rule_renders_valid_manifests(
    helm: Path, promtool: Path, tmp_path: Path
) -> None:
    manifests = _render(
        helm,
        *ENABLED,
        "--set",
        "prometheusRule.labels.release=kube-prometheus-stack",
        "--set",
        "prometheusRule.alertLabels.team=filings",
        "--set-string",
        'prometheusRule.seriesSelector=namespace="sec"',
        "--set",
        "prometheusRule.llmCostPerHourUsd=12.5",
        "--set",
        "prometheusRule.edgarUtcOffsetsHours={-4}",
    )
    rule = _prometheus_rule(manifests)
    # kubernetes-validate knows no CRDs: the PrometheusRule's shape is checked here, the
    # other manifests as in test_helm_chart.py.
    for manifest in manifests:
        if manifest is not rule:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(rule) == {"apiVersion", "kind", "metadata", "spec"}
    assert rule["metadata"]["name"] == "sec-digester"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert set(rule["spec"]) == {"groups"}
    for group in rule["spec"]["groups"]:
        assert set(group) == {"name", "rules"}
        for alert in group["rules"]:
            assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}
            assert alert["labels"]["team"] == "filings"
            assert alert["labels"]["severity"] in {"critical", "warning"}
            assert {"summary", "description"} <= set(alert["annotations"])
            # Every series of every rule carries the selector.
            for series in re.findall(r"\b(?:ingest|analyze)_\w+(?:\{[^}]*\})?", alert["expr"]):
                assert 'namespace="sec"' in series, (alert["alert"], series)
    expressions = " ".join(a["expr"] for a in _rules(rule["spec"]))
    assert "> 12.5" in expressions
    assert "time() - 14400" in expressions
    assert "time() - 18000" not in expressions
    spec = tmp_path / "rendered.yaml"
    spec.write_text(yaml.safe_dump(rule["spec"]))
    assert "SUCCESS: 6 rules found" in _promtool(promtool, "check", "rules", str(spec))


def _exported_series() -> set[str]:
    """Every series name the services' metrics modules export (labelled or not)."""
    modules = (services.ingest.metrics, services.analyze.metrics, services.gateway.metrics)
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    names = set()
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, prometheus_client.metrics.MetricWrapperBase):
                (family,) = value.describe()
                names |= {family.name + suffix for suffix in suffixes[family.type]}
    return names


def test_rules_use_only_metrics_the_services_export() -> None:
    used = set()
    for rule in _rules(yaml.safe_load(RULES_FILE.read_text())):
        used |= set(re.findall(r"\b(?:ingest|analyze|gateway)_[a-z_]+\b", rule["expr"]))
    assert used
    assert used <= _exported_series()


# `promtool test rules` starts every series at the Unix epoch: Thursday 1970-01-01 00:00 UTC.
# 15h = 10:00 EST / 11:00 EDT on a Thursday; 03h = 22:00 EST Wednesday; 2d15h = Saturday.
_SCENARIOS: list[dict[str, Any]] = [
    {  # ingest writes nothing: an alert on a weekday morning, none at night or on Saturday
        "interval": "1m",
        "input_series": [
            {
                "series": 'ingest_filings_emitted_total{form_type="8-K",source="live"}',
                "values": "5+0x4000",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "15h",
                "alertname": "SecDigesterNoFilingsIngested",
                "exp_alerts": [{"exp_labels": {"severity": "critical"}}],
            },
            {"eval_time": "3h", "alertname": "SecDigesterNoFilingsIngested", "exp_alerts": []},
            {"eval_time": "2d15h", "alertname": "SecDigesterNoFilingsIngested", "exp_alerts": []},
            # 06:10 EST: the window still covers the night, when EDGAR takes no filings.
            {"eval_time": "11h10m", "alertname": "SecDigesterNoFilingsIngested", "exp_alerts": []},
        ],
    },
    {  # ingest not scraped at all counts as nothing ingested; filings flowing is no alert
        "interval": "1m",
        "input_series": [
            {
                "series": 'ingest_filings_emitted_total{form_type="4",source="live",job="b"}',
                "values": "0+1x1000",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "15h", "alertname": "SecDigesterNoFilingsIngested", "exp_alerts": []},
        ],
    },
    {  # reconciliation added filings the feed missed: an alert for the hour after
        "interval": "1m",
        "input_series": [
            {"series": 'ingest_reconciled_filings_total{instance="a"}', "values": "0 0 0 40 40"},
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "SecDigesterFeedMissedFilings", "exp_alerts": []},
            {
                "eval_time": "4m",
                "alertname": "SecDigesterFeedMissedFilings",
                "exp_alerts": [{"exp_labels": {"severity": "warning"}}],
            },
        ],
    },
    {  # reconciliation runs and finds nothing missing: no alert
        "interval": "1m",
        "input_series": [
            {"series": 'ingest_reconciled_filings_total{instance="a"}', "values": "0+0x120"},
        ],
        "alert_rule_test": [
            {"eval_time": "90m", "alertname": "SecDigesterFeedMissedFilings", "exp_alerts": []},
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            # p95 of the analyze stage between 30 s and 60 s; fetch fast.
            {"series": 'analyze_stage_seconds_bucket{stage="analyze",le="30"}', "values": "0+1x60"},
            {
                "series": 'analyze_stage_seconds_bucket{stage="analyze",le="60"}',
                "values": "0+10x60",
            },
            {
                "series": 'analyze_stage_seconds_bucket{stage="analyze",le="+Inf"}',
                "values": "0+10x60",
            },
            {"series": 'analyze_stage_seconds_bucket{stage="fetch",le="1"}', "values": "0+10x60"},
            {
                "series": 'analyze_stage_seconds_bucket{stage="fetch",le="+Inf"}',
                "values": "0+10x60",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "30m",
                "alertname": "SecDigesterProcessingSlow",
                "exp_alerts": [{"exp_labels": {"severity": "warning", "stage": "analyze"}}],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {"series": 'analyze_consumer_lag{partition="0"}', "values": "0+10x100"},
            {"series": 'analyze_consumer_lag{partition="1"}', "values": "500+0x100"},
        ],
        "alert_rule_test": [
            {
                "eval_time": "40m",
                "alertname": "SecDigesterConsumerLagGrowing",
                "exp_alerts": [{"exp_labels": {"severity": "warning"}}],
            },
        ],
    },
    {  # a large but steady (or shrinking) lag is no alert
        "interval": "1m",
        "input_series": [
            {"series": 'analyze_consumer_lag{partition="0"}', "values": "5000-1x100"},
        ],
        "alert_rule_test": [
            {"eval_time": "40m", "alertname": "SecDigesterConsumerLagGrowing", "exp_alerts": []},
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {"series": 'analyze_dead_letter_topic_records{instance="a"}', "values": "0 0 3 3"},
            {"series": 'analyze_dead_letter_topic_records{instance="b"}', "values": "0 0 0 3"},
        ],
        "alert_rule_test": [
            {"eval_time": "1m", "alertname": "SecDigesterDeadLetters", "exp_alerts": []},
            {
                "eval_time": "3m",
                "alertname": "SecDigesterDeadLetters",
                "exp_alerts": [{"exp_labels": {"severity": "warning"}}],
            },
        ],
    },
    {  # 0.2 USD a minute is 12 USD an hour, over the default budget of 5
        "interval": "1m",
        "input_series": [
            {"series": 'analyze_llm_cost_usd_total{instance="a"}', "values": "0+0.2x120"},
        ],
        "alert_rule_test": [
            {
                "eval_time": "90m",
                "alertname": "SecDigesterLlmCostOverBudget",
                "exp_alerts": [{"exp_labels": {"severity": "warning"}}],
            },
        ],
    },
    {  # 3 USD an hour: within budget
        "interval": "1m",
        "input_series": [
            {"series": 'analyze_llm_cost_usd_total{instance="a"}', "values": "0+0.05x120"},
        ],
        "alert_rule_test": [
            {"eval_time": "90m", "alertname": "SecDigesterLlmCostOverBudget", "exp_alerts": []},
        ],
    },
]


def test_each_alert_fires_when_it_should_and_only_then(promtool: Path, tmp_path: Path) -> None:
    # The expressions, durations and labels as shipped; annotations (prose, checked by
    # `promtool check rules` above) are left out so the scenarios need not repeat them.
    rules = yaml.safe_load(RULES_FILE.read_text())
    for rule in _rules(rules):
        del rule["annotations"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    tests = tmp_path / "alerts-test.yaml"
    tests.write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": _SCENARIOS}))
    _promtool(promtool, "test", "rules", str(tests))
    tested = {t["alertname"] for s in _SCENARIOS for t in s["alert_rule_test"]}
    assert tested == ALERTS
