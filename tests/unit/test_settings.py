from __future__ import annotations

import subprocess
import sys

import pytest

from services.common.errors import ConfigurationError
from services.common.settings import CommonSettings, TopicSettings, load_settings
from services.infra.settings import InfraSettings
from services.store.settings import StoreSettings


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
        match="TOPIC_RAW, TOPIC_ANALYZED, TOPIC_DLQ, TOPIC_TEXT, TOPIC_LLM_CACHE and "
        "TOPIC_INGEST_CONTROL",
    ):
        load_settings(CommonSettings, {"topic_raw": "same", "topic_analyzed": "same"})


def test_sasl_needs_credentials() -> None:
    with pytest.raises(ConfigurationError, match="KAFKA_SASL_USERNAME"):
        load_settings(CommonSettings, {"kafka_security_protocol": "SASL_SSL"})


def test_infra_ports_must_differ() -> None:
    with pytest.raises(ConfigurationError, match="INFRA_KAFKA_PORT"):
        load_settings(InfraSettings, {"infra_kafka_port": 9000, "infra_registry_port": 9000})


def test_infra_nodes_pair_their_ports_from_the_single_node_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("INFRA_NODES", "INFRA_HOST", "INFRA_KAFKA_PORT", "INFRA_CONTROLLER_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(InfraSettings, {"infra_nodes": "3"})
    assert settings.broker_ports == [9092, 9094, 9096]
    assert settings.controller_ports == [9093, 9095, 9097]
    assert settings.bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)
    single = load_settings(InfraSettings)
    assert single.bootstrap_servers == "127.0.0.1:9092"
    assert (single.replication_factor, single.min_insync_replicas) == (1, 1)


@pytest.mark.parametrize("nodes", ["0", "2", "4", "6"])
def test_infra_nodes_is_an_odd_quorum_size(nodes: str) -> None:
    with pytest.raises(ConfigurationError, match=r"INFRA_NODES \(--infra-nodes\).*1, 3 or 5"):
        load_settings(InfraSettings, {"infra_nodes": nodes})


def test_infra_node_ports_must_not_overlap_across_nodes() -> None:
    # Node 2's broker would listen on node 1's controller port + 2... = 9094 twice.
    with pytest.raises(ConfigurationError, match="every one of the 3 node"):
        load_settings(
            InfraSettings,
            {"infra_nodes": 3, "infra_kafka_port": 9092, "infra_controller_port": 9094},
        )


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


def test_the_store_dsn_is_postgresql_or_empty_and_never_shown() -> None:
    with pytest.raises(ConfigurationError, match="STORE_DSN"):
        load_settings(StoreSettings, {"store_dsn": "mysql://u:secret@db/x"})
    assert load_settings(StoreSettings, {"store_dsn": ""}).store_postgres_dsn is None
    settings = load_settings(StoreSettings, {"store_dsn": "postgres://u:secret@db:6543/filings"})
    assert settings.store_postgres_dsn == "postgres://u:secret@db:6543/filings"
    assert "secret" not in repr(settings)
    assert settings.store_description == "postgresql://db:6543/filings schema sec_digester"
    assert load_settings(StoreSettings, {}).store_postgres_dsn is None  # SQLite
