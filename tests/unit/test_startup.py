"""Start in any order (services/common/startup.py): before Kafka and the registry answer, a
service waits, saying what it waits for, and gives up only after the outage tolerance."""

from __future__ import annotations

import asyncio

import pytest

from services.common.errors import KafkaOutageError
from services.common.settings import CommonSettings
from services.common.startup import Needs, missing, wait_for_infrastructure
from tests.support.processes import free_port

NEEDS = Needs(topics=["sec.filings.raw"], schema_topics=["sec.filings.raw"])


def _nothing_answers(tolerance_s: float = 300.0) -> CommonSettings:
    return CommonSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        schema_registry_url=f"http://127.0.0.1:{free_port()}/apis/ccompat/v7",
        kafka_outage_tolerance_s=tolerance_s,
    )


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_what_is_missing_names_each_server_by_its_address() -> None:
    settings = _nothing_answers()
    absent = await missing(settings, NEEDS)
    assert absent == [
        f"Kafka ({settings.kafka_bootstrap_servers}) does not answer",
        f"the schema registry ({settings.schema_registry_url}) does not answer",
    ]


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_waiting_past_the_tolerance_ends_with_what_was_missing_and_the_setting() -> None:
    settings = _nothing_answers(tolerance_s=1.0)
    with pytest.raises(KafkaOutageError) as raised:
        await wait_for_infrastructure(settings, NEEDS, asyncio.Event())
    message = str(raised.value)
    assert "KAFKA_OUTAGE_TOLERANCE_S=1" in message
    assert f"Kafka ({settings.kafka_bootstrap_servers}) does not answer" in message
    assert "schema registry" in message
    assert raised.value.retriable is False


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_a_shutdown_while_waiting_ends_the_wait_without_an_error() -> None:
    settings = _nothing_answers()  # a tolerance of minutes, as by default
    stop = asyncio.Event()
    waiting = asyncio.create_task(wait_for_infrastructure(settings, NEEDS, stop))
    await asyncio.sleep(4)  # past the first probe and into a back-off
    assert not waiting.done()
    stop.set()
    assert await asyncio.wait_for(waiting, 10) is False
