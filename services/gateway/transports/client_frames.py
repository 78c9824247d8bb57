"""What a WebSocket client may send: `{"type": "ping"}`, `{"type": "ack", "cursor": C}` and
`{"type": "subscribe", <filters>}`.

Parsing is pure and raises `BadParameterError` naming what is wrong (4400); a binary frame is
refused before it gets here (`unsupported_data`, 1003: client frames are JSON text). A
subscribe frame's filters are parsed against the stream's topic (`parse_filter_fields`), by
the code that parses the query parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from services.common.errors import BadParameterError


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Ack:
    cursor: str  # parsed against the topic's partitions when it is committed


@dataclass(frozen=True, slots=True)
class Subscribe:
    fields: dict[str, Any]  # the frame without its `type`: the filters


def parse_client_frame(text: str) -> Ping | Ack | Subscribe:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadParameterError("frame", f"not JSON: {exc}") from exc
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "ping":
        return Ping()
    if kind == "ack":
        cursor = message.get("cursor")
        if not isinstance(cursor, str):
            raise BadParameterError("ack.cursor", "missing or not a string")
        return Ack(cursor)
    if kind == "subscribe":
        return Subscribe({name: value for name, value in message.items() if name != "type"})
    raise BadParameterError(
        "frame", f"unknown type {str(kind)[:40]!r}: send ack, ping or subscribe"
    )
