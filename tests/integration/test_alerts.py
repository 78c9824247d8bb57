"""`sec-digester alerts` as an operator runs it: its own process, a real gateway process on the
real broker, and a local stand-in for Discord's webhook API over real HTTP that rate-limits
every third request (429 with `retry_after`)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.settings import TopicSettings
from tests.support.asgi_server import serve_app
from tests.support.cli import environment_for
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.processes import ServiceProcess
from tests.support.records import sample_analysis
from tests.support.waiting import wait_for_async
from tests.support.webhook_stub import Received, WebhookStub

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

PRIORITIES = ("low", "medium", "high", "critical")
DISCORD = "/api/webhooks/1234/secret-token"


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(topics, tmp_path) as process:
        yield process


def _records(first: int, count: int) -> list[dict[str, Any]]:
    return [
        sample_analysis(n, ticker=("AAPL", "MSFT", "NVDA")[n % 3], priority=PRIORITIES[n % 4])
        for n in range(first, first + count)
    ]


def _high(records: list[dict[str, Any]]) -> list[str]:
    return [
        r["filing"]["accession_number"]
        for r in records
        if r["analysis"]["priority"] in {"high", "critical"}
    ]


def _accessions(received: list[Received]) -> list[str | None]:
    return [r.idempotency_key for r in received]


async def _stop(process: ServiceProcess) -> int:
    process.signal(signal.SIGTERM)
    # In a thread: the stub this process may be talking to runs on this event loop.
    return await asyncio.to_thread(process.wait, 30)


async def test_each_high_priority_filing_is_posted_once_in_order_across_a_restart(
    topics: TopicSettings, gateway: GatewayProcess, tmp_path: Path
) -> None:
    before, after = _records(1, 24), _records(25, 16)
    expected = _high(before + after)
    await publish_analyses(topics, before)
    stub = WebhookStub(signing_secret="s3cret-for-the-hook")
    async with serve_app(stub.app) as base_url:
        env = environment_for(
            topics,
            GATEWAY_URL=gateway.ws_url,
            ALERTS_CLIENT_ID=f"alerts-{uuid.uuid4().hex[:8]}",
            ALERTS_DISCORD_WEBHOOK=base_url + DISCORD,
            ALERTS_WEBHOOK=base_url + "/hook",
            ALERTS_WEBHOOK_SECRET="s3cret-for-the-hook",
            ALERTS_BACKOFF_INITIAL_S="0.1",
            ALERTS_BACKOFF_MAX_S="0.5",
        )
        # The first run starts at the beginning of the topic; the second from its committed
        # position (no --from), as a restarted deployment does.
        first = ServiceProcess("alerts-1", ["alerts", "--from", "earliest"], env, tmp_path)
        with first:
            await wait_for_async(
                lambda: len(stub.accepted(DISCORD)) >= 4, timeout_s=60, what="4 alerts"
            )
            assert await _stop(first) == 0
        # Stopped mid-run: 429s slow the first run down well below the rate of the polling.
        assert len(stub.accepted(DISCORD)) < len(_high(before))
        await publish_analyses(topics, after)
        with ServiceProcess("alerts-2", ["alerts"], env, tmp_path) as second:
            # In stream order: a repeat of anything would come before the last one.
            await wait_for_async(
                lambda: len(stub.accepted("/hook")) >= len(expected) or None,
                timeout_s=90,
                what="every alert on both sinks",
            )
            assert await _stop(second) == 0

    assert _accessions(stub.accepted(DISCORD)) == expected
    assert _accessions(stub.accepted("/hook")) == expected
    # Every POST to the generic webhook carried a valid signature (the stub refuses others).
    assert all(r.status == 200 for r in stub.received if r.path == "/hook")
    # The generic webhook gets the record as the gateway serves it.
    posted = {r.body["filing"]["accession_number"]: r.body for r in stub.accepted("/hook")}
    assert {body["analysis"]["priority"] for body in posted.values()} <= {"high", "critical"}
    # Rate limited, and each retry waited as long as Discord's body said.
    discord = [r for r in stub.received if r.path == DISCORD]
    limited = [i for i, r in enumerate(discord) if r.status == 429]
    assert limited
    for i in limited:
        if i + 1 < len(discord) and discord[i + 1].idempotency_key == discord[i].idempotency_key:
            assert discord[i + 1].at - discord[i].at >= stub.retry_after_s
    _check_embed(stub.accepted(DISCORD)[0], before)


def _check_embed(received: Received, records: list[dict[str, Any]]) -> None:
    record = next(r for r in records if r["filing"]["accession_number"] == received.idempotency_key)
    (embed,) = received.body["embeds"]
    filing = record["filing"]
    assert embed["url"] == filing["index_url"]
    assert filing["tickers"][0] in embed["title"]
    assert filing["form_type"] in embed["title"]
    assert embed["description"] == record["analysis"]["summary"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Priority"] == record["analysis"]["priority"]
    assert fields["Sentiment"] == f"{record['analysis']['sentiment']:+.2f}"
    assert received.body["allowed_mentions"] == {"parse": []}
