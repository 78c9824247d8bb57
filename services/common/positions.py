"""Positions in a topic: cursors, the `from` parameter, and turning them into offsets.

A position is the next offset to read, for every partition of the topic. A cursor writes it as
`P:O[,P:O...]`; a start (the gateway's `from`, export's `--from`/`--to`) also accepts earliest,
latest, committed (a consumer group's offsets), a bare offset (single-partition topics) and an
ISO-8601 timestamp (Kafka's offsets-for-times). Parsing is pure and raises `BadParameterError`;
resolving asks the broker, so a position means the same to every command that takes one.

Resolving also says what of the request the log no longer holds, so that no command jumps over
records silently. A partition's log starts at its low watermark: retention (or a topic deleted
and created again, or DeleteRecords) removes records from the front. A position below it is a
`PartitionGap`: the records from the requested offset up to the first available one are gone,
and reading starts at the first available one. `earliest` is never a gap, nor is a partition a
cursor leaves out (it means "from the beginning"), nor a partition a durable client never
acknowledged (it starts at the end). A time is a gap when records were removed (log start > 0)
and the first record at or after the time is the first one the partition holds, or it holds
none any more: the removed ones may have been at or after the time, Kafka cannot tell now; its
`requested` is None and `missing` counts every record removed. A position above a partition's
end (a cursor of another topic, or of this topic before it was deleted and created again with
fewer records) is `PartitionBeyondEnd`: nothing sensible is there to read, and each command
says so.
"""

from __future__ import annotations

import asyncio
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


@dataclass(frozen=True, slots=True)
class PartitionGap:
    """Records a position asked for that the partition no longer holds."""

    partition: int
    requested: int | None  # None: a time, whose offset the removed records took with them
    first_available: int  # the partition's log start: where reading starts instead

    @property
    def missing(self) -> int:
        """How many offsets are gone (transaction markers take offsets too)."""
        return self.first_available - (self.requested or 0)


@dataclass(frozen=True, slots=True)
class PartitionBeyondEnd:
    """A position past everything the partition holds."""

    partition: int
    requested: int
    end: int  # the partition's end (its last stable offset)


@dataclass(frozen=True)
class Resolved:
    """Where reading starts in every partition, and what of the request is not there."""

    positions: Positions
    gaps: tuple[PartitionGap, ...] = ()
    beyond_end: tuple[PartitionBeyondEnd, ...] = ()


def describe_gaps(gaps: tuple[PartitionGap, ...]) -> str:
    """For a person: `partition 0: offsets 3-119 are gone (117), reading from 120`."""
    return "; ".join(
        f"partition {g.partition}: "
        + (
            f"offsets {g.requested}-{g.first_available - 1} are gone ({g.missing})"
            if g.requested is not None
            else f"the {g.missing} records before offset {g.first_available} are gone, "
            "some of them may have been at or after the time asked for"
        )
        + f", reading from {g.first_available}"
        for g in gaps
    )


