"""Start in any order: a service started before Kafka or the registry answer waits for them.

A scheduler starts pods in whatever order it likes, and the chart's Job creates the topics and
registers the schemas when it gets to it. So before a service opens its clients it waits, with
back-off, until Kafka answers, the registry answers, and the topics and subjects it needs
exist: its /healthz answers 200 meanwhile (the process is alive and doing what it should) and
its /readyz 503, naming what is missing. It gives up only after `KAFKA_OUTAGE_TOLERANCE_S`, as
an outage during a run does (services/common/outage.py), with the same error: what is missing,
for how long, and the setting.

Waiting for the topics and subjects too, not only for the servers, is what lets the services
start beside the Job that creates them. The price: a deployment that forgot the Job waits out
the tolerance before failing, so every wait logs what it waits for and which command provides
it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from services.common.errors import KafkaOutageError
from services.common.lifecycle import sleep_or_stop
from services.common.probes import kafka_topics, registry_subjects
from services.common.registry import subject_for
from services.common.settings import CommonSettings

log = structlog.get_logger(__name__)

FIRST_RETRY_S = 0.5
LONGEST_RETRY_S = 5.0


@dataclass(frozen=True)
class Needs:
    """What a service cannot start without: its topics, and the value subjects it looks its
    schemas' ids up in (those of `schema_topics`)."""

    topics: Sequence[str] = ()
    schema_topics: Sequence[str] = ()
    kafka: bool = True  # `schemas register` needs only the registry,
    registry: bool = True  # `topics create` only Kafka

    @property
    def subjects(self) -> list[str]:
        return [subject_for(topic) for topic in self.schema_topics]


async def missing(settings: CommonSettings, needs: Needs) -> list[str]:
    """What is not there yet, each as a phrase an operator can act on; empty when all is."""
    topics, subjects = await asyncio.gather(
        kafka_topics(settings) if needs.kafka else _none_needed(),
        registry_subjects(settings) if needs.registry else _none_needed(),
    )
    absent: list[str] = []
    if topics is None:
        absent.append(f"Kafka ({settings.kafka_bootstrap_servers}) does not answer")
    else:
        absent += [
            f"topic {topic} does not exist or has no leader yet (`sec-digester topics create`)"
            for topic in needs.topics
            if topic not in topics
        ]
    if subjects is None:
        absent.append(f"the schema registry ({settings.schema_registry_url}) does not answer")
    else:
        absent += [
            f"subject {subject} is not registered (`sec-digester schemas register`)"
            for subject in needs.subjects
            if subject not in subjects
        ]
    return absent


async def _none_needed() -> set[str]:
    return set()


async def wait_for_infrastructure(
    settings: CommonSettings, needs: Needs, stop: asyncio.Event
) -> bool:
    """Return True once everything in `needs` is there, False if `stop` was set first; raise
    `KafkaOutageError` once something has been missing for longer than the tolerance."""
    tolerance_s = settings.kafka_outage_tolerance_s
    started = time.monotonic()
    delay_s = FIRST_RETRY_S
    reported: list[str] = []
    while absent := await missing(settings, needs):
        waited_s = time.monotonic() - started
        if waited_s > tolerance_s:
            raise KafkaOutageError(
                f"not started: for {waited_s:.0f} s, longer than KAFKA_OUTAGE_TOLERANCE_S="
                f"{tolerance_s:g}: {'; '.join(absent)}",
                code="OUTAGE",
            )
        if absent != reported:
            log.warning(
                "waiting for the infrastructure (not ready meanwhile)",
                missing=absent,
                waited_s=round(waited_s, 1),
                tolerance_s=tolerance_s,
            )
            reported = absent
        if await sleep_or_stop(stop, delay_s):
            return False
        delay_s = min(delay_s * 2, LONGEST_RETRY_S)
    if reported:
        log.info("the infrastructure answers: starting", waited_s=round(time.monotonic() - started))
    return True
