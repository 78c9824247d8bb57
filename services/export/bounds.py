"""`--from` and `--to`: the same positions the gateway's `from` takes, turned into offset ranges.

Parsing and resolving are the ones the gateway uses (services/common/positions.py), so a
position means the same thing to `export` as to a stream client: earliest, latest, an offset
(single-partition topics), a cursor `P:O,...` or an ISO-8601 time (Kafka's offsets-for-times).
`--to` is exclusive, like a cursor: the first offset not exported. Without it, the export ends
at the end of every partition as it was when the export started, so it terminates on a live
topic.

A `--from` below a partition's log start (retention removed those records) exports from the
first available offset and the gaps are reported (`ExportPlan.gaps`), never passed over in
silence (and retention removing records while the export reads them fails it, services/export/
main.py); a `--from` past a partition's end is refused, as the gateway refuses it. A `--to` past
the end is a bound, and ends at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import BadParameterError
from services.common.kafka import KafkaAdmin
from services.common.positions import (
    PartitionGap,
    PositionResolver,
    Resolved,
    StartSpec,
    describe_beyond_end,
    parse_from,
)


@dataclass(frozen=True, slots=True)
class PartitionRange:
    partition: int
    start: int  # first offset exported
    end: int  # first offset not exported

    @property
    def size(self) -> int:
        """Offsets in the range (transaction markers take offsets too, so records <= size)."""
        return max(0, self.end - self.start)


def parse_bound(value: str | None, flag: str) -> StartSpec:
    """One of --from/--to; None (no --to) is the end of the topic at start."""
    if value is None:
        return StartSpec("latest")
    if value == "committed":
        raise BadParameterError(
            flag, "committed is a stream client's position; export has no client_id"
        )
    if value == "":
        raise BadParameterError(flag, "empty")
    try:
        return parse_from(value, client_id=None)
    except BadParameterError as exc:
        raise _as_flag(exc, flag) from exc


@dataclass(frozen=True, slots=True)
class ExportPlan:
    ranges: list[PartitionRange]
    gaps: tuple[PartitionGap, ...]  # what --from asked for that retention removed


async def resolve_ranges(
    admin: KafkaAdmin, topic: str, start: StartSpec, end: StartSpec
) -> ExportPlan:
    """Per partition, the offsets from `start` (inclusive) to `end` (exclusive)."""
    resolver = PositionResolver(admin, topic, await admin.partitions(topic))
    low = await _resolve(resolver, start, "--from")
    if low.beyond_end:
        raise BadParameterError(
            "--from", f"{describe_beyond_end(low.beyond_end)}: not a position of {topic}"
        )
    high = (await _resolve(resolver, end, "--to")).positions
    ranges = [PartitionRange(p, low.positions[p], high[p]) for p in resolver.partitions]
    return ExportPlan(ranges, low.gaps)


async def _resolve(resolver: PositionResolver, spec: StartSpec, flag: str) -> Resolved:
    try:
        return await resolver.resolve(spec)
    except BadParameterError as exc:  # e.g. a bare offset on a topic of several partitions
        raise _as_flag(exc, flag) from exc


def _as_flag(exc: BadParameterError, flag: str) -> BadParameterError:
    """The gateway names its query parameter ("from"); here the user typed a flag."""
    return BadParameterError(flag, str(exc).removeprefix(f"{exc.parameter}: "))
