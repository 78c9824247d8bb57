from __future__ import annotations

import subprocess
import sys

import pytest

from services.common.errors import ConfigurationError
from services.common.settings import CommonSettings, TopicSettings, load_settings
from services.infra.settings import InfraSettings


def test_defaults_match_the_design() -> None:
    settings = load_settings(CommonSettings)
    assert settings.kafka_bootstrap_servers == "localhost:9092"
    assert (settings.topic_raw, settings.topic_analyzed, settings.topic_dlq) == (
        "sec.filings.raw",
        "sec.filings.analyzed",
        "sec.filings.dlq",
    )


def test_environment_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPIC_RAW", "from.env")
    monkeypatch.setenv("TOPIC_ANALYZED", "analyzed.env")
    settings = load_settings(CommonSettings, {"topic_analyzed": "analyzed.flag"})
    assert settings.topic_raw == "from.env"
    assert settings.topic_analyzed == "analyzed.flag"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"kafka_bootstrap_servers": "no-port-here"}, "KAFKA_BOOTSTRAP_SERVERS"),
        ({"schema_registry_url": "ftp://x"}, "SCHEMA_REGISTRY_URL"),
        ({"topic_raw": "bad topic!"}, "TOPIC_RAW"),
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_a_bad_value_names_the_setting(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load_settings(CommonSettings, overrides)


def test_partitions_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="TOPIC_PARTITIONS"):
        load_settings(TopicSettings, {"topic_partitions": "0"})


def test_topics_must_differ() -> None:
    with pytest.raises(
        ConfigurationError,
        match="TOPIC_RAW, TOPIC_ANALYZED, TOPIC_DLQ, TOPIC_LLM_CACHE and TOPIC_INGEST_CONTROL",
    ):
        load_settings(CommonSettings, {"topic_raw": "same", "topic_analyzed": "same"})


def test_sasl_needs_credentials() -> None:
    with pytest.raises(ConfigurationError, match="KAFKA_SASL_USERNAME"):
        load_settings(CommonSettings, {"kafka_security_protocol": "SASL_SSL"})


def test_infra_ports_must_differ() -> None:
    with pytest.raises(ConfigurationError, match="INFRA_KAFKA_PORT"):
        load_settings(InfraSettings, {"infra_kafka_port": 9000, "infra_registry_port": 9000})


def test_cli_reports_bad_configuration_naming_the_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services", "topics", "create", "--topic-partitions", "zero"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KAFKA_BOOTSTRAP_SERVERS": "nohostport", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "KAFKA_BOOTSTRAP_SERVERS (--kafka-bootstrap-servers)" in result.stderr
    assert "TOPIC_PARTITIONS (--topic-partitions)" in result.stderr


def test_a_comma_separated_setting_is_read_from_the_environment_and_from_a_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.analyze.settings import AnalyzeSettings
    from services.gateway.settings import GatewaySettings

    monkeypatch.setenv("EDGAR_USER_AGENT", "Example Corp contact@example.com")
    monkeypatch.setenv("ANALYZE_FETCH_FORMS", " 8-k, 10-Q,,")
    assert load_settings(AnalyzeSettings).fetch_forms == frozenset({"8-K", "10-Q"})
    flagged = load_settings(AnalyzeSettings, {"analyze_fetch_forms": "6-K"})
    assert flagged.fetch_forms == frozenset({"6-K"})
    monkeypatch.setenv("ANALYZE_FETCH_FORMS", "")
    assert load_settings(AnalyzeSettings).fetch_forms == frozenset()
    assert load_settings(GatewaySettings).cors_origins == []
