"""Durable client positions: what clients acknowledged, committed to their consumer groups.

A client's position lives in the Kafka consumer group `sec-gateway.<client_id>` (so any gateway
instance resumes it, and any Kafka tool can read it). Acknowledgements are collected and written
every `interval_s` (and at once when a client goes), so a burst of acks costs one request.

They are committed through a consumer of the client's group, never the admin client: its
AlterConsumerGroupOffsets aborted the gateway when the coordinator went away mid-request
(services/common/kafka/group_offsets.py). While Kafka is away a commit fails; the positions
stay pending and the next flush writes them (delivery is at least once meanwhile).
"""

from __future__ import annotations

import asyncio

import structlog

from services.common.errors import SecDigesterError
from services.common.kafka import GroupOffsets
from services.common.lifecycle import sleep_or_stop
from services.common.positions import Positions

log = structlog.get_logger(__name__)


def group_of(client_id: str) -> str:
    return f"sec-gateway.{client_id}"


class AckCommitter:
    def __init__(self, group_offsets: GroupOffsets, interval_s: float) -> None:
        self._group_offsets = group_offsets
        self._interval_s = interval_s
        self._pending: dict[tuple[str, str], Positions] = {}  # (client_id, topic) -> positions

    def acknowledge(self, client_id: str, topic: str, positions: Positions) -> None:
        self._pending[(client_id, topic)] = dict(positions)

    async def flush(self, client_id: str | None = None) -> None:
        """Write pending acknowledgements (of one client, or of all)."""
        keys = [k for k in self._pending if client_id is None or k[0] == client_id]
        for key in keys:
            positions = self._pending.pop(key)
            group = group_of(key[0])
            try:
                await self._group_offsets.commit(group, key[1], positions)
            except SecDigesterError as exc:  # the next flush tries again; at least once meanwhile
                self._pending.setdefault(key, positions)
                log.warning(
                    "committing acknowledged offsets failed; kept for the next flush",
                    group=group,
                    error=str(exc),
                )
                # Kafka is away (a commit waits up to ~45 s for the coordinator): the others
                # would fail alike, one after another. They stay pending for the next flush.
                return

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await sleep_or_stop(stop, self._interval_s)
            await self.flush()
