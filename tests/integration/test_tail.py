"""`sec-digester tail` as a user runs it, against a real gateway process on the real broker."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.settings import TopicSettings
from tests.support.cli import environment_for, run_cli
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis
from tests.support.tail import TailProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asyncio

PRIORITIES = ("low", "medium", "high", "critical")


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(topics, tmp_path) as process:
        yield process


def wanted(record: dict[str, Any]) -> bool:
    """--ticker AAPL,MSFT --form 8-K --min-priority high, as the gateway documents them."""
    filing = record["filing"]
    return (
        bool({"AAPL", "MSFT"} & set(filing["tickers"]))
        and filing["form_type"].removesuffix("/A") == "8-K"
        and PRIORITIES.index(record["analysis"]["priority"]) >= PRIORITIES.index("high")
    )


async def test_json_lines_parse_and_match_the_filters(
    topics: TopicSettings, gateway: GatewayProcess, tmp_path: Path
) -> None:
    records = [
        sample_analysis(
            n,
            ticker=("AAPL", "MSFT", "JPM")[n % 3],
            form_type=("8-K", "10-Q", "8-K/A", "8-K")[n % 4],
            priority=PRIORITIES[n % 4],
        )
        for n in range(1, 49)
    ]
    expected = [r["filing"]["accession_number"] for r in records if wanted(r)]
    assert 0 < len(expected) < len(records) / 2
    filters = ("--ticker", "AAPL,MSFT", "--form", "8-K", "--min-priority", "high")
    # Half before it starts (replay), half while it runs (live).
    await publish_analyses(topics, records[:24])
    with TailProcess(topics, gateway, tmp_path, *filters, "--from", "earliest") as tail:
        await publish_analyses(topics, records[24:])
        wait_for(lambda: len(tail.records()) >= len(expected), timeout_s=60, what="the filings")
        tail.signal(signal.SIGTERM)
        assert tail.wait(timeout_s=30) == 0
    printed = tail.records()  # each line parsed as one JSON object
    assert all(wanted(record) for record in printed)
    assert [record["filing"]["accession_number"] for record in printed] == expected


async def test_a_wrong_key_or_a_rejected_parameter_exits_with_a_message(
    topics: TopicSettings, tmp_path: Path
) -> None:
    with GatewayProcess(topics, tmp_path, GATEWAY_API_KEYS="right") as gateway:
        env = environment_for(topics, GATEWAY_URL=gateway.ws_url, GATEWAY_API_KEY="wrong")
        refused = run_cli("tail", env=env, timeout=60)
        assert refused.returncode == 2
        assert "GATEWAY_API_KEY" in refused.stderr
        assert refused.stdout == ""
        env["GATEWAY_API_KEY"] = "right"
        rejected = run_cli("tail", "--from", "yesterday", env=env, timeout=60)
        assert rejected.returncode == 2
        assert "from" in rejected.stderr
