"""The gateway's frames as events, and which endings of a connection are final.

A connection ends with a close code (or without one, when it is lost); an `error` frame sent
just before says why. Auth failures and bad parameters are final: reconnecting would be refused
the same way; so is a takeover by a newer connection with the same `client_id` (4409): two
copies of one program must not take the stream from each other in turn. Everything else
(gateway restarting, lost Kafka, slow-consumer close, the key at one of its limits right now:
too many streams 4429, too many replays from Kafka 4430) is worth another attempt, after at
least the wait the gateway named (`retry_after_s`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sec_digester_client.errors import (
    AuthenticationError,
    BadParameterError,
    ClientError,
    ProtocolError,
    SupersededError,
)
from sec_digester_client.records import Delivery, FilingAnalysis


@dataclass(frozen=True, slots=True)
class Welcome:
    start: str  # the cursor the stream starts at (`from` resolved to offsets)


@dataclass(frozen=True, slots=True)
class Delivered:
    filing: FilingAnalysis


@dataclass(frozen=True, slots=True)
class PartitionGap:
    """In one partition, offsets the stream asked for that the topic no longer holds."""

    partition: int
    requested: int | None  # None: the start was a time (the removed records took its offset)
    first_available: int  # where the partition's stream goes on
    missing: int  # offsets gone (with a time: every record removed, some maybe before it)


@dataclass(frozen=True, slots=True)
class Gap:
    """A `gap` frame: records removed (retention, a topic created again) before this client
    read them. It comes before any record of the connection; the stream goes on at `cursor`."""

    topic: str
    partitions: tuple[PartitionGap, ...]
    cursor: str

    def describe(self) -> str:
        """For a person: what is gone, per partition, and where the stream goes on."""
        parts = []
        for gap in self.partitions:
            if gap.requested is None:
                gone = f"the {gap.missing} records before offset {gap.first_available}"
            else:
                gone = f"offsets {gap.requested}-{gap.first_available - 1} ({gap.missing})"
            parts.append(f"partition {gap.partition}: {gone}")
        return f"{self.topic} no longer holds {'; '.join(parts)}; going on from {self.cursor}"


@dataclass(frozen=True, slots=True)
class CaughtUp:
    cursor: str


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A `subscribe` took effect: the new filters apply to every record after `cursor`."""

    cursor: str
    filters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubscribeRefused:
    """A `subscribe` was refused (an `error` frame replying to it); the old filters stay and
    the stream goes on, so this never explains a close."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Refused:
    """An `error` frame: `cursor` is where to resume (4408, 1011, 4430), when the gateway knows
    it; `retry_after_s`, how long to wait at least before reconnecting, when it says (a key's
    limit: 4429, 4430)."""

    code: str
    message: str
    cursor: str | None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Closed:
    code: int | None  # None: no close frame (connection lost, or we gave up on it)
    reason: str
    refused: Refused | None  # the error frame that came before the close, if any


Event = (
    Welcome | Delivered | Gap | CaughtUp | Pong | Subscribed | SubscribeRefused | Refused | Closed
)

# A notice in the stream, not followed by a close: the gateway skipped a record it cannot
# decode and says so; `cursor` is past it.
UNDECODABLE = "undecodable_record"


def parse_frame(text: str | bytes) -> Event:
    try:
        frame: Any = json.loads(text)
        kind = frame["type"]
        if kind == "filing":
            delivery = Delivery(frame["cursor"], int(frame["partition"]), int(frame["offset"]))
            return Delivered(FilingAnalysis.from_json(frame["data"], delivery))
        if kind == "welcome":
            return Welcome(frame["from"])
        if kind == "gap":
            return _gap(frame)
        if kind == "caught_up":
            return CaughtUp(frame["cursor"])
        if kind == "pong":
            return Pong()
        if kind == "subscribed":
            return Subscribed(frame["cursor"], dict(frame["filters"]))
        if kind == "error" and frame.get("reply_to") == "subscribe":
            return SubscribeRefused(str(frame["code"]), str(frame.get("message", "")))
        if kind == "error":
            wait = frame.get("retry_after_s")
            return Refused(
                str(frame["code"]),
                str(frame.get("message", "")),
                frame.get("cursor"),
                None if wait is None else float(wait),
            )
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"unreadable frame from the gateway: {exc!r}") from exc
    raise ProtocolError(f"unknown frame type {kind!r} from the gateway")


def _gap(frame: dict[str, Any]) -> Gap:
    partitions = tuple(
        PartitionGap(
            partition=int(p["partition"]),
            requested=None if p["requested"] is None else int(p["requested"]),
            first_available=int(p["first_available"]),
            missing=int(p["missing"]),
        )
        for p in frame["partitions"]
    )
    return Gap(str(frame["topic"]), partitions, str(frame["cursor"]))


_FINAL_CLOSES: dict[int, type[ClientError]] = {
    4401: AuthenticationError,
    4400: BadParameterError,
    4404: BadParameterError,
    4409: SupersededError,
    # Our frames are a few bytes of JSON text: a refusal as too large, or as not text, means
    # client and gateway disagree.
    1009: ProtocolError,
    1003: ProtocolError,
}
_FINAL_CODES: dict[str, type[ClientError]] = {
    "unauthorized": AuthenticationError,
    "bad_parameter": BadParameterError,
    "unknown_topic": BadParameterError,
    "superseded": SupersededError,
    "unsupported_data": ProtocolError,
}


def final_error(closed: Closed) -> ClientError | None:
    """The error to raise for a connection that ended like this; None to reconnect."""
    refused = closed.refused
    kind = _FINAL_CODES.get(refused.code) if refused else None
    if kind is None and closed.code is not None:
        kind = _FINAL_CLOSES.get(closed.code)
    if kind is None:
        return None
    detail = refused.message if refused else closed.reason
    return kind(f"{detail} (close code {closed.code})" if closed.code else detail)


def handshake_error(status: int) -> ClientError | None:
    """The error for a handshake answered with HTTP `status`; None to retry (5xx, 408, 429)."""
    if status in {401, 403}:
        return AuthenticationError(f"the gateway refused the API key (HTTP {status})")
    if 400 <= status < 500 and status not in {408, 429}:
        return ProtocolError(f"the gateway refused the WebSocket handshake with HTTP {status}")
    return None