def describe_beyond_end(beyond: tuple[PartitionBeyondEnd, ...]) -> str:
    return "; ".join(
        f"partition {b.partition}: offset {b.requested} is past its end ({b.end})" for b in beyond
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


class FreshQuery:
    """Callers asking at once share requests, and each is answered by a request that started
    after it asked (never by one already under way, whose answer may be older than the caller's
    own knowledge: a cursor it was just given could look past the end). A wave of connections
    (the clients of a gateway that died, all at once) then costs two requests, not one each on
    the few threads that wait for the broker's answers."""

    def __init__(self, query: Callable[[], Awaitable[Positions]]) -> None:
        self._query = query
        self._next: asyncio.Future[Positions] | None = None  # for the callers not yet served
        self._running: asyncio.Task[None] | None = None

    async def __call__(self) -> Positions:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            # A failure nobody waits for any more (the callers went) is not an error to log.
            self._next.add_done_callback(lambda f: f.cancelled() or f.exception())
        answer = self._next
        if self._running is None:
            self._running = asyncio.create_task(self._serve())
        return dict(await asyncio.shield(answer))

    async def _serve(self) -> None:
        try:
            while self._next is not None:
                answer, self._next = self._next, None
                try:
                    answer.set_result(await self._query())
                except Exception as exc:  # each caller raises it
                    answer.set_exception(exc)
        finally:
            self._running = None


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
        self._starts = FreshQuery(lambda: admin.ends(topic, partitions, earliest=True))
        self._ends = FreshQuery(lambda: admin.ends(topic, partitions))

    async def resolve(self, spec: StartSpec, group: str | None = None) -> Resolved:
        """`group`: the consumer group whose offsets `committed` means."""
        low, high = await asyncio.gather(self._starts(), self._ends())
        if spec.kind == "earliest":
            return Resolved(low)
        if spec.kind == "latest":
            return Resolved(high)
        if spec.kind == "time":
            return await self._resolve_time(spec, low, high)
        requested = self._requested(spec, low)
        if requested is None:
            requested = await self._committed_of(group, high)
        return within_log(requested, low, high)

    def _requested(self, spec: StartSpec, low: Positions) -> Positions | None:
        """The offsets an offset or a cursor asks for; None for `committed`."""
        if spec.kind == "offset":
            if len(self.partitions) != 1:
                raise BadParameterError(
                    "from",
                    f"a bare offset needs a single-partition topic; this one has "
                    f"{len(self.partitions)}: use a cursor P:O,...",
                )
            return {self.partitions[0]: spec.offset or 0}
        if spec.kind == "cursor":
            assert spec.cursor is not None
            unknown = set(spec.cursor) - set(self.partitions)
            if unknown:
                raise BadParameterError("from", f"the topic has no partition {sorted(unknown)}")
            # A partition missing from the cursor starts at its beginning: nothing is skipped.
            return {p: spec.cursor.get(p, low[p]) for p in self.partitions}
        return None

    async def _committed_of(self, group: str | None, high: Positions) -> Positions:
        if group is None or self._committed is None:
            raise BadParameterError("from", "committed is a durable client's position")
        committed = await self._committed(group, self.topic, self.partitions)
        # Partitions never acknowledged start at the end: a new durable client subscribes
        # from now on (from=earliest reads the history first).
        return {p: committed.get(p, high[p]) for p in self.partitions}

    async def _resolve_time(self, spec: StartSpec, low: Positions, high: Positions) -> Resolved:
        assert spec.time is not None
        # Kafka's timestamps start at 1970: an earlier time is before every record (earliest),
        # and the broker would refuse a negative one.
        at_ms = max(0, int(spec.time.timestamp() * 1000))
        found = await self._admin.offsets_at(self.topic, self.partitions, at_ms)
        return at_time(found, low, high)


def at_time(found: Positions, low: Positions, high: Positions) -> Resolved:
    """A time's positions from Kafka's offsets-for-times (`found`: the first offset at or after
    it, -1 where none is), and its gaps: where records were removed (log start > 0) and the first
    record at or after the time is the first the partition holds, or it holds none any more."""
    # -1: nothing at or after that time in this partition, so it starts at its end.
    positions = {p: found[p] if found[p] >= 0 else high[p] for p in found}
    gaps = tuple(
        PartitionGap(p, None, low[p])
        for p in sorted(found)
        if low[p] > 0 and positions[p] == low[p]
    )
    return Resolved(positions, gaps)


def within_log(requested: Positions, low: Positions, high: Positions) -> Resolved:
    """Requested offsets as the partitions hold them: below the log start is a gap (reading
    starts at the first available offset), above the end is reported and starts at the end."""
    gaps = tuple(
        PartitionGap(p, offset, low[p])
        for p, offset in sorted(requested.items())
        if offset < low[p]
    )
    beyond = tuple(
        PartitionBeyondEnd(p, offset, high[p])
        for p, offset in sorted(requested.items())
        if offset > high[p]
    )
    return Resolved({p: _clamp(o, low[p], high[p]) for p, o in requested.items()}, gaps, beyond)


def _clamp(offset: int, low: int, high: int) -> int:
    """An offset outside what the partition holds starts at its nearest end."""
    return min(max(offset, low), high)
