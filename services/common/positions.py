"""Positions in a topic: cursors, the `from` parameter, and turning them into offsets.

A position is the next offset to read, for every partition of the topic. A cursor writes it as
`P:O[,P:O...]`; a start (the gateway's `from`, export's `--from`/`--to`) also accepts earliest,
latest, committed (a consumer group's offsets), a bare offset (single-partition topics) and an
ISO-8601 timestamp (Kafka's offsets-for-times). Parsing is pure and raises `BadParameterError`;
resolving asks the broker, so a position means the same to every command that takes one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from services.common.errors import BadParameterError
from services.common.kafka import KafkaAdmin

Positions = dict[int, int]  # partition -> next offset to read
# A consumer group's committed offsets: (group, topic, partitions) -> those that have one.
CommittedOffsets = Callable[[str, str, list[int]], Awaitable[Positions]]
_CURSOR = re.compile(r"\d+:\d+(,\d+:\d+)*", re.ASCII)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII
)


@dataclass(frozen=True)
class StartSpec:
    kind: Literal["earliest", "latest", "committed", "offset", "cursor", "time"]
    offset: int | None = None
    cursor: Positions | None = None
    time: dt.datetime | None = None


def format_cursor(positions: Positions) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(positions.items()))


class RunningCursor:
    """`format_cursor` of positions that move one partition at a time (a replay: a cursor per
    record), without sorting and formatting every partition each time."""

    def __init__(self, positions: Positions) -> None:
        ordered = sorted(positions.items())
        self._slot = {partition: slot for slot, (partition, _) in enumerate(ordered)}
        self._pairs = [f"{p}:{o}" for p, o in ordered]

    def move(self, partition: int, offset: int) -> str:
        """The cursor once `partition` is at `offset`."""
        self._pairs[self._slot[partition]] = f"{partition}:{offset}"
        return ",".join(self._pairs)


def parse_cursor(text: str, parameter: str = "cursor") -> Positions:
    if not _CURSOR.fullmatch(text):
        raise BadParameterError(parameter, f"{text[:60]!r} is not a cursor (P:O[,P:O...])")
    positions: Positions = {}
    for pair in text.split(","):
        partition, offset = (int(n) for n in pair.split(":"))
        if partition in positions:
            raise BadParameterError(
                parameter, f"partition {partition} appears twice in {text[:60]!r}"
            )
        positions[partition] = offset
    return positions


def parse_from(value: str | None, *, client_id: str | None) -> StartSpec:
    """The `from` parameter; absent means committed with a client_id, else latest."""
    if value is None or value == "":
        return StartSpec("committed" if client_id else "latest")
    if value == "earliest":
        return StartSpec("earliest")
    if value == "latest":
        return StartSpec("latest")
    if value == "committed":
        if not client_id:
            raise BadParameterError("from", "committed needs a client_id")
        return StartSpec("committed")
    if value.isascii() and value.isdigit():  # str.isdigit alone takes "²", which int() refuses
        return StartSpec("offset", offset=int(value))
    if ":" in value and _CURSOR.fullmatch(value):
        return StartSpec("cursor", cursor=parse_cursor(value, "from"))
    if _ISO.fullmatch(value):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadParameterError("from", f"{value[:60]!r} is not a valid time: {exc}") from exc
        return StartSpec("time", time=moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    raise BadParameterError(
        "from",
        f"{value[:60]!r} is not earliest, latest, committed, an offset, a cursor (P:O,...) "
        "or an ISO-8601 time",
    )


class PositionResolver:
    """Turns a StartSpec into offsets for every partition of one topic."""

    def __init__(
        self,
        admin: KafkaAdmin,
        topic: str,
        partitions: list[int],
        committed: CommittedOffsets | None = None,
    ) -> None:
        """`committed`: how to read a group's offsets, where `from=committed` is served."""
        self._admin = admin
        self.topic = topic
        self.partitions = partitions
        self._committed = committed

    async def resolve(self, spec: StartSpec, group: str | None = None) -> Positions:
        """`group`: the consumer group whose offsets `committed` means."""
        low = await self._admin.ends(self.topic, self.partitions, earliest=True)
        high = await self._admin.ends(self.topic, self.partitions)
        if spec.kind == "earliest":
            return low
        if spec.kind == "latest":
            return high
        if spec.kind == "committed":
            if group is None or self._committed is None:
                raise BadParameterError("from", "committed is a durable client's position")
            committed = await self._committed(group, self.topic, self.partitions)
            # Partitions never acknowledged start at the end: a new durable client subscribes
            # from now on (from=earliest reads the history first).
            return {p: _clamp(committed.get(p, high[p]), low[p], high[p]) for p in self.partitions}
        if spec.kind == "offset":
            if len(self.partitions) != 1:
                raise BadParameterError(
                    "from",
                    f"a bare offset needs a single-partition topic; this one has "
                    f"{len(self.partitions)}: use a cursor P:O,...",
                )
            only = self.partitions[0]
            return {only: _clamp(spec.offset or 0, low[only], high[only])}
        if spec.kind == "cursor":
            assert spec.cursor is not None
            unknown = set(spec.cursor) - set(self.partitions)
            if unknown:
                raise BadParameterError("from", f"the topic has no partition {sorted(unknown)}")
            # A partition missing from the cursor starts at its beginning: nothing is skipped.
            return {p: _clamp(spec.cursor.get(p, low[p]), low[p], high[p]) for p in self.partitions}
        assert spec.time is not None
        # Kafka's timestamps start at 1970: an earlier time is before every record (earliest),
        # and the broker would refuse a negative one.
        at_ms = max(0, int(spec.time.timestamp() * 1000))
        found = await self._admin.offsets_at(self.topic, self.partitions, at_ms)
        # -1: nothing at or after that time in this partition, so it starts at its end.
        return {p: found[p] if found[p] >= 0 else high[p] for p in self.partitions}


def _clamp(offset: int, low: int, high: int) -> int:
    """An offset outside what the partition holds starts at its nearest end."""
    return min(max(offset, low), high)
