"""Durable client positions: what clients acknowledged, committed to their consumer groups.

A client's position lives in the Kafka consumer group `sec-gateway.<client_id>` (so any gateway
instance resumes it, and any Kafka tool can read it). Acknowledgements are collected and written
every `interval_s` (and at once when a client goes), so a burst of acks costs one request.

One client_id, one connection (docs/gateway-protocol.md, "One client_id, one connection").
Kafka's offset commits have no compare-and-set, and the one fence the broker keeps (a group with
an active member refuses memberless commits) costs a librdkafka handle per connection. So the
gateway keeps its own:
- On one gateway, a newer connection of a client_id (per topic) takes over at once: the older
  one's acknowledgements are written, and it is closed with `superseded` (4409).
- Across gateways, every commit carries the connection's token as the offsets' metadata. A
  connection claims the position when it opens (before its welcome): it writes the committed
  offsets as they are (its start where there are none) with its token. Before each commit it
  reads the group's offsets back: another connection's token there means a newer connection
  has claimed the position, and this one is superseded, its unwritten acknowledgements dropped.
  A read and the write after it are two requests: a claim landing between them is overwritten
  once, and its connection then finds the older token and is the one superseded. The routing by
  client_id at the balancer (deploy/haproxy/haproxy.cfg) keeps both connections on one gateway,
  where none of this races.
- Through one connection the position only moves forward: per partition the highest offset
  acknowledged, and with `from=committed` never below what was committed when it claimed.

They are committed through a consumer of the client's group, never the admin client: its
AlterConsumerGroupOffsets aborted the gateway when the coordinator went away mid-request
(services/common/kafka/group_offsets.py). While Kafka is away a commit fails; the positions
stay pending and the next flush writes them (delivery is at least once meanwhile).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog

from services.common.errors import SecDigesterError
from services.common.kafka import GroupOffsets
from services.common.lifecycle import sleep_or_stop
from services.common.positions import Positions
from services.gateway.errors import ErrorCode, GatewayError
from services.gateway.metrics import SUPERSEDED

log = structlog.get_logger(__name__)

# The metadata of a commit: this prefix, then the token of the connection that wrote it.
# Metadata without it (written by a Kafka tool, or by no one) claims nothing.
CLAIM_PREFIX = "sec-gateway connection "


def group_of(client_id: str) -> str:
    return f"sec-gateway.{client_id}"


def token_in(metadata: str | None) -> str | None:
    """The connection token a commit's metadata names, if it names one."""
    if metadata is None or not metadata.startswith(CLAIM_PREFIX):
        return None
    return metadata.removeprefix(CLAIM_PREFIX)


class SupersededError(GatewayError):
    def __init__(self, reason: str) -> None:
        super().__init__(ErrorCode.SUPERSEDED, reason)


@dataclass(eq=False)
class DurableConnection:
    """One connection's hold on its client_id's position in one topic."""

    client_id: str
    topic: str
    partitions: list[int]
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    acked: dict[int, int] = field(default_factory=dict)  # the highest acknowledged
    written: dict[int, int] = field(default_factory=dict)  # what this connection committed
    floor: dict[int, int] = field(default_factory=dict)  # never committed below
    superseded: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def group(self) -> str:
        return group_of(self.client_id)

    @property
    def metadata(self) -> str:
        return CLAIM_PREFIX + self.token

    def acknowledge(self, positions: Mapping[int, int]) -> None:
        if self.superseded.is_set():
            return  # a newer connection holds the position now
        for partition, offset in positions.items():
            self.acked[partition] = max(offset, self.acked.get(partition, offset))

    def pending(self) -> dict[int, int]:
        """What to commit: the acknowledged positions not written yet, above the floor."""
        wanted = {p: max(o, self.floor.get(p, o)) for p, o in self.acked.items()}
        if all(self.written.get(p) == o for p, o in wanted.items()):
            return {}
        return wanted

    def supersede(self, reason: str) -> None:
        if not self.superseded.is_set():
            self.reason = reason
            self.superseded.set()
            SUPERSEDED.inc()
            log.info("durable connection superseded", client_id=self.client_id, reason=reason)


class AckCommitter:
    def __init__(self, group_offsets: GroupOffsets, interval_s: float) -> None:
        self._group_offsets = group_offsets
        self._interval_s = interval_s
        self._held: dict[tuple[str, str], DurableConnection] = {}  # the newest, per client
        self._open: set[DurableConnection] = set()

    async def take(self, client_id: str, topic: str, partitions: list[int]) -> DurableConnection:
        """A new connection of `client_id`: an older one on this gateway is superseded, its
        acknowledgements written first (so that `from=committed` starts after them)."""
        connection = DurableConnection(client_id, topic, list(partitions))
        older = self._held.get((client_id, topic))
        self._held[(client_id, topic)] = connection
        self._open.add(connection)
        if older is not None:
            older.supersede("a newer connection with this client_id took over")
            try:
                await self._write(older)
            except BaseException:  # Kafka away: this connection does not open (1011)
                self._forget(connection)
                raise
        return connection

    async def claim(self, connection: DurableConnection, start: Positions, resumed: bool) -> None:
        """Put the connection's token on the committed position before the stream starts:
        the offsets as committed, `start` where there are none. `resumed` (from=committed):
        nothing is ever committed below what is committed now."""
        async with connection.lock:
            committed = await self._group_offsets.committed_with_metadata(
                connection.group, connection.topic, connection.partitions
            )
            offsets = {p: committed[p][0] if p in committed else start[p] for p in start}
            if connection.superseded.is_set():
                return  # a newer connection on this gateway took over meanwhile
            await self._group_offsets.commit(
                connection.group, connection.topic, offsets, connection.metadata
            )
            connection.written = dict(offsets)
            if resumed:
                connection.floor = dict(offsets)

    def acknowledge(self, connection: DurableConnection, positions: Positions) -> None:
        connection.acknowledge(positions)

    async def release(self, connection: DurableConnection) -> None:
        """The connection ended: write what it acknowledged, and forget it."""
        try:
            await self._write(connection)
        finally:
            self._forget(connection)

    def _forget(self, connection: DurableConnection) -> None:
        self._open.discard(connection)
        key = (connection.client_id, connection.topic)
        if self._held.get(key) is connection:
            del self._held[key]

    async def flush(self) -> None:
        """Write every connection's pending acknowledgements."""
        for connection in list(self._open):
            try:
                await self._write(connection)
            except SecDigesterError as exc:  # the next flush tries again; at least once meanwhile
                log.warning(
                    "committing acknowledged offsets failed; kept for the next flush",
                    group=connection.group,
                    error=str(exc),
                )
                # Kafka is away (a commit waits up to ~45 s for the coordinator): the others
                # would fail alike, one after another. They stay pending for the next flush.
                return

    async def _write(self, connection: DurableConnection) -> None:
        async with connection.lock:
            offsets = connection.pending()
            if not offsets:
                return
            committed = await self._group_offsets.committed_with_metadata(
                connection.group, connection.topic, connection.partitions
            )
            claimed = {token_in(metadata) for _, metadata in committed.values()}
            if claimed - {None, connection.token}:
                connection.supersede("a newer connection with this client_id took over elsewhere")
                connection.acked = dict(connection.written)  # never written: redelivered
                return
            await self._group_offsets.commit(
                connection.group, connection.topic, offsets, connection.metadata
            )
            connection.written.update(offsets)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await sleep_or_stop(stop, self._interval_s)
            await self.flush()
